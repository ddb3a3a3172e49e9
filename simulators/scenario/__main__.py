"""`python -m simulators.scenario FILE [--json] [--every N]`: see `simulators.scenario.cli`."""

import os
import sys

from .cli import main

if __name__ == "__main__":
    try:
        STATUS = main()
        sys.stdout.flush()
    except BrokenPipeError:  # piped into head: stop quietly, as a shell tool does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        STATUS = 0
    sys.exit(STATUS)
