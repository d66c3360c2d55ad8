"""The ``queryguard`` fixture: each assertion's passing run and its failure output."""

from __future__ import annotations

import pytest

from .conftest import Run, write


def test_assert_max_queries(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """Within the limit passes; over it fails with the count, the N+1 shape, its call site and fix."""
    write(
        sqlite_shop,
        {
            "test_books.py": """
                from shop import book_list, book_list_joined

                def test_joined(db, queryguard):
                    book_list_joined(db)
                    queryguard.assert_max_queries(1)

                def test_book_list(db, queryguard):
                    book_list(db)
                    queryguard.assert_max_queries(2)
            """
        },
    )
    result = run()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            ">       queryguard.assert_max_queries(2)",
            "E       *QueryGuardViolation: queryguard: test_book_list ran 4 queries (at most 2 allowed)",
            "E         N+1: 3x SELECT name FROM author WHERE id = ?   shop.py:4 in book_list",
            "E              fix: load the rows in one query (a JOIN, or WHERE id IN (...) with every id)*",
            "FAILED test_books.py::test_book_list - *",
        ]
    )
    result.stdout.no_fnmatch_line("*statements in order*")


def test_verbose_lists_every_statement(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """With -v the failure lists every statement of the test body in order, values never shown."""
    write(
        sqlite_shop,
        {
            "test_books.py": """
                from shop import book_list

                def test_book_list(db, queryguard):
                    book_list(db)
                    queryguard.assert_max_queries(2)
            """
        },
    )
    result = run("-v")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       *QueryGuardViolation: queryguard: test_book_list ran 4 queries (at most 2 allowed)",
            "E         N+1: 3x SELECT name FROM author WHERE id = ?   shop.py:4 in book_list",
            "E              fix: *",
            "E         statements in order (4):",
            "E             1  SELECT id, title, author_id FROM book   shop.py:3 in book_list",
            "E             2  SELECT name FROM author WHERE id = ?   shop.py:4 in book_list",
            "E             3  SELECT name FROM author WHERE id = ?   shop.py:4 in book_list",
            "E             4  SELECT name FROM author WHERE id = ?   shop.py:4 in book_list",
        ]
    )
    result.stdout.no_fnmatch_line("*author 1*")


def test_fixture_setup_is_not_counted(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """The statements of fixture setup (creating and filling tables) are outside the capture."""
    write(
        sqlite_shop,
        {
            "test_setup.py": """
                def test_nothing_ran(db, queryguard):
                    queryguard.assert_queries(0)
                    assert queryguard.queries == []

                def test_one_ran(db, queryguard):
                    db.execute("SELECT 1").fetchall()
                    queryguard.assert_queries(1)
                    assert [event.sql for event in queryguard.queries] == ["SELECT 1"]
                    assert queryguard.query_count == 1
                    assert queryguard.findings == []
                    assert queryguard.report.to_dict()["units"][0]["query_count"] == 1
            """
        },
    )
    run().assert_outcomes(passed=2)


def test_assert_queries_counts_by_kind(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """Exact totals and per-kind counts pass; each wrong count is named in the failure."""
    write(
        sqlite_shop,
        {
            "test_kinds.py": """
                from shop import rename_all

                def test_counts(db, queryguard):
                    rename_all(db)
                    queryguard.assert_queries(4, select=1, update=3, insert=0, delete=0)
                    queryguard.assert_queries(max=4)

                def test_wrong_counts(db, queryguard):
                    rename_all(db)
                    queryguard.assert_queries(2, select=1, update=1)

                def test_over_max(db, queryguard):
                    rename_all(db)
                    queryguard.assert_queries(max=3)
            """
        },
    )
    result = run()
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "E       *QueryGuardViolation: queryguard: test_wrong_counts ran 4 queries (2 expected), 3 "
            "UPDATEs (1 expected)",
            "E         write loop: 3x UPDATE author SET name = ? WHERE id = ?   shop.py:17 in rename_all",
            "E                     fix: *",
        ]
    )
    result.stdout.fnmatch_lines(["E       *: queryguard: test_over_max ran 4 queries (at most 3 allowed)"])


def test_using_counts_one_database(pytester: pytest.Pytester, run: Run) -> None:
    """``using=`` counts the statements of one database alias and names it in the failure."""
    write(
        pytester,
        {
            "test_using.py": """
                import sqlite3
                from queryguard import dbapi

                def test_two_databases(queryguard):
                    main = dbapi.instrument(sqlite3.connect(":memory:"), alias="default")
                    other = dbapi.instrument(sqlite3.connect(":memory:"), alias="replica")
                    main.execute("SELECT 1")
                    other.execute("SELECT 2")
                    other.execute("SELECT 3")
                    queryguard.assert_max_queries(1, using="default")
                    queryguard.assert_queries(2, using="replica")
                    queryguard.assert_max_queries(1, using="replica")
            """
        },
    )
    result = run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            'E       *: queryguard: test_two_databases ran 2 queries on "replica" (at most 1 allowed)',
            "E         1x SELECT ?   test_using.py:8 in test_two_databases",
            "E         1x SELECT ?   test_using.py:9 in test_two_databases",
        ]
    )


def test_assert_no_n_plus_one(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """A JOIN passes; a loop of lookups fails naming the N+1."""
    write(
        sqlite_shop,
        {
            "test_loops.py": """
                from shop import book_list, book_list_joined

                def test_joined(db, queryguard):
                    book_list_joined(db)
                    queryguard.assert_no_n_plus_one()

                def test_loop(db, queryguard):
                    book_list(db)
                    queryguard.assert_no_n_plus_one()
            """
        },
    )
    result = run()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       *: queryguard: test_loop ran 4 queries with 1 N+1 loop (none allowed)",
            "E         N+1: 3x SELECT name FROM author WHERE id = ?   shop.py:4 in book_list",
        ]
    )


def test_assert_no_findings(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """Only the named kinds fail; with no kind, every finding does; an unknown kind is an error."""
    write(
        sqlite_shop,
        {
            "test_findings.py": """
                import pytest
                import queryguard
                from shop import rename_all

                def test_other_kind(db, queryguard):
                    db.execute("SELECT * FROM book").fetchall()
                    queryguard.assert_no_findings("n_plus_one", "write_loop")

                def test_any_kind(db, queryguard):
                    db.execute("SELECT * FROM book").fetchall()
                    rename_all(db)
                    queryguard.assert_no_findings()

                def test_unknown_kind(queryguard):
                    error = "unknown finding kind 'n_plus_2'"
                    with pytest.raises(queryguard.ConfigurationError, match=error):
                        queryguard.assert_no_findings("n_plus_2")
            """
        },
    )
    result = run()
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "E       *: queryguard: test_any_kind ran 5 queries with 2 findings (1 write loop, 1 SELECT "
            "[*]) (none allowed)",
            "E         write loop: 3x UPDATE author SET name = ? WHERE id = ?   shop.py:17 in rename_all",
            "E                     fix: *",
            "E         SELECT [*]: 1x SELECT [*] FROM book   test_findings.py:10 in test_any_kind",
        ]
    )


def test_assert_constant_queries(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """A JOIN runs as many queries at every scale; a loop grows with n and the growing shape is named."""
    write(
        sqlite_shop,
        {
            "test_scale.py": """
                from conftest import populate
                from shop import book_list, book_list_joined

                def test_joined(db, queryguard):
                    queryguard.assert_constant_queries(
                        lambda: book_list_joined(db), lambda n: populate(db, n)
                    )

                def test_loop(db, queryguard):
                    queryguard.assert_constant_queries(
                        lambda: book_list(db), lambda n: populate(db, n), scales=(1, 5, 20)
                    )
            """
        },
    )
    result = run()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       *: queryguard: test_loop ran 2 queries at n=1, 6 queries at n=5, 21 queries at n=20 "
            "(the same number expected at every scale)",
            "E         grows with n: 1x at n=1, 20x at n=20: SELECT name FROM author WHERE id = ?   "
            "shop.py:4 in book_list",
            "E             fix: load the rows in one query*",
        ]
    )
    # Filling the tables one row at a time is setup: it is no write loop of the test, even with --queryguard;
    # the runs at the smaller scales are no duplicate of the last one, and the test counts that run only.
    result = run("--queryguard", "--queryguard-fail-on=duplicate_query,write_loop", "-k", "test_joined")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["queryguard: 1 test analysed, 1 query, 0 findings"])


def test_fixture_asked_for_in_the_body(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """``request.getfixturevalue("queryguard")`` in the body captures from that moment on."""
    write(
        sqlite_shop,
        {
            "test_late.py": """
                def test_late(db, request):
                    db.execute("SELECT 1").fetchall()
                    queryguard = request.getfixturevalue("queryguard")
                    db.execute("SELECT 2").fetchall()
                    queryguard.assert_queries(1)
            """
        },
    )
    run().assert_outcomes(passed=1)
