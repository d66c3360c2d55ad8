"""`make bench`: every benchmark, each against a bare run measured in the same process run."""

from __future__ import annotations

import importlib
import platform
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

MODULES = ["bench_core", "bench_sqlalchemy", "bench_django", "bench_explain"]


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def main() -> int:
    """Run the benchmarks and print one Markdown table."""
    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    print()
    print("| benchmark | bare (s) | with queryguard (s) | ratio | measured | target |")
    print("|---|---|---|---|---|---|")
    for name in MODULES:
        module = importlib.import_module(name)
        for row in module.run():
            print(
                f"| {row['name']} | {_fmt(row.get('bare_s'))} | {_fmt(row.get('instrumented_s'))} "
                f"| {_fmt(row.get('ratio'), 2)}{'x' if row.get('ratio') else ''} | {row.get('value', '')} "
                f"| {row.get('target', '')} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
