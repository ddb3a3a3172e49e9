"""`python -m benchmarks.capacity_tariff [--quick]` (what `scripts/bench capacity_tariff` runs)."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
