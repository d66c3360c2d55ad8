"""The ``@pytest.mark.queryguard(...)`` marker: budgets, forbidden and allowed kinds, settings."""

from __future__ import annotations

import pytest

from .conftest import Run, write


def test_max_queries_budget(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """Over ``max_queries`` fails after the body with the count and what repeated; within it passes."""
    write(
        sqlite_shop,
        {
            "test_budget.py": """
                import pytest
                from shop import book_list, book_list_joined

                @pytest.mark.queryguard(max_queries=1)
                def test_joined(db):
                    book_list_joined(db)

                @pytest.mark.queryguard(max_queries=2)
                def test_book_list(db):
                    book_list(db)
            """
        },
    )
    result = run()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "_*_ test_book_list _*_",
            "queryguard: test_book_list ran 4 queries (at most 2 allowed)",
            "  N+1: 3x SELECT name FROM author WHERE id = ?   shop.py:4 in book_list",
            "       fix: load the rows in one query*",
            "FAILED test_budget.py::test_book_list - Failed: queryguard: test_book_list ran 4 queries (at "
            "most 2 allowed)",
        ]
    )
    # The plugin's failure is its message alone: no traceback through pytest's or queryguard's frames.
    result.stdout.no_fnmatch_line("*pluggy/*")
    result.stdout.no_fnmatch_line("*queryguard_pytest/*")


def test_budget_fix_in_the_summary_names_the_write_loop(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """With ``--queryguard``, a budget spent by a write loop says to fix that write loop, not "the N+1"."""
    write(
        sqlite_shop,
        {
            "test_budget.py": """
                import pytest
                from shop import rename_all

                @pytest.mark.queryguard(max_queries=2)
                def test_renames(db):
                    rename_all(db)
            """
        },
    )
    result = run("--queryguard")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "budget (1 test)",
            "  ran 4 queries (at most 2 allowed); most frequent: 3x author from shop.py:17 in rename_all*",
            "      fix: fix the write loop at shop.py:17 in rename_all (3 of 4 statements) first; "
            "the unit needs fewer statements",
        ]
    )
    result.stdout.no_fnmatch_line("*N+1*")


def test_forbid_and_allow(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """A forbidden kind fails the test; an allowed one (with its reason) is not even reported."""
    write(
        sqlite_shop,
        {
            "test_kinds.py": """
                import pytest
                from shop import book_list, rename_all

                pytestmark = pytest.mark.queryguard(forbid=["n_plus_one", "write_loop"])

                def test_loop(db):
                    book_list(db)

                @pytest.mark.queryguard(allow=["write_loop"], reason="renames one by one to fire signals")
                def test_allowed_write_loop(db, queryguard):
                    rename_all(db)
                    assert queryguard.findings == []

                def test_forbidden_write_loop(db):
                    rename_all(db)
            """
        },
    )
    result = run()
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "queryguard: test_loop ran 4 queries with 1 N+1 loop (none allowed)",
            "  N+1: 3x SELECT name FROM author WHERE id = ?   shop.py:4 in book_list",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "queryguard: test_forbidden_write_loop ran 4 queries with 1 write loop (none allowed)",
            "  write loop: 3x UPDATE author SET name = ? WHERE id = ?   shop.py:17 in rename_all",
        ]
    )


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (
            'allow=["select_star"]',
            "allow=[[]'select_star'] needs a reason: "
            "@pytest.mark.queryguard(allow=[[]'select_star'], reason='why this test may do it')",
        ),
        ('forbid=["n_plus_2"]', "forbid has unknown kind 'n_plus_2'; valid kinds: n_plus_one, *"),
        ("max_queries=-1", "max_queries must be an integer >= 0, got -1"),
        (
            "n_plus_one_treshold=3",
            "unknown setting 'n_plus_one_treshold' (did you mean 'n_plus_one_threshold'?); valid settings: *",
        ),
        ("5", "takes keyword arguments only, got (5,)"),
    ],
)
def test_marker_mistakes_are_setup_errors(
    pytester: pytest.Pytester, run: Run, marker: str, message: str
) -> None:
    """A mistake in the marker is an error at setup that says what is wrong and how to write it."""
    write(
        pytester,
        {
            "test_mistake.py": f"""
                import pytest

                @pytest.mark.queryguard({marker})
                def test_marked():
                    pass
            """
        },
    )
    result = run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["_*_ ERROR at setup of test_marked _*_", f"queryguard marker of test_marked: {message}"]
    )


def test_marker_settings_reach_the_detectors(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """Other keywords are settings: a higher N+1 threshold lets a three-row loop pass."""
    write(
        sqlite_shop,
        {
            "test_settings.py": """
                import pytest
                from shop import book_list

                @pytest.mark.queryguard(forbid=["n_plus_one"], n_plus_one_threshold=4)
                def test_three_rows(db, queryguard):
                    book_list(db)
                    queryguard.assert_no_n_plus_one()
            """
        },
    )
    run().assert_outcomes(passed=1)


def test_marker_is_registered(pytester: pytest.Pytester, run: Run) -> None:
    """``--strict-markers`` accepts the marker and ``--markers`` documents it."""
    write(
        pytester, {"test_strict.py": "import pytest\n\n@pytest.mark.queryguard()\ndef test_a():\n    pass\n"}
    )
    run("--strict-markers").assert_outcomes(passed=1)
    run("--markers").stdout.fnmatch_lines(["@pytest.mark.queryguard(max_queries=None, *reason=*"])


def test_max_db_time_budget(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """Over ``max_db_time_ms`` fails with the time spent against the limit."""
    write(
        sqlite_shop,
        {
            "test_time.py": """
                import pytest

                COUNT = (
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
                    "SELECT count(*) FROM n"
                )

                @pytest.mark.queryguard(max_db_time_ms=0)
                def test_slow_enough(db):
                    db.execute(COUNT).fetchall()
            """
        },
    )
    result = run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["queryguard: test_slow_enough spent * ms in the database (at most 0 ms allowed)"]
    )
