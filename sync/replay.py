"""`replay`: rebuild the reporting model from the stored payloads, no requests.

Every payload a sync landed is kept whole as jsonb, once (the current ones in
the raw loop and profile tables, every distinct earlier one in payload_history;
the payload_version view shows both), and the reporting views parse them when
queried. So a field added to a dataset spec, say `Referral Source`, appears for
every loop ever synced as soon as the views are applied again: replay needs no
Dotloop connection at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from psycopg import sql

from .db import apply_schema, connect, storage_errors
from .settings import Settings
from .views import apply_views

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplayResult:
    """How much stored data the rebuilt views cover: loops, distinct payloads."""

    loops: int
    payloads: int


def replay(settings: Settings) -> ReplayResult:
    """Apply the reporting views again over the stored payloads."""
    with connect(settings) as conn:
        apply_schema(conn, settings)
        apply_views(conn, settings)
        query = sql.SQL(
            "SELECT (SELECT count(*) FROM {loop}), (SELECT count(*) FROM {history})"
        ).format(
            loop=sql.Identifier(settings.raw_schema, "loop"),
            history=sql.Identifier(settings.raw_schema, "payload_version"),
        )
        with storage_errors("count the stored payloads"):
            row = conn.execute(query).fetchone()
    loops, payloads = row if row is not None else (0, 0)
    logger.info(
        "reporting views rebuilt from %d stored loops (%d distinct payloads), "
        "no requests sent",
        loops,
        payloads,
    )
    return ReplayResult(loops=int(loops), payloads=int(payloads))
