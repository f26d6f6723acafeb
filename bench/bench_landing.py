"""Landing throughput: pre-fetched pages into Postgres with history, vs a plain COPY.

Pages of a generated brokerage (list items with details, and each loop's
participants) are built in memory first, as the client hands them over. Then:

- land_page, page after page (validation, then the page's transaction);
- the same with each next page prepared (validated, serialised, hashed) on a
  helper thread while Postgres lands the current one: prepare_page() holds
  no connection, so the two cores work at once;
- the same again over stored loops (a nightly run's pages, nothing changed);
- the same over stored loops whose summary and details all changed, so each
  page also moves two payloads a loop into payload_history;
- COPY of the same JSON text into an unindexed table: the practical ceiling.

Each figure is the best of --repeat runs into a fresh schema (dropped after
the run), with the CPU seconds of this process and of the Postgres backend per
loop beside it.

    .venv/bin/python -m bench.bench_landing [--loops 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import sql

from connector.secrets import Secret
from connector.simulator import generate_brokerage
from sync import db
from sync.landing import PreparedPage, land_page, land_prepared, prepare_page
from sync.payloads import parse_updated
from sync.settings import Settings

from .harness import scratch_database

BATCH = 100
DAY = timedelta(days=1)


@dataclass(frozen=True)
class PageToLand:
    """A fetched page and its participants."""

    profile_id: int
    items: list[Any]
    participants_by_loop: dict[int, Any]


@dataclass(frozen=True)
class Figure:
    """One measurement: wall seconds and CPU seconds of client and server."""

    wall: float
    client_cpu: float
    server_cpu: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pages, texts = build_pages(args.loops)
    loops = sum(len(page.items) for page in pages)
    # Other work on the machine takes the second core the overlap needs.
    print(
        f"{loops:,} loops in {len(pages)} pages of {BATCH}, on {os.cpu_count()} "
        f"CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    with scratch_database() as url:
        settings = Settings(database_url=Secret(url))
        copy = best(args.repeat, lambda: copy_json(settings, texts))
        runs = {
            "land_page, one page after another": lambda: land(settings, pages, False),
            "next page prepared on a second thread": lambda: land(
                settings, pages, True
            ),
            "the same, nothing changed": lambda: land_again(settings, pages),
            "the same, every loop changed": lambda: land_again(
                settings, pages, changed(pages)
            ),
        }
        report("COPY into an unindexed table", loops, copy, copy)
        for name, run in runs.items():
            report(name, loops, best(args.repeat, run), copy)


def build_pages(count: int) -> tuple[list[PageToLand], list[tuple[str, str]]]:
    """The company profile's pages as the client returns them, and their JSON."""
    data = generate_brokerage(count, seed=5)
    company = max(data.listings, key=lambda pid: len(data.listings[pid]))
    entries = list(data.listings[company].entries)
    pages: list[PageToLand] = []
    texts: list[tuple[str, str]] = []
    for start in range(0, len(entries), BATCH):
        batch = entries[start : start + BATCH]
        items = [
            {**entry.summary(), "details": entry.details_object()} for entry in batch
        ]
        people = {entry.loop_id: entry.participants()["data"] for entry in batch}
        pages.append(PageToLand(company, items, people))
        texts += [(json.dumps(i), json.dumps(people[i["id"]])) for i in items]
    return pages, texts


@contextmanager
def raw_schema(settings: Settings) -> Iterator[tuple[db.Connection, str]]:
    """A connection to a new raw schema, dropped afterwards.

    Dropping it discards its dirty buffers unwritten, so that no run pays for
    writing back what an earlier one landed.
    """
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    scoped = Settings(database_url=settings.database_url, raw_schema=schema)
    with db.connect(scoped) as conn:
        db.apply_schema(conn, scoped)
        conn.execute("SET synchronous_commit = off")
        try:
            yield conn, schema
        finally:
            conn.execute(
                sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema))
            )


def land(settings: Settings, pages: list[PageToLand], ahead: bool) -> Figure:
    with raw_schema(settings) as (conn, schema):
        return measure(conn, lambda: _land(conn, schema, pages, ahead))


def changed(pages: list[PageToLand]) -> list[PageToLand]:
    """The pages a day later: every loop updated, sold, at another price."""
    later: list[PageToLand] = []
    for page in pages:
        items = [
            {
                **item,
                "updated": (parse_updated(item["updated"]) + DAY).isoformat(),
                "status": "SOLD",
                "details": {**(item["details"] or {}), "Financials": {"Price": "1"}},
            }
            for item in page.items
        ]
        later.append(PageToLand(page.profile_id, items, page.participants_by_loop))
    return later


def land_again(
    settings: Settings, pages: list[PageToLand], again: list[PageToLand] | None = None
) -> Figure:
    """Land pages, then measure landing again (the same pages by default)."""
    with raw_schema(settings) as (conn, schema):
        _land(conn, schema, pages, True)
        return measure(conn, lambda: _land(conn, schema, again or pages, True))


def _land(
    conn: db.Connection, schema: str, pages: list[PageToLand], ahead: bool
) -> None:
    now = datetime.now(UTC)
    if not ahead:
        for page in pages:
            land_page(
                conn,
                schema=schema,
                run_id=None,
                profile_id=page.profile_id,
                items=page.items,
                participants_by_loop=page.participants_by_loop,
                now=now,
            )
        return
    for prepared in prepared_ahead(pages, now):
        land_prepared(conn, schema, prepared)


def prepared_ahead(pages: list[PageToLand], now: datetime) -> Iterator[PreparedPage]:
    """prepare_page() of each page, the next one running while this one lands."""

    def prepare(page: PageToLand) -> PreparedPage:
        return prepare_page(
            profile_id=page.profile_id,
            run_id=None,
            items=page.items,
            participants_by_loop=page.participants_by_loop,
            now=now,
        )

    # A thread waiting for the GIL gets it only after the holder has run for
    # the switch interval (5 ms by default). The lander waits on Postgres a few
    # times a page and, back each time, would wait out most of the preparing
    # thread's work: half a millisecond keeps the two threads working at once.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    try:
        with ThreadPoolExecutor(1) as preparer:
            upcoming = [preparer.submit(prepare, page) for page in pages[:1]]
            for index in range(len(pages)):
                current = upcoming.pop().result()
                if index + 1 < len(pages):
                    upcoming.append(preparer.submit(prepare, pages[index + 1]))
                yield current
    finally:
        sys.setswitchinterval(interval)


def copy_json(settings: Settings, texts: list[tuple[str, str]]) -> Figure:
    table = sql.Identifier(f"copy_{uuid.uuid4().hex[:8]}")
    with db.connect(settings) as conn:
        conn.execute(
            sql.SQL("CREATE TABLE {} (item jsonb, people jsonb)").format(table)
        )

        def copy() -> None:
            statement = sql.SQL("COPY {} (item, people) FROM STDIN").format(table)
            with conn.cursor().copy(statement) as target:
                for row in texts:
                    target.write_row(row)

        try:
            return measure(conn, copy)
        finally:
            conn.execute(sql.SQL("DROP TABLE {}").format(table))


def measure(conn: db.Connection, work: Callable[[], None]) -> Figure:
    row = conn.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    backend = int(row[0])
    server, client, wall = (
        cpu_seconds(backend),
        time.process_time(),
        time.perf_counter(),
    )
    work()
    return Figure(
        wall=time.perf_counter() - wall,
        client_cpu=time.process_time() - client,
        server_cpu=cpu_seconds(backend) - server,
    )


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a local process (the Postgres backend)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def best(repeat: int, run: Callable[[], Figure]) -> Figure:
    return min((run() for _ in range(repeat)), key=lambda figure: figure.wall)


def report(name: str, loops: int, figure: Figure, copy: Figure) -> None:
    rate = loops / figure.wall
    print(
        f"{name:<40} {rate:>9,.0f} loops/s  {copy.wall / figure.wall:5.2f} of COPY  "
        f"(us/loop: client CPU {figure.client_cpu / loops * 1e6:5.1f}, "
        f"Postgres CPU {figure.server_cpu / loops * 1e6:5.1f})"
    )


if __name__ == "__main__":
    main()
