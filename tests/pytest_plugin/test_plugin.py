"""The plugin itself: it imports no framework, does nothing until used, and fits with other plugins."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import Run, write


def test_loading_imports_no_framework() -> None:
    """Importing the plugin module leaves django and sqlalchemy unloaded."""
    code = (
        "import sys, queryguard_pytest.plugin;"
        "print(sorted(m for m in ('django', 'sqlalchemy', 'queryguard_django', 'queryguard_sqlalchemy')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_nothing_is_captured_until_asked(pytester: pytest.Pytester, run: Run) -> None:
    """A test without fixture or marker runs with no capture; the fixture's capture covers its body only."""
    write(
        pytester,
        {
            "test_quiet.py": """
                import queryguard

                def test_plain():
                    assert queryguard.active_captures() == ()

                def test_with_fixture(queryguard):
                    import queryguard as core
                    assert core.active_captures() == (queryguard.capture,)
            """
        },
    )
    result = run()
    result.assert_outcomes(passed=2)
    result.stdout.no_fnmatch_line("*- queryguard -*")


def test_options_are_documented(pytester: pytest.Pytester, run: Run) -> None:
    """``pytest --help`` lists the options and ini settings under a queryguard group."""
    result = run("--help")
    result.stdout.fnmatch_lines(
        [
            "queryguard: find N+1 queries, duplicates and write loops:",
            "  --queryguard *analyse the statements of every test",
            "  --queryguard-fail-on=KINDS",
            "*n_plus_one,write_loop,query_budget,blocking_query*",
        ]
    )
    result.stdout.fnmatch_lines(["  queryguard_fail_on (string):*"])


def test_async_test_body_is_captured(pytester: pytest.Pytester, run: Run) -> None:
    """An asyncio test's body is captured, and a synchronous call on its loop is a blocking query."""
    write(
        pytester,
        {
            "app.py": """
                def ping(conn):
                    return conn.execute("SELECT 1").fetchall()
            """,
            "test_async.py": """
                import asyncio
                import sqlite3

                import pytest
                from queryguard import dbapi

                from app import ping

                @pytest.mark.asyncio
                async def test_blocking(queryguard):
                    conn = dbapi.instrument(sqlite3.connect(":memory:"))
                    await asyncio.sleep(0)
                    ping(conn)
                    queryguard.assert_queries(1)
            """,
        },
    )
    result = run("--queryguard")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "queryguard: test_blocking ran 1 query with 1 blocking query (none allowed)",
            "  blocking: 1x SELECT ?   app.py:2 in ping",
        ]
    )


def test_unittest_cases_are_analysed(pytester: pytest.Pytester, run: Run) -> None:
    """``--queryguard`` covers ``unittest.TestCase`` methods too."""
    write(
        pytester,
        {
            "app.py": """
                def add_rows(conn, n):
                    for i in range(n):
                        conn.execute("INSERT INTO t VALUES (?)", (i,))
            """,
            "test_case.py": """
                import sqlite3
                import unittest

                from queryguard import dbapi

                from app import add_rows

                class BooksTest(unittest.TestCase):
                    def test_loop(self):
                        conn = dbapi.instrument(sqlite3.connect(":memory:"))
                        conn.execute("CREATE TABLE t (id INTEGER)")
                        add_rows(conn, 3)
            """,
        },
    )
    result = run("--queryguard")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["queryguard: test_loop ran 4 queries with 1 write loop (none allowed)"])


def test_finished_tests_release_their_statements(pytester: pytest.Pytester, run: Run) -> None:
    """Once a test is over, its capture and statements can be garbage-collected (memory stays bounded)."""
    write(
        pytester,
        {
            "test_release.py": """
                import gc
                import weakref

                refs = []

                def test_first(queryguard):
                    refs.append(weakref.ref(queryguard.capture))

                def test_second():
                    gc.collect()
                    assert refs[0]() is None
            """
        },
    )
    run("--queryguard").assert_outcomes(passed=2)
    run().assert_outcomes(passed=2)


def test_a_run_that_captured_nothing_says_how_to_turn_an_integration_on(
    pytester: pytest.Pytester, run: Run
) -> None:
    """`pytest --queryguard` over tests that run no recorded SQL ends with a hint, not a bare "0 queries"."""
    write(
        pytester,
        {
            "test_plain.py": """
                import sqlite3

                def test_unwrapped_connection():
                    sqlite3.connect(":memory:").execute("SELECT 1").fetchall()
            """
        },
    )
    result = run("--queryguard")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*1 test analysed, 0 queries*", "*no SQL statement was captured*"])
    result.stdout.fnmatch_lines(["*queryguard.dbapi.instrument(conn)*"])
