"""The accuracy corpus, per defect class, on SQLite, PostgreSQL and MariaDB: no miss and no false finding.

The corpus (``benchmarks/accuracy``) runs once, in child interpreters, on every database that answers (in
CI every one: an unreachable server fails the test); each class's cases are then judged as
``make accuracy`` judges them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REQUIRED, require_server

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "benchmarks" / "accuracy"
#: The defect classes of the accuracy issue (a case's docstring says "(item N)"), and "-": every other case.
FIXED = ("1", "2", "3", "4", "5", "6", "7", "8", "-")
DATABASES = {"sqlite": None, "postgresql": ("postgres", 5432), "mysql": ("mysql", 3306)}


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], list[Any]]:
    """Every case of the corpus run and judged, by (defect class, database)."""
    for server in DATABASES.values():
        if server is not None and server[0] in REQUIRED:
            require_server(server[0], "127.0.0.1", server[1])
    out = tmp_path_factory.mktemp("accuracy") / "results.json"
    done = subprocess.run(
        [sys.executable, str(CORPUS / "run.py"), "--json", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0 and out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    sys.path.insert(0, str(CORPUS))
    try:
        import _score
    finally:
        sys.path.remove(str(CORPUS))
    by_class: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for result in json.loads(out.read_text()):
        item = _score.judge(result)
        match = _score._ITEM.search(result["note"])
        by_class[(match[1] if match else "-", result["database"])].append(item)
    return by_class


@pytest.mark.parametrize("database", list(DATABASES))
@pytest.mark.parametrize("defect", FIXED)
def test_every_case_of_the_class_is_judged_right(
    judged: dict[tuple[str, str], list[Any]], defect: str, database: str
) -> None:
    """Each case of the class reports what a perfect tool reports on this database, and nothing else."""
    server = DATABASES[database]
    if server is not None and server[0] not in REQUIRED and not judged.get((defect, database)):
        require_server(server[0], "127.0.0.1", server[1])
    items = judged[(defect, database)]
    assert items, f"no case of class {defect} ran on {database}"
    wrong = [
        f"{i.result['case']}: missed {i.misses}, false {[(f['kind'], f['callsite']) for f in i.false]}"
        for i in items
        if i.misses or i.false or i.result.get("error")
    ]
    assert not wrong, "\n".join(wrong)
