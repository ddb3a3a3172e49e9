"""`python -m benchmarks.plans [--quick]` (what `scripts/bench plans` runs)."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
