"""`python -m benchmarks.closed_loop [--quick]` (what `scripts/bench closed_loop` runs)."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
