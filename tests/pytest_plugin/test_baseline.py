"""``--queryguard-baseline``: known findings pass, new ones fail, and updating the baseline rewrites it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from queryguard_pytest._baseline import Baseline, site_key

from .conftest import Run, write
from .test_suite import SUITE

BASELINE = "--queryguard-baseline=qg-baseline.json"


def _tests(path: Path) -> dict[str, list[dict[str, object]]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema"] == "queryguard-baseline" and data["version"] == 1
    return data["tests"]  # type: ignore[no-any-return]


def test_create_then_pass(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """Updating records the failing findings; the next run passes them and says they are known."""
    write(sqlite_shop, SUITE)
    result = run(BASELINE, "--queryguard-update-baseline")
    result.assert_outcomes(passed=4, failed=1)  # only the test's own failure
    result.stdout.fnmatch_lines(
        ["queryguard: baseline qg-baseline.json updated: 3 known findings in 3 tests"]
    )
    path = sqlite_shop.path / "qg-baseline.json"
    tests = _tests(path)
    assert sorted(tests) == [
        "test_shop.py::test_fails_on_its_own",
        "test_shop.py::test_loop",
        "test_shop.py::test_renames",
    ]
    [entry] = tests["test_shop.py::test_loop"]
    assert entry["kind"] == "n_plus_one"
    assert entry["callsite"] == "shop.py in book_list"
    assert entry["sql"] == "SELECT name FROM author WHERE id = ?"
    assert entry["occurrences"] == 1 and len(str(entry["fingerprint"])) == 16
    assert str(sqlite_shop.path) not in path.read_text(encoding="utf-8")

    result = run(BASELINE)
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        ["queryguard: 5 tests analysed, 14 queries, 4 findings (1 reported, 3 known)"]
    )


def test_new_finding_fails_and_edits_elsewhere_do_not(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """A new N+1 fails its test; lines added above a known one (an unrelated edit) keep it known."""
    write(sqlite_shop, SUITE)
    run(BASELINE, "--queryguard-update-baseline")
    shop = sqlite_shop.path / "shop.py"
    shop.write_text("# a comment\n\n\n" + shop.read_text(encoding="utf-8"), encoding="utf-8")
    tests = sqlite_shop.path / "test_shop.py"
    tests.write_text(
        tests.read_text(encoding="utf-8").replace(
            "book_list_joined(db)\n", "book_list_joined(db)\n    rename_all(db)\n"
        ),
        encoding="utf-8",
    )
    result = run(BASELINE)
    result.assert_outcomes(passed=3, failed=2)
    result.stdout.fnmatch_lines(
        [
            "queryguard: test_joined ran 5 queries with 1 write loop (none allowed)",
            "  write loop: 3x UPDATE author SET name = ? WHERE id = ?   shop.py:20 in rename_all",
        ]
    )
    result.stdout.fnmatch_lines(
        ["FAILED test_shop.py::test_joined - *", "FAILED test_shop.py::test_fails_on_its_own - *"]
    )


def test_update_replaces_only_what_ran_to_its_end(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """A fixed test loses its entry; deselected tests and tests that failed on their own keep theirs."""
    write(sqlite_shop, SUITE)
    run(BASELINE, "--queryguard-update-baseline")
    path = sqlite_shop.path / "qg-baseline.json"
    first = path.read_bytes()
    run(BASELINE, "--queryguard-update-baseline")
    assert path.read_bytes() == first  # stable from run to run
    tests = sqlite_shop.path / "test_shop.py"
    source = tests.read_text(encoding="utf-8")
    source = source.replace(
        "def test_loop(db):\n    book_list(db)", "def test_loop(db):\n    book_list_joined(db)"
    )
    source = source.replace(
        'assert False, "the test\'s own failure"', 'rename_all(db)\n    assert False, "again"'
    )
    tests.write_text(source, encoding="utf-8")
    result = run(BASELINE, "--queryguard-update-baseline", "-k", "not test_renames")
    result.stdout.fnmatch_lines(
        ["queryguard: baseline qg-baseline.json updated: 3 known findings in 2 tests"]
    )
    entries = _tests(path)
    assert "test_shop.py::test_loop" not in entries
    assert [e["kind"] for e in entries["test_shop.py::test_renames"]] == ["write_loop"]
    assert sorted(str(e["kind"]) for e in entries["test_shop.py::test_fails_on_its_own"]) == [
        "n_plus_one",
        "write_loop",
    ]


def test_unreadable_baseline_is_a_usage_error(pytester: pytest.Pytester, run: Run) -> None:
    """A baseline that is not queryguard's JSON stops the run and names the file."""
    write(pytester, {"test_a.py": "def test_a():\n    pass\n", "qg-baseline.json": "{not json"})
    result = run(BASELINE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*queryguard: cannot read the baseline *qg-baseline.json: *"])


def test_site_key_drops_the_line_and_is_relative_to_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``path:line in function`` becomes ``path in function`` relative to the root, whatever the cwd."""
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "views.py").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path / "shop")
    assert site_key("views.py:42 in book_list", tmp_path) == "shop/views.py in book_list"
    assert site_key("templates/list.html:3", tmp_path) == "templates/list.html"
    assert site_key("", tmp_path) == ""


def test_known_counts_occurrences(tmp_path: Path) -> None:
    """A key known once excuses one finding with that key, not two."""
    key = ("n_plus_one", "shop/views.py in book_list", "abc")
    baseline = Baseline({"t.py::test": Counter({key: 1})})
    assert baseline.known("t.py::test", [key, key]) == [True, False]
    assert baseline.known("t.py::other", [key]) == [False]


def test_update_prunes_tests_whose_file_is_gone(tmp_path: Path) -> None:
    """Entries of a deleted test file go; complete tests are replaced, incomplete ones only grow."""
    (tmp_path / "test_kept.py").write_text("", encoding="utf-8")
    old = ("write_loop", "a.py in f", "1")
    new = ("n_plus_one", "a.py in g", "2")
    baseline = Baseline(
        {
            "test_kept.py::test_complete": Counter({old: 1}),
            "test_kept.py::test_incomplete": Counter({old: 1}),
            "test_gone.py::test": Counter({old: 1}),
        }
    )
    baseline.update(
        [
            ("test_kept.py::test_complete", Counter({new: 1}), True),
            ("test_kept.py::test_incomplete", Counter({new: 1}), False),
        ],
        tmp_path,
        {new: "SELECT ?"},
    )
    assert baseline.tests == {
        "test_kept.py::test_complete": Counter({new: 1}),
        "test_kept.py::test_incomplete": Counter({old: 1, new: 1}),
    }
    assert '"sql": "SELECT ?"' in baseline.to_json()
