"""The command line's log handler masks secrets in every record."""

from __future__ import annotations

import contextlib
import io
import logging

import pytest

from sync.logs import RedactingFilter, configure_logging


@pytest.mark.parametrize(
    ("message", "args", "secret"),
    [
        ("connecting to %s", ("postgresql://app:pg-secret@db/x",), "pg-secret"),
        ("token response %s", ('{"access_token": "tok-123"}',), "tok-123"),
        ("header Authorization: Bearer %s", ("abc.def.ghi",), "abc.def.ghi"),
    ],
)
def test_filter_masks_secrets_in_formatted_messages(
    message: str, args: tuple[str, ...], secret: str
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger(f"test.logs.{secret}")
    logger.addHandler(handler)
    logger.propagate = False

    logger.warning(message, *args)

    assert secret not in stream.getvalue()
    assert "**********" in stream.getvalue()


def test_filter_masks_secrets_in_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test.logs.traceback")
    logger.addHandler(handler)
    logger.propagate = False

    try:
        raise RuntimeError("could not reach postgresql://app:tb-secret@db/x")
    except RuntimeError:
        logger.exception("failed")

    assert "tb-secret" not in stream.getvalue()
    assert "RuntimeError" in stream.getvalue()


def test_log_lines_go_to_stderr_as_it_is_when_written() -> None:
    first, later = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(first):
        configure_logging("INFO")
    first.close()

    with contextlib.redirect_stderr(later):
        logging.getLogger("test.logs.stderr").info("synced %d loops", 3)

    (line,) = later.getvalue().splitlines()
    assert line.endswith("INFO    test.logs.stderr: synced 3 loops")
