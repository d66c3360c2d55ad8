"""``--queryguard``: every test analysed, failing kinds, the terminal summary and the report files."""

from __future__ import annotations

import json

import pytest

from .conftest import Run, write

SUITE = {
    "test_shop.py": """
        from shop import book_list, book_list_joined, rename_all, star

        def test_loop(db):
            book_list(db)

        def test_joined(db):
            book_list_joined(db)

        def test_star(db):
            star(db, 1)

        def test_renames(db):
            rename_all(db)

        def test_fails_on_its_own(db):
            book_list(db)
            assert False, "the test's own failure"
    """
}


def test_queryguard_option_fails_only_the_failing_kinds(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """N+1 and write loops fail their test; SELECT * is only reported; the summary groups by kind and site."""
    write(sqlite_shop, SUITE)
    result = run("--queryguard")
    result.assert_outcomes(passed=2, failed=3)
    result.stdout.fnmatch_lines(
        [
            "_*_ test_loop _*_",
            "queryguard: test_loop ran 4 queries with 1 N+1 loop (none allowed)",
            "  N+1: 3x SELECT name FROM author WHERE id = ?   shop.py:4 in book_list",
            "       fix: load the rows in one query*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*- queryguard -*",
            "N+1 (2 tests)",
            "  shop.py:4 in book_list: 6x SELECT name FROM author WHERE id = ?",
            "      fix: load the rows in one query*",
            "      failing: test_shop.py::test_loop, test_shop.py::test_fails_on_its_own",
            "write loop (1 test)",
            "  shop.py:17 in rename_all: 3x UPDATE author SET name = ? WHERE id = ?",
            "      fix: *",
            "      failing: test_shop.py::test_renames",
            "SELECT [*] (1 test)",
            "  shop.py:21 in star: 1x SELECT [*] FROM book WHERE id = ?",
            "      fix: *",
            "      reported: test_shop.py::test_star",
            "queryguard: 5 tests analysed (2 failed by queryguard), 14 queries, 4 findings "
            "(3 failing, 1 reported)",
        ]
    )
    result.stdout.fnmatch_lines(["E       AssertionError: the test's own failure"])
    result.stdout.no_fnmatch_line("queryguard: test_fails_on_its_own*")


def test_fail_on_changes_the_failing_kinds(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """``--queryguard-fail-on`` picks the kinds that fail; ``none`` only reports."""
    write(sqlite_shop, SUITE)
    result = run("--queryguard", "--queryguard-fail-on=select_star")
    result.assert_outcomes(passed=3, failed=2)
    result.stdout.fnmatch_lines(["queryguard: test_star ran 1 query with 1 SELECT [*] (none allowed)"])
    result = run("--queryguard", "--queryguard-fail-on=none")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["queryguard: 5 tests analysed, 14 queries, 4 findings (4 reported)"])


def test_without_the_option_nothing_is_analysed(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """The plugin does nothing for tests that use neither fixture nor marker: no failure, no summary."""
    write(sqlite_shop, SUITE)
    result = run()
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.no_fnmatch_line("*- queryguard -*")
    result.stdout.no_fnmatch_line("queryguard: *")


def test_bad_options_are_usage_errors(pytester: pytest.Pytester, run: Run) -> None:
    """An unknown kind, a report extension or a missing baseline path stop the run with a clear message."""
    write(pytester, {"test_a.py": "def test_a():\n    pass\n"})
    result = run("--queryguard-fail-on=n_plus_one,n_plus_2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--queryguard-fail-on: unknown finding kind 'n_plus_2'; valid kinds: n_plus_one, *"]
    )
    result = run("--queryguard-report=out.xml")
    result.stderr.fnmatch_lines(["*--queryguard-report=out.xml: unknown extension; use one of .json, .html*"])
    result = run("--queryguard-update-baseline")
    result.stderr.fnmatch_lines(["*--queryguard-update-baseline needs --queryguard-baseline=PATH*"])


@pytest.mark.parametrize("name", ["report.json", "report.html", "report.sarif"])
def test_report_files(sqlite_shop: pytest.Pytester, run: Run, name: str) -> None:
    """The report holds every finding of the run, in the format its extension names, without values."""
    write(sqlite_shop, SUITE)
    result = run("--queryguard", f"--queryguard-report=out/{name}")
    result.stdout.fnmatch_lines([f"queryguard: report written to out/{name}"])
    text = (sqlite_shop.path / "out" / name).read_text(encoding="utf-8")
    assert "renamed" not in text and "author 1" not in text
    if name.endswith(".json"):
        data = json.loads(text)
        assert data["summary"]["by_kind"] == {"n_plus_one": 2, "write_loop": 1, "select_star": 1}
        units = {unit["unit"]: unit for unit in data["units"]}
        assert units["test_shop.py::test_loop"]["query_count"] == 4
        assert units["test_shop.py::test_loop"]["findings"][0]["callsite"] == "shop.py:4 in book_list"
    elif name.endswith(".sarif"):
        assert {r["ruleId"] for r in json.loads(text)["runs"][0]["results"]} >= {"n_plus_one", "write_loop"}
    else:
        assert "test_shop.py::test_loop" in text and "shop.py:4 in book_list" in text


def test_ini_options(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """``queryguard = true``, ``queryguard_fail_on`` and ``queryguard_report`` work like the options."""
    write(sqlite_shop, SUITE)
    write(
        sqlite_shop,
        {
            "pytest.ini": """
                [pytest]
                queryguard = true
                queryguard_fail_on = write_loop
                queryguard_report = reports/queryguard.json
            """
        },
    )
    result = run()
    result.assert_outcomes(passed=3, failed=2)
    result.stdout.fnmatch_lines(["queryguard: test_renames ran 4 queries with 1 write loop (none allowed)"])
    assert (sqlite_shop.path / "reports" / "queryguard.json").exists()
    run("--queryguard-fail-on=none").assert_outcomes(passed=4, failed=1)


def test_a_test_failed_by_several_findings_counts_once(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """The summary's count of failed tests is pytest's: one test with an N+1 and a write loop is one."""
    write(
        sqlite_shop,
        {
            "test_both.py": """
                from shop import book_list, rename_all

                def test_both(db):
                    book_list(db)
                    rename_all(db)
            """
        },
    )
    result = run("--queryguard")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "queryguard: test_both ran 8 queries with 2 findings (*) (none allowed)",
            "queryguard: 1 test analysed (1 failed by queryguard), 8 queries, 2 findings (2 failing)",
        ]
    )
