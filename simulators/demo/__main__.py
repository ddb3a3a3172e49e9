"""`python -m simulators.demo` (what `scripts/demo` runs): see `simulators.demo`."""

import os
import sys

from . import main

if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
