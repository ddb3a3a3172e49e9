"""`python -m benchmarks.recorder [--quick] [--minutes N]` (what `scripts/bench recorder` runs)."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
