"""Run the simulator on its own: `python -m connector.simulator --help`."""

import sys

from .cli import main

sys.exit(main())
