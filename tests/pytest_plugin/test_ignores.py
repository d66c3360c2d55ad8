"""Suppressions in a test run: ``queryguard_ignore`` ini entries, inline comments and ``ignore()`` blocks,
the stale ones listed by ``--queryguard``, and ``--queryguard-strict-ignores``."""

from __future__ import annotations

import pytest

from .conftest import Run, write

#: A shop module whose loops carry suppressions: one that still matches, two that no longer do.
SUPPRESSED = {
    "quiet.py": """
        import queryguard


        def commented(conn):
            sql = "SELECT name FROM author WHERE id = ?"
            for (author_id,) in conn.execute("SELECT author_id FROM book").fetchall():
                conn.execute(sql, (author_id,)).fetchone()  # queryguard: ignore[n_plus_one]


        def blocked(conn):
            with queryguard.ignore("n_plus_one", reason="three rows at most"):
                for (author_id,) in conn.execute("SELECT author_id FROM book").fetchall():
                    conn.execute("SELECT id FROM author WHERE id = ?", (author_id,)).fetchone()


        def fixed(conn):
            # the loop was fixed, the comment stayed
            return conn.execute("SELECT name FROM author").fetchall()  # queryguard: ignore[n_plus_one]


        def blocked_in_vain(conn):
            with queryguard.ignore("write_loop", reason="a one-off"):
                return conn.execute("SELECT id FROM author").fetchall()
    """,
    "test_quiet.py": """
        from quiet import blocked, blocked_in_vain, commented, fixed
        from shop import book_list

        def test_commented(db):
            commented(db)

        def test_fixed(db):
            fixed(db)

        def test_blocked(db):
            blocked(db)

        def test_blocked_in_vain(db):
            blocked_in_vain(db)

        def test_shop(db):
            book_list(db)
    """,
}

STALE = [
    "queryguard: 5 tests analysed, 14 queries, 0 findings, 3 suppressed",
    "queryguard: 3 unused suppressions (silenced nothing in this run):",
    "  queryguard_ignore entry write_loop 'shop.py:rename_all'",
    "  ignore('write_loop', reason='a one-off') at quiet.py:22",
    "  # queryguard: ignore[n_plus_one] at quiet.py:18",
]


def _ini(*entries: str) -> str:
    lines = "".join(f"    {entry}\n" for entry in entries)
    return f"[pytest]\nqueryguard_ignore =\n{lines}"


def test_suppressions_pass_and_stale_ones_are_listed(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """An ini entry, an inline comment and a block suppress their N+1s; the three that silenced nothing are
    listed after the summary, and the run passes."""
    write(sqlite_shop, SUPPRESSED)
    (sqlite_shop.path / "pytest.ini").write_text(
        _ini("n_plus_one shop.py:book_list", "write_loop shop.py:rename_all"), encoding="utf-8"
    )
    result = run("--queryguard", "-p", "no:randomly")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(STALE)
    assert result.ret == 0


def test_strict_ignores_fail_the_run(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """``--queryguard-strict-ignores`` fails a run whose tests all pass when a suppression is stale."""
    write(sqlite_shop, SUPPRESSED)
    (sqlite_shop.path / "pytest.ini").write_text(
        _ini("n_plus_one shop.py:book_list", "write_loop shop.py:rename_all"), encoding="utf-8"
    )
    result = run("--queryguard-strict-ignores")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines([*STALE, "queryguard: --queryguard-strict-ignores: the run fails on them"])
    assert result.ret == 1


def test_without_stale_ones_strict_passes(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """Every suppression used: nothing is listed and the strict run passes."""
    quiet = SUPPRESSED["quiet.py"].split("def fixed")[0]
    tests = """
        from quiet import blocked, commented
        from shop import book_list

        def test_quiet(db):
            commented(db)
            blocked(db)

        def test_shop(db):
            book_list(db)
    """
    write(sqlite_shop, {"quiet.py": quiet, "test_quiet.py": tests})
    (sqlite_shop.path / "pytest.ini").write_text(_ini("n_plus_one shop.py:book_list"), encoding="utf-8")
    result = run("--queryguard", "--queryguard-strict-ignores")
    result.assert_outcomes(passed=2)
    assert "unused suppression" not in result.stdout.str()
    assert result.ret == 0


def test_bad_ini_entry_is_a_usage_error(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """A malformed ``queryguard_ignore`` line stops the run with what it expects."""
    (sqlite_shop.path / "pytest.ini").write_text(_ini("n_plus_one"), encoding="utf-8")
    result = run("--queryguard")
    result.stderr.fnmatch_lines(["*queryguard_ignore entry 'n_plus_one' must be a kind and a call site*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_stale_ones_across_xdist_workers(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """With pytest-xdist the controller lists what silenced nothing on any worker, and only that."""
    write(sqlite_shop, SUPPRESSED)
    (sqlite_shop.path / "pytest.ini").write_text(
        _ini("n_plus_one shop.py:book_list", "write_loop shop.py:rename_all"), encoding="utf-8"
    )
    result = run("--queryguard", "-n", "2")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines_random(STALE)
    assert result.stdout.str().count("\n  # queryguard: ignore") == 1
    assert result.ret == 0
