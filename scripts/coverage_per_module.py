"""Fail unless every module of the integration is covered above the threshold.

Home Assistant's quality scale (test-coverage) asks for more than 95 % in every module, not
only in total: a total of 98 % can hide a module at 83 %. Run by `scripts/test` after pytest,
on the coverage data it left (lines and branches, as `[tool.coverage]` in pyproject.toml
measures them). Prints the modules under the threshold, lowest first.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

THRESHOLD = 95.0
"""Percent of lines and branches, per module."""
ROOT = Path(__file__).resolve().parents[1]


def module_coverage() -> dict[str, float]:
    """Return each measured module's covered percentage, from the coverage data left by pytest."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "coverage.json"
        subprocess.run(  # noqa: S603 - coverage on this repository's own data
            [sys.executable, "-m", "coverage", "json", "-q", "-o", str(report)],
            cwd=ROOT,
            check=True,
            timeout=300,
        )
        files = json.loads(report.read_text(encoding="utf-8"))["files"]
    return {name: float(data["summary"]["percent_covered"]) for name, data in files.items()}


def main() -> int:
    """Print the modules under the threshold; return 1 if there is one."""
    coverage = module_coverage()
    if not coverage:
        print("coverage per module: no coverage data (run pytest with --cov first)")
        return 1
    under = sorted((percent, name) for name, percent in coverage.items() if percent < THRESHOLD)
    for percent, name in under:
        print(f"coverage per module: {name} {percent:.1f} % (under {THRESHOLD:g} %)")
    lowest = min(coverage.values())
    print(
        f"coverage per module: {len(coverage)} modules, lowest {lowest:.1f} %, "
        f"{len(under)} under {THRESHOLD:g} %"
    )
    return 1 if under else 0


if __name__ == "__main__":
    sys.exit(main())
