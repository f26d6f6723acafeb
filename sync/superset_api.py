"""A small client of the Superset REST API: bundles, lookups, chart data.

Superset wants a bearer token from /api/v1/security/login on every call, and
on writes also a CSRF token fetched with the same cookie jar. Errors from
httpx and from Superset are mapped here, once, to SupersetError (BundleError
when Superset rejects a bundle). Passwords and tokens are never logged.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, Literal

import httpx

from connector.secrets import Secret, redact

from .errors import BundleError, SupersetError

logger = logging.getLogger(__name__)

AssetKind = Literal["chart", "dashboard", "dataset", "database"]

_PAGE_SIZE = 100
_EXCERPT = 300
# Columns each listing returns; "name" is the one lookups by name compare.
_LISTINGS: dict[AssetKind, tuple[str, ...]] = {
    "chart": ("id", "uuid", "slice_name", "viz_type"),
    "dashboard": ("id", "uuid", "dashboard_title", "slug"),
    "dataset": ("id", "uuid", "table_name", "schema"),
    "database": ("id", "uuid", "database_name"),
}
_NAME_COLUMN: dict[AssetKind, str] = {
    "chart": "slice_name",
    "dashboard": "dashboard_title",
    "dataset": "table_name",
    "database": "database_name",
}


class SupersetClient:
    """One logged-in API session with a Superset; use as a context manager."""

    def __init__(
        self,
        url: str,
        username: str,
        password: Secret,
        *,
        timeout: float = 120.0,
        http: httpx.Client | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.username = username
        self._password = password
        self._http = http or httpx.Client(timeout=timeout)
        self._owns_http = http is None
        self._access_token: Secret | None = None
        self._csrf_token: Secret | None = None

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> SupersetClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def login(self) -> None:
        """Fetch a bearer token and a CSRF token (the session cookie stays here)."""
        body = {
            "username": self.username,
            "password": self._password.reveal(),
            "provider": "db",
            "refresh": False,
        }
        response = self._send("POST", "/api/v1/security/login", json=body, auth=False)
        if response.status_code == 401:
            raise SupersetError(
                f"Superset at {self.url} refused the login of {self.username!r}; "
                "check SUPERSET_USERNAME and SUPERSET_PASSWORD",
                status_code=401,
            )
        self._access_token = Secret(_json(self._check(response))["access_token"])
        csrf = self._send("GET", "/api/v1/security/csrf_token/")
        self._csrf_token = Secret(_json(self._check(csrf))["result"])
        logger.info("logged in to Superset at %s as %s", self.url, self.username)

    def import_bundle(self, path: Path, passwords: Mapping[str, str]) -> None:
        """Import a bundle zip, overwriting what it holds (databases to dashboards).

        `passwords` maps a database file's path inside the bundle to its password.
        The assets endpoint always overwrites, so git stays the source of truth.
        """
        data = {"passwords": json.dumps(dict(passwords))}
        with path.open("rb") as bundle:
            files = {"bundle": (path.name, bundle.read(), "application/zip")}
        response = self._request(
            "POST", "/api/v1/assets/import/", data=data, files=files
        )
        status = response.status_code
        if 400 <= status < 500 and status != 401:
            raise BundleError(
                f"Superset rejected the bundle {path.name} ({status}): "
                f"{_excerpt(response, 2000)}",
                status_code=status,
            )
        if status >= 500:
            # Superset 6.1 answers most invalid bundles with a bare 500 and
            # writes the reason (file and key) only to its own log.
            raise SupersetError(
                f"Superset failed to import {path.name} ({status}); its log "
                "names the file and key it refused",
                status_code=status,
            )
        self._check(response)
        logger.info("imported bundle %s into %s", path.name, self.url)

    def list_assets(self, kind: AssetKind) -> list[dict[str, Any]]:
        """Every chart, dashboard, dataset or database: id, uuid and name."""
        columns = _LISTINGS[kind]
        rows: list[dict[str, Any]] = []
        page = 0
        while True:
            query = (
                f"(columns:!({','.join(columns)}),page:{page},page_size:{_PAGE_SIZE})"
            )
            body = _json(self._get(f"/api/v1/{kind}/", params={"q": query}))
            batch = body.get("result") or []
            rows.extend(batch)
            if len(batch) < _PAGE_SIZE:
                return rows
            page += 1

    def find_id(
        self, kind: AssetKind, *, uuid: str | None = None, name: str | None = None
    ) -> int:
        """The id of the one asset of `kind` with this uuid or name."""
        if (uuid is None) == (name is None):
            raise ValueError("give exactly one of uuid and name")
        key, wanted = ("uuid", uuid) if uuid is not None else (_NAME_COLUMN[kind], name)
        found = [row for row in self.list_assets(kind) if str(row.get(key)) == wanted]
        if len(found) != 1:
            raise SupersetError(
                f"expected one {kind} with {key} {wanted!r} in {self.url}, "
                f"found {len(found)}"
            )
        return int(found[0]["id"])

    def chart_id(self, *, uuid: str | None = None, name: str | None = None) -> int:
        return self.find_id("chart", uuid=uuid, name=name)

    def dashboard_id(self, *, uuid: str | None = None, name: str | None = None) -> int:
        return self.find_id("dashboard", uuid=uuid, name=name)

    def chart(self, chart_id: int) -> dict[str, Any]:
        """One chart as Superset stores it: params, query_context, dataset."""
        result: dict[str, Any] = _json(self._get(f"/api/v1/chart/{chart_id}"))["result"]
        return result

    def database(self, database_id: int) -> dict[str, Any]:
        """One database connection's settings (its password is never returned)."""
        body = _json(self._get(f"/api/v1/database/{database_id}"))
        result: dict[str, Any] = body["result"]
        return result

    def chart_data(self, chart_id: int) -> dict[str, Any]:
        """Run a chart's stored query_context; the response's JSON body."""
        return _json(self._get(f"/api/v1/chart/{chart_id}/data/"))

    def export_dashboards(self, dashboard_ids: Sequence[int]) -> dict[str, bytes]:
        """Superset's export of dashboards with their charts, datasets, database.

        The files by path inside the zip's root folder (metadata.yaml,
        dashboards/..., charts/...); Superset masks database passwords.
        """
        query = f"!({','.join(str(int(i)) for i in dashboard_ids)})"
        response = self._get("/api/v1/dashboard/export/", params={"q": query})
        try:
            with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
                return {
                    PurePosixPath(*PurePosixPath(name).parts[1:]).as_posix(): (
                        bundle.read(name)
                    )
                    for name in bundle.namelist()
                    if not name.endswith("/")
                }
        except zipfile.BadZipFile as exc:
            raise SupersetError(
                f"Superset's dashboard export is not a zip file ({exc})"
            ) from exc

    def embed_dashboard(self, dashboard_id: int, allowed_domains: Sequence[str]) -> str:
        """Allow embedding a dashboard; returns its embedded uuid (per Superset)."""
        response = self._request(
            "POST",
            f"/api/v1/dashboard/{dashboard_id}/embedded",
            json={"allowed_domains": list(allowed_domains)},
        )
        return str(_json(self._check(response))["result"]["uuid"])

    def embedded_uuid(self, dashboard_id: int) -> str | None:
        """The dashboard's embedded uuid, or None when it is not embedded."""
        response = self._request("GET", f"/api/v1/dashboard/{dashboard_id}/embedded")
        if response.status_code == 404:
            return None
        return str(_json(self._check(response))["result"]["uuid"])

    def guest_token(
        self,
        embedded_uuid: str,
        *,
        rls: Sequence[Mapping[str, Any]] = (),
        username: str = "guest",
    ) -> Secret:
        """A guest token for one embedded dashboard, with row-level clauses."""
        body = {
            "user": {"username": username},
            "resources": [{"type": "dashboard", "id": embedded_uuid}],
            "rls": [dict(rule) for rule in rls],
        }
        response = self._request("POST", "/api/v1/security/guest_token/", json=body)
        return Secret(_json(self._check(response))["token"])

    def guest_chart_data(
        self, token: Secret, query_context: Mapping[str, Any]
    ) -> dict[str, Any]:
        """POST a chart data request as an embedded guest (no session cookie)."""
        with httpx.Client(timeout=self._http.timeout) as guest:
            try:
                response = guest.post(
                    f"{self.url}/api/v1/chart/data",
                    json=dict(query_context),
                    headers={"X-GuestToken": token.reveal()},
                )
            except httpx.HTTPError as exc:
                raise self._unreachable(exc) from exc
        return _json(self._check(response))

    def roles(self) -> list[dict[str, Any]]:
        """Every role: id, name, permission_ids, user_ids."""
        return self._pages("/api/v1/security/roles/search/")

    def permission_views(self) -> list[tuple[int, str, str]]:
        """Every (id, permission, view) pair a role can be given."""
        rows = self._pages("/api/v1/security/permissions-resources/")
        return [
            (int(r["id"]), r["permission"]["name"], r["view_menu"]["name"])
            for r in rows
        ]

    def create_role(self, name: str) -> int:
        """Create an empty role; its id."""
        response = self._request("POST", "/api/v1/security/roles/", json={"name": name})
        return int(_json(self._check(response))["id"])

    def set_role_permissions(self, role_id: int, permission_ids: Sequence[int]) -> None:
        """Replace the role's permissions with exactly these (permission, view) ids."""
        body = {"permission_view_menu_ids": sorted(set(permission_ids))}
        response = self._request(
            "POST", f"/api/v1/security/roles/{role_id}/permissions", json=body
        )
        self._check(response)

    def get_json(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """GET any API path; the answer's JSON body."""
        return _json(self._get(path, params=params))

    def put_json(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """PUT a JSON body to any API path, as a UI edit does; the answer."""
        return _json(self._check(self._request("PUT", path, json=dict(body))))

    def post_json(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST a JSON body to any API path; the answer's JSON body."""
        return _json(self._check(self._request("POST", path, json=dict(body))))

    def _pages(self, path: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page = 0
        while True:
            query = f"(page:{page},page_size:{_PAGE_SIZE})"
            batch = _json(self._get(path, params={"q": query})).get("result") or []
            rows.extend(batch)
            if len(batch) < _PAGE_SIZE:
                return rows
            page += 1

    def _get(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> httpx.Response:
        return self._check(self._request("GET", path, params=params))

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self._access_token is None:
            self.login()
        response = self._send(method, path, **kwargs)
        if response.status_code == 401:
            # Access tokens expire (15 minutes by default): log in once more.
            self.login()
            response = self._send(method, path, **kwargs)
        return response

    def _send(
        self, method: str, path: str, *, auth: bool = True, **kwargs: Any
    ) -> httpx.Response:
        headers = {"Referer": self.url}
        if auth and self._access_token is not None:
            headers["Authorization"] = f"Bearer {self._access_token.reveal()}"
        if method != "GET" and self._csrf_token is not None:
            headers["X-CSRFToken"] = self._csrf_token.reveal()
        try:
            response = self._http.request(
                method, self.url + path, headers=headers, **kwargs
            )
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc
        logger.debug("%s %s -> %d", method, path, response.status_code)
        return response

    def _check(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            raise SupersetError(
                f"Superset answered {response.status_code} to "
                f"{response.request.method} {response.request.url.path}: "
                f"{_excerpt(response)}",
                status_code=response.status_code,
            )
        return response

    def _unreachable(self, exc: httpx.HTTPError) -> SupersetError:
        return SupersetError(f"could not reach Superset at {self.url}: {exc}")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise SupersetError(
            f"Superset answered {response.request.url.path} with a body that is "
            f"not JSON: {_excerpt(response)}",
            status_code=response.status_code,
        ) from None
    if not isinstance(body, dict):
        raise SupersetError(f"unexpected answer to {response.request.url.path}")
    return body


def _excerpt(response: httpx.Response, limit: int = _EXCERPT) -> str:
    if "html" in response.headers.get("content-type", ""):
        return "(an HTML error page; see the Superset log)"
    return redact(response.text[:limit]).replace("\n", " ")
