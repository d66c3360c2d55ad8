"""`make accuracy`: queryguard's findings on the accuracy corpus against those a perfect tool reports.

Each case is a small piece of Django, SQLAlchemy (sync and async) or raw DB-API code, run on a real database
inside ``queryguard.capture()``; the findings it should produce are written as ``# expect:`` comments on the
lines they are about (see ``_corpus.py``). Every case runs on SQLite; those that do not depend on one
database also run on PostgreSQL and MariaDB when their servers answer (databases ``queryguard_accuracy`` and
``queryguard_accuracy_other``, created and dropped here). Each ORM on each database runs in a fresh
interpreter (Django is configured once per process).

Prints precision and recall per ORM and per database, then every miss and every false positive. The exit
status is 0 whatever the numbers: this is a measurement, not a test.

    python benchmarks/accuracy/run.py [--orm django] [--database sqlite] [--case substring] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
for folder in (HERE, ROOT / "src", ROOT / "integrations"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import _corpus  # noqa: E402
import _score  # noqa: E402
import _servers  # noqa: E402


def main(argv: list[str]) -> int:
    """Run the corpus and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orm", choices=_corpus.ORMS, action="append")
    parser.add_argument("--database", choices=_corpus.DATABASES, action="append")
    parser.add_argument("--case", default="", help="only the cases whose name contains this")
    parser.add_argument("--json", type=Path, help="also write every result to this file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    notes: list[str] = []
    skipped: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="qg-accuracy-") as scratch:
        folder = Path(scratch)
        for database in args.database or _corpus.DATABASES:
            why = _servers.reachable(database)
            if why:
                notes.append(f"{database}: not run ({why})")
                continue
            _servers.create(database, folder)
            try:
                for orm in args.orm or list(_corpus.MODULES_BY_ORM):
                    ran = _child(orm, database, folder, args.case, notes)
                    results += ran.get("results", [])
                    skipped += [{**s, "database": database} for s in ran.get("skipped", [])]
            finally:
                _servers.drop(database)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    print("\n".join(report(results, skipped, notes, time.perf_counter() - started)))
    return 0


def _child(orm: str, database: str, folder: Path, only: str, notes: list[str]) -> dict[str, Any]:
    out = folder / f"{orm}-{database}.json"
    command = [sys.executable, __file__, "--child", orm, database, str(folder), only, str(out)]
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    if done.returncode != 0 or not out.exists():
        tail = "\n    ".join(done.stdout.strip().splitlines()[-15:])
        notes.append(f"{orm} on {database}: the run failed (exit {done.returncode}):\n    {tail}")
        return {}
    loaded: dict[str, Any] = json.loads(out.read_text())
    return loaded


def report(
    results: list[dict[str, Any]], skipped: list[dict[str, str]], notes: list[str], took: float
) -> list[str]:
    """The printed report."""
    judged = [_score.judge(result) for result in results]
    counts = _score.tallies(judged)
    cases: dict[str, set[str]] = {orm: set() for orm in _corpus.ORMS}
    negatives: dict[str, set[str]] = {orm: set() for orm in _corpus.ORMS}
    for result in results:
        cases[result["orm"]].add(result["case"])
        if not result["expected"]:
            negatives[result["orm"]].add(result["case"])
    total = sum(map(len, cases.values()))
    total_negatives = sum(map(len, negatives.values()))
    lines = [
        "# queryguard accuracy corpus",
        "",
        f"{total} cases ({total_negatives} negatives), {len(results)} runs in {took:.0f} s: "
        + ", ".join(f"{orm} {len(cases[orm])} ({len(negatives[orm])} negatives)" for orm in _corpus.ORMS),
        "runs per database: "
        + ", ".join(f"{db} {counts[('', db)].cases}" for db in _corpus.DATABASES if counts[("", db)].cases),
        "",
    ]
    lines += _score.table(
        [(orm, counts[(orm, "")]) for orm in _corpus.ORMS if counts[(orm, "")].cases], "ORM"
    )
    lines.append("")
    lines += _score.table(
        [(db, counts[("", db)]) for db in _corpus.DATABASES if counts[("", db)].cases], "database"
    )
    lines.append("")
    grid = [
        (f"{orm} on {db}", counts[(orm, db)])
        for orm in _corpus.ORMS
        for db in _corpus.DATABASES
        if counts[(orm, db)].cases
    ]
    lines += _score.table([*grid, ("all", counts[("", "")])], "ORM and database")
    lines += ["", *_score.by_item(judged)]
    lines += ["", "Targets (issue 13): precision 1.00 and recall >= 0.97 on both ORMs.", ""]
    lines += _score.listing(judged)
    if skipped:
        lines += ["", f"### Not run ({len(skipped)})", ""]
        by_reason: dict[str, list[str]] = {}
        for item in skipped:
            key = f"{item['database']}: {item['reason']}"
            by_reason.setdefault(key, []).append(f"{item['orm']}/{item['case']}")
        lines += [f"* {reason}: {', '.join(names)}" for reason, names in by_reason.items()]
    if notes:
        lines += ["", "### Notes", "", *[f"* {note}" for note in notes]]
    return lines


def _run_child(orm: str, database: str, folder: str, only: str, out: str) -> int:
    import _execute

    result = _execute.run(orm, database, Path(folder), only)
    Path(out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        raise SystemExit(_run_child(*sys.argv[2:7]))
    raise SystemExit(main(sys.argv[1:]))
