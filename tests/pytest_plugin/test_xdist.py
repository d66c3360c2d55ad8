"""pytest-xdist: workers judge their tests, the controller alone summarises and writes report and baseline."""

from __future__ import annotations

import json

import pytest

from .conftest import Run, write
from .test_suite import SUITE


def test_workers_fail_and_controller_aggregates(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """With ``-n 2`` the failures, the summary and the report are those of a serial run."""
    write(sqlite_shop, SUITE)
    result = run("-n", "2", "--queryguard", "--queryguard-report=qg.json")
    result.assert_outcomes(passed=2, failed=3)
    result.stdout.fnmatch_lines(["created: 2/2 workers", "*2 workers [[]5 items[]]*"])
    result.stdout.fnmatch_lines(["queryguard: test_loop ran 4 queries with 1 N+1 loop (none allowed)"])
    result.stdout.fnmatch_lines(
        [
            "N+1 (2 tests)",
            "queryguard: 5 tests analysed (2 failed by queryguard), 14 queries, 4 findings "
            "(3 failing, 1 reported)",
        ]
    )
    data = json.loads((sqlite_shop.path / "qg.json").read_text(encoding="utf-8"))
    assert sorted(unit["unit"] for unit in data["units"]) == [
        "test_shop.py::test_fails_on_its_own",
        "test_shop.py::test_joined",
        "test_shop.py::test_loop",
        "test_shop.py::test_renames",
        "test_shop.py::test_star",
    ]


def test_baseline_is_the_same_as_a_serial_run(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """The controller writes the same baseline as a serial run, and workers read it to pass known findings."""
    write(sqlite_shop, SUITE)
    run("--queryguard-baseline=serial.json", "--queryguard-update-baseline")
    run("-n", "2", "--queryguard-baseline=parallel.json", "--queryguard-update-baseline")
    assert (sqlite_shop.path / "parallel.json").read_bytes() == (
        sqlite_shop.path / "serial.json"
    ).read_bytes()
    result = run("-n", "2", "--queryguard-baseline=parallel.json")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        ["queryguard: 5 tests analysed, 14 queries, 4 findings (1 reported, 3 known)"]
    )


def test_crashed_worker_never_prunes_the_baseline(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """A test whose worker died keeps its known findings; the tests that ran are updated."""
    write(sqlite_shop, SUITE)
    run("--queryguard-baseline=qg.json", "--queryguard-update-baseline")
    tests = sqlite_shop.path / "test_shop.py"
    source = tests.read_text(encoding="utf-8")
    source = source.replace(
        "def test_loop(db):\n    book_list(db)",
        "def test_loop(db):\n    book_list_joined(db)\n    import os; os._exit(1)",
    )
    source = source.replace(
        "def test_renames(db):\n    rename_all(db)", "def test_renames(db):\n    book_list_joined(db)"
    )
    tests.write_text(source, encoding="utf-8")
    result = run("-n", "2", "--queryguard-baseline=qg.json", "--queryguard-update-baseline")
    result.stdout.fnmatch_lines(["*worker 'gw*' crashed while running 'test_shop.py::test_loop'*"])
    baseline = json.loads((sqlite_shop.path / "qg.json").read_text(encoding="utf-8"))["tests"]
    assert sorted(baseline) == ["test_shop.py::test_fails_on_its_own", "test_shop.py::test_loop"]
