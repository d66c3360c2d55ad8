"""With SQLAlchemy session fixtures on SQLite and PostgreSQL: the fixture, the marker and ``--queryguard``."""

from __future__ import annotations

import pytest

from ._projects import SQLALCHEMY_PROJECT
from .conftest import Run, write

TESTS = {
    "test_shop.py": """
        import pytest
        from shop.models import add_books, book_list, book_list_fixed


        def test_list(session, queryguard):
            assert len(book_list(session)) == 3
            queryguard.assert_no_n_plus_one()


        def test_list_fixed(session, queryguard):
            assert len(book_list_fixed(session)) == 3
            queryguard.assert_queries(2, select=2)


        def test_list_scales(session, queryguard):
            queryguard.assert_constant_queries(
                lambda: book_list_fixed(session), lambda n: add_books(session, n)
            )
            queryguard.assert_constant_queries(
                lambda: book_list(session), lambda n: add_books(session, n), scales=(10, 20)
            )


        @pytest.mark.queryguard(max_queries=2)
        def test_budget(session):
            book_list(session)
    """
}


@pytest.fixture(params=["sqlite", "postgres"])
def sqlalchemy_project(
    request: pytest.FixtureRequest, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    """A SQLAlchemy project whose session fixture rolls back everything, on SQLite or PostgreSQL."""
    if request.param == "postgres":
        params = request.getfixturevalue("postgres_params")
        url = f"postgresql+psycopg://{params['user']}@{params['host']}:{params['port']}/{params['dbname']}"
        monkeypatch.setenv("QG_TEST_URL", url)
    write(pytester, {**SQLALCHEMY_PROJECT, **TESTS})
    return pytester


def test_helpers_pass_and_fail(sqlalchemy_project: pytest.Pytester, run: Run) -> None:
    """The lazy load of ``book.author`` is an N+1 with its shape and call site; the eager load passes."""
    result = run()
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines(
        [
            "E       *QueryGuardViolation: queryguard: test_list ran 4 queries with 1 N+1 loop (none "
            "allowed)",
            "E         N+1: 3x SELECT ... FROM qg_author WHERE qg_author.id = ?*   shop/models.py:33 in "
            "book_list",
            "E              fix: *",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "E       *: queryguard: test_list_scales ran 11 queries at n=10, 21 queries at n=20 "
            "(the same number expected at every scale)",
            "E         grows with n: 10x at n=10, 20x at n=20: SELECT ... FROM qg_author WHERE * in "
            "book_list",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "queryguard: test_budget ran 4 queries (at most 2 allowed)",
            "  N+1: 3x SELECT ... FROM qg_author WHERE qg_author.id = ?*   shop/models.py:33 in book_list",
        ]
    )


def test_queryguard_option_with_xdist(sqlalchemy_project: pytest.Pytester, run: Run) -> None:
    """``--queryguard -n 2`` fails the lazy-load tests on the workers and sums them up on the controller."""
    result = run("-n", "2", "--queryguard", "-k", "test_list and not scales")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "N+1 (1 test)",
            "  shop/models.py:33 in book_list: 3x SELECT ... FROM qg_author WHERE qg_author.id = ?*",
            "      fix: *",
            "      failing: test_shop.py::test_list",
            "queryguard: 2 tests analysed, 6 queries, 1 finding (1 failing)",
        ]
    )


def test_with_the_sqlalchemy_integration(
    sqlalchemy_project: pytest.Pytester, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recorded by ``queryguard_sqlalchemy``, the failure names the relation's fix in SQLAlchemy's words."""
    monkeypatch.setenv("QG_TEST_RECORDER", "queryguard_sqlalchemy")
    result = run("-k", "test_list and not scales")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       *: queryguard: test_list ran 4 queries with 1 N+1 loop (none allowed)",
            "E         N+1: 3x SELECT ... FROM qg_author WHERE qg_author.id = ?*   shop/models.py:33 in "
            "book_list",
            "*fix: *joinedload(Book.author)*",
        ]
    )
