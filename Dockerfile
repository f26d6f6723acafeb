# The dotloop-reporter image: one image, several commands (worker, sync,
# views apply, bundle build/import, status, simulator, portal serve). The
# Helm chart in helm/dotloop-reporter runs it; build it from the repository
# root:
#   docker build -t dotloop-reporter:0.1.0 .
# Set EXTRAS=superset to add Superset itself (not needed by any command the
# chart runs; it makes the image about 1 GB larger).

# `portal serve` hands browsers the Superset embedded SDK from
# portal/node_modules, installed exactly as portal/package-lock.json pins it.
# Only the installed packages leave this stage; node itself does not.
FROM node:20-slim AS portal
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /portal
COPY portal/package.json portal/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim AS build
ARG EXTRAS=""
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
RUN python -m venv /opt/venv
COPY pyproject.toml constraints.txt README.md ./
COPY connector/ connector/
COPY sync/ sync/
COPY datasets/ datasets/
COPY dashboards_export/ dashboards_export/
COPY superset_config/ superset_config/
COPY portal/ portal/
COPY --from=portal /portal/node_modules portal/node_modules
# Editable, so the code keeps finding datasets/, dashboards_export/ and portal/
# beside its packages in /app (the settings locate them from the source tree).
RUN /opt/venv/bin/pip install --constraint constraints.txt \
        --editable ".${EXTRAS:+[$EXTRAS]}" \
    && /opt/venv/bin/python -m compileall -q /app/connector /app/sync

FROM python:3.11-slim
# A fixed numeric uid, so Kubernetes' runAsNonRoot can check it.
ARG UID=10001
RUN groupadd --system --gid "$UID" reporter \
    && useradd --system --uid "$UID" --gid reporter --no-create-home \
        --home-dir /tmp --shell /usr/sbin/nologin reporter \
    && mkdir -p /var/lib/dotloop-reporter \
    && chown reporter:reporter /var/lib/dotloop-reporter
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    DOTLOOP_REPORTER_DATA_DIR=/var/lib/dotloop-reporter
WORKDIR /app
USER 10001:10001
# Huey's consumer finishes its running tasks on SIGINT (SIGTERM stops them
# at once); Kubernetes and Docker send the image's stop signal.
STOPSIGNAL SIGINT
# `health` only checks that Postgres and Redis answer; it writes nothing.
HEALTHCHECK --interval=2m --timeout=30s --start-period=30s --retries=3 \
    CMD ["dotloop-reporter", "health"]
ENTRYPOINT ["dotloop-reporter"]
CMD ["worker"]
