"""Errors of the simulator.

SimulatorError
├── FixtureError      a fixture directory cannot be read
└── RequestRejected   a request the simulated API answers with a 4xx
"""

from __future__ import annotations


class SimulatorError(Exception):
    """Root of every error raised by the simulator."""


class FixtureError(SimulatorError):
    """A fixture directory is missing or unreadable; the message names the path."""


class RequestRejected(SimulatorError):
    """A request the simulated API refuses; carries the HTTP status and error code."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
