"""Landing throughput: pre-fetched pages into Postgres with history, vs a plain COPY.

Pages of a generated brokerage (list items with details, and each loop's
participants) are built in memory first, as the client hands them over. Then:

- land_page, page after page (validation, then the page's transaction);
- the same with each next page prepared (validated, serialised, hashed) on a
  helper thread while Postgres lands the current one: prepare_page() holds
  no connection, so the two cores work at once;
- the same again over stored loops (a nightly run's pages, nothing changed);
- COPY of the same JSON text into an unindexed table: the practical ceiling.

Each figure is the best of --repeat runs into a fresh schema, with the CPU
seconds of this process and of the Postgres backend per loop beside it.

    .venv/bin/python bench/bench_landing.py [--loops 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg import sql

from connector.secrets import Secret
from connector.simulator import generate_brokerage
from sync import db
from sync.landing import PreparedPage, land_page, land_prepared, prepare_page
from sync.settings import Settings

from .harness import scratch_database

BATCH = 100


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


def land(settings: Settings, pages: list[PageToLand], ahead: bool) -> Figure:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    scoped = Settings(database_url=settings.database_url, raw_schema=schema)
    with db.connect(scoped) as conn:
        db.apply_schema(conn, scoped)
        conn.execute("SET synchronous_commit = off")
        return measure(conn, lambda: _land(conn, schema, pages, ahead))


def land_again(settings: Settings, pages: list[PageToLand]) -> Figure:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    scoped = Settings(database_url=settings.database_url, raw_schema=schema)
    with db.connect(scoped) as conn:
        db.apply_schema(conn, scoped)
        conn.execute("SET synchronous_commit = off")
        _land(conn, schema, pages, True)
        return measure(conn, lambda: _land(conn, schema, pages, True))


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

    with ThreadPoolExecutor(1) as preparer:
        upcoming = [preparer.submit(prepare, page) for page in pages[:1]]
        for index in range(len(pages)):
            current = upcoming.pop().result()
            if index + 1 < len(pages):
                upcoming.append(preparer.submit(prepare, pages[index + 1]))
            yield current


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

        return measure(conn, copy)


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
