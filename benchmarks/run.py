"""`make bench`: every benchmark, each against a bare run measured in the same process run.

Each benchmark module runs in a fresh interpreter: what one leaves behind (a million events' worth of freed
memory, caches, instrumented engines) does not weigh on the next one's measurements.
"""

from __future__ import annotations

import importlib
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

MODULES = [
    "bench_core",
    "bench_sqlalchemy",
    "bench_django",
    "bench_explain",
    "bench_explain_asgi",
    "bench_loopwatch",
]


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
        for row in _run_apart(name):
            print(
                f"| {row['name']} | {_fmt(row.get('bare_s'))} | {_fmt(row.get('instrumented_s'))} "
                f"| {_fmt(row.get('ratio'), 2)}{'x' if row.get('ratio') else ''} | {row.get('value', '')} "
                f"| {row.get('target', '')} |",
                flush=True,
            )
    return 0


def _run_apart(name: str) -> list[dict[str, Any]]:
    """The rows of benchmark module ``name``, measured in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, __file__, "--module", name], check=True, stdout=subprocess.PIPE, text=True
    )
    rows: list[dict[str, Any]] = json.loads(done.stdout.splitlines()[-1])
    return rows


def _print_rows(name: str) -> int:
    rows = importlib.import_module(name).run()
    print(json.dumps(rows), flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--module"]:
        raise SystemExit(_print_rows(sys.argv[2]))
    raise SystemExit(main())
