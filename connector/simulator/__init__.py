"""A local HTTP simulator of the Dotloop public API v2."""

from .config import SimulatorConfig
from .data import SimulatedData
from .errors import FixtureError, RequestRejected, SimulatorError
from .fixtures import load_fixtures
from .generate import generate_brokerage
from .server import Simulator

__all__ = [
    "FixtureError",
    "RequestRejected",
    "SimulatedData",
    "Simulator",
    "SimulatorConfig",
    "SimulatorError",
    "generate_brokerage",
    "load_fixtures",
]
