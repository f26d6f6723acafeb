"""A local HTTP simulator of the Dotloop public API v2."""

from .config import SimulatorConfig
from .data import SimulatedData
from .errors import FixtureError, RequestRejected, SimulatorError
from .faults import FaultConfig, build_faults
from .fixtures import load_fixtures
from .generate import generate_brokerage
from .server import Simulator

__all__ = [
    "FaultConfig",
    "FixtureError",
    "RequestRejected",
    "SimulatedData",
    "Simulator",
    "SimulatorConfig",
    "SimulatorError",
    "build_faults",
    "generate_brokerage",
    "load_fixtures",
]
