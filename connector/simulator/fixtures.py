"""Load a directory of captured API responses, laid out by API path.

    profile.json                              GET /profile
    profile/<pid>/loop.json                   every loop of the profile, one envelope
    profile/<pid>/loop/<lid>/detail.json      GET .../loop/<lid>/detail
    profile/<pid>/loop/<lid>/participant.json GET .../loop/<lid>/participant
    account.json                              GET /account (optional)

Files are served as they are, broken ones included, so that the product meets
what a real capture holds. A loop's detail and participant files may sit under
any one of the profiles that see it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .data import (
    Body,
    JsonObject,
    LoopListing,
    RawBody,
    SimulatedData,
    date_timestamp,
    envelope_item,
    envelope_list,
    parse_loop_id,
    parse_loose_date,
    parse_timestamp,
)
from .errors import FixtureError

logger = logging.getLogger(__name__)

DEFAULT_ACCOUNT: JsonObject = {"id": 1, "email": "owner@example.com"}


class StoredLoop:
    """A loop item from a captured loop.json, with its captured detail files."""

    def __init__(
        self, item: Any, detail: RawBody | None, participants: RawBody | None
    ) -> None:
        fields = item if isinstance(item, dict) else {}
        self._item = item
        self._detail = detail
        self._participants = participants
        self._details = _details_data(detail)
        self.loop_id = parse_loop_id(fields.get("id"))
        self.created = parse_timestamp(fields.get("created"))
        self.updated = parse_timestamp(fields.get("updated"))
        self.closing = _closing_timestamp(self._details)
        self.transaction_type = _text(fields.get("transactionType"))
        self.status = _text(fields.get("status"))

    def summary(self) -> Any:
        return self._item

    def detail(self) -> Body | None:
        return self._detail

    def participants(self) -> Body | None:
        return self._participants

    def details_object(self) -> JsonObject | None:
        return self._details


class _LoopFiles:
    """Every detail and participant file, found by profile and loop id."""

    def __init__(self, root: Path) -> None:
        self._files: dict[tuple[str, int], dict[str, Path]] = {}
        for path in sorted(root.glob("profile/*/loop/*/*.json")):
            loop_dir = path.parent
            loop_id = parse_loop_id(loop_dir.name)
            if loop_id is not None:
                key = (loop_dir.parent.parent.name, loop_id)
                self._files.setdefault(key, {})[path.name] = path

    def read(self, profile: str, loop_id: int, name: str) -> RawBody | None:
        """The profile's own file, else the one another profile holds."""
        own = self._files.get((profile, loop_id), {}).get(name)
        if own is not None:
            return _read(own)
        for (_, other_id), files in self._files.items():
            if other_id == loop_id and name in files:
                return _read(files[name])
        return None


def load_fixtures(path: Path) -> SimulatedData:
    """Serve the captured responses under `path` (raises FixtureError if absent)."""
    root = Path(path)
    if not root.is_dir():
        raise FixtureError(f"fixture directory {root} does not exist")
    profiles_file = root / "profile.json"
    profile_dirs = _profile_dirs(root)
    profiles = _read(profiles_file) if profiles_file.is_file() else None
    profile_ids = set(profile_dirs) | _listed_profile_ids(profiles)
    files = _LoopFiles(root)
    listings = {
        pid: _listing(root, profile_dirs.get(pid), files) for pid in profile_ids
    }
    account_file = root / "account.json"
    logger.info("loaded fixtures from %s: %d profiles", root, len(listings))
    return SimulatedData(
        account=_read(account_file)
        if account_file.is_file()
        else envelope_item(DEFAULT_ACCOUNT),
        profiles=profiles or envelope_list({"id": pid} for pid in sorted(profile_ids)),
        listings=listings,
    )


def _profile_dirs(root: Path) -> dict[int, str]:
    found: dict[int, str] = {}
    for directory in sorted((root / "profile").glob("*")):
        profile_id = parse_loop_id(directory.name)
        if directory.is_dir() and profile_id is not None:
            found[profile_id] = directory.name
    return found


def _listed_profile_ids(profiles: RawBody | None) -> set[int]:
    parsed = profiles.parse() if profiles else None
    items = parsed.get("data") if isinstance(parsed, dict) else None
    if not isinstance(items, list):
        return set()
    ids = (parse_loop_id(item.get("id")) for item in items if isinstance(item, dict))
    return {profile_id for profile_id in ids if profile_id is not None}


def _listing(root: Path, directory: str | None, files: _LoopFiles) -> LoopListing:
    loops_file = root / "profile" / (directory or "-") / "loop.json"
    if directory is None or not loops_file.is_file():
        return LoopListing([])
    body = _read(loops_file)
    parsed = body.parse()
    items = parsed.get("data") if isinstance(parsed, dict) else None
    if not isinstance(items, list):
        logger.warning("serving %s as it is: not a loop list envelope", loops_file)
        return LoopListing([], raw=body)
    meta = parsed.get("meta")
    hide_total = isinstance(meta, dict) and meta.get("total") == -1
    return LoopListing(
        [_stored(item, directory, files) for item in items], hide_total=hide_total
    )


def _stored(item: Any, directory: str, files: _LoopFiles) -> StoredLoop:
    loop_id = parse_loop_id(item.get("id")) if isinstance(item, dict) else None
    if loop_id is None:
        return StoredLoop(item, None, None)
    return StoredLoop(
        item,
        files.read(directory, loop_id, "detail.json"),
        files.read(directory, loop_id, "participant.json"),
    )


def _read(path: Path) -> RawBody:
    try:
        return RawBody(path.read_bytes())
    except OSError as exc:
        raise FixtureError(f"cannot read fixture {path}: {exc}") from exc


def _details_data(detail: RawBody | None) -> JsonObject | None:
    parsed = detail.parse() if detail else None
    data = parsed.get("data") if isinstance(parsed, dict) else None
    return data if isinstance(data, dict) else None


def _closing_timestamp(details: JsonObject | None) -> float | None:
    dates = details.get("Contract Dates") if details else None
    if not isinstance(dates, dict):
        return None
    closing = parse_loose_date(dates.get("Closing Date"))
    return None if closing is None else date_timestamp(closing)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
