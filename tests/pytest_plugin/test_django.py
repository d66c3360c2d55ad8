"""With pytest-django: `django_db` tests on SQLite and PostgreSQL, with the fixture, marker and option."""

from __future__ import annotations

import uuid

import pytest

from ._projects import DJANGO_PROJECT
from .conftest import Run, write

TESTS = {
    "test_shop.py": """
        import pytest
        import queryguard.testing
        from conftest import books  # noqa: F401
        from django.test import TestCase
        from shop.models import add_books
        from shop.views import book_list, book_list_fixed


        def test_list(books, queryguard):
            assert len(book_list()) == 3
            queryguard.assert_max_queries(2)


        def test_list_fixed(books, queryguard):
            assert len(book_list_fixed()) == 3
            queryguard.assert_queries(1, select=1)
            queryguard.assert_no_findings()


        @pytest.mark.django_db
        def test_list_fixed_scales(queryguard):
            queryguard.assert_constant_queries(book_list_fixed, add_books)


        @pytest.mark.django_db
        def test_list_scales(queryguard):
            queryguard.assert_constant_queries(book_list, add_books, scales=(2, 5))


        @pytest.mark.django_db
        @pytest.mark.queryguard(max_queries=3)
        def test_create_in_a_loop():
            add_books(3)


        def test_with_pytest_django(books, queryguard, django_assert_num_queries):
            with django_assert_num_queries(4):
                book_list()
            queryguard.assert_queries(4, select=4)


        class BookListTest(TestCase):
            def test_list_in_a_testcase(self):
                add_books(3)
                with queryguard.testing.assert_max_queries(2):
                    book_list()
    """
}


@pytest.fixture(params=["sqlite", "postgres"])
def django_project(
    request: pytest.FixtureRequest, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    """A Django project with an N+1 in its view, on SQLite or on a throw-away PostgreSQL test database."""
    if request.param == "postgres":
        request.getfixturevalue("postgres_params")
        monkeypatch.setenv("QG_TEST_DATABASE", "postgres")
        monkeypatch.setenv("QG_TEST_DATABASE_NAME", f"qg_pytest_plugin_{uuid.uuid4().hex[:12]}")
    write(pytester, {**DJANGO_PROJECT, **TESTS})
    return pytester


def test_helpers_pass_and_fail(django_project: pytest.Pytester, run: Run) -> None:
    """The N+1 behind ``book.author`` fails with its shape and call site; the fixed view and scales pass."""
    result = run()
    result.assert_outcomes(passed=3, failed=4)
    result.stdout.fnmatch_lines(
        [
            "E       *QueryGuardViolation: queryguard: test_list ran 4 queries (at most 2 allowed)",
            "E         N+1: 3x SELECT ... FROM shop_author WHERE shop_author.id = ? LIMIT ?   "
            "shop/views.py:7 in book_list",
            "E              fix: *",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "E       *: queryguard: test_list_scales ran 3 queries at n=2, 6 queries at n=5 "
            "(the same number expected at every scale)",
            "E         grows with n: 2x at n=2, 5x at n=5: SELECT ... FROM shop_author WHERE * "
            "shop/views.py:7 in book_list",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "E       *QueryGuardViolation: queryguard: test_list_in_a_testcase ran 4 queries (at most 2 "
            "allowed)",
            "E         N+1: 3x SELECT ... FROM shop_author WHERE shop_author.id = ? LIMIT ?   "
            "shop/views.py:7 in book_list",
        ]
    )
    result.stdout.fnmatch_lines(["queryguard: test_create_in_a_loop ran 7 queries (at most 3 allowed)"])
    for table, columns in (("shop_book", "title, author_id"), ("shop_author", "name")):
        result.stdout.fnmatch_lines(
            [
                f"  write loop: 3x INSERT INTO {table}({columns}) VALUES (...)* shop/models.py:15 in "
                "add_books",
                "              fix: *bulk_create*",
            ]
        )


def test_queryguard_option_and_transactions(django_project: pytest.Pytester, run: Run) -> None:
    """``--queryguard`` fails the N+1 test; the savepoints of ``django_db`` are not counted as queries."""
    write(
        django_project,
        {
            "test_option.py": """
                import pytest
                from conftest import books  # noqa: F401
                from django.db import transaction
                from shop.views import book_list


                def test_option_list(books):
                    book_list()


                @pytest.mark.django_db
                def test_atomic(queryguard):
                    with transaction.atomic():
                        pass
                    queryguard.assert_queries(0)
                    assert queryguard.query_count == 2  # SAVEPOINT and RELEASE SAVEPOINT
            """
        },
    )
    result = run("test_option.py", "--queryguard")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "queryguard: test_option_list ran 4 queries with 1 N+1 loop (none allowed)",
            "  N+1: 3x SELECT ... FROM shop_author WHERE shop_author.id = ? LIMIT ?   shop/views.py:7 in "
            "book_list",
        ]
    )


def test_with_the_django_integration(
    django_project: pytest.Pytester, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recorded by ``queryguard_django``, the failure names the relation's fix in Django's words."""
    monkeypatch.setenv("QG_TEST_RECORDER", "queryguard_django")
    result = run("-k", "test_list")
    result.stdout.fnmatch_lines(
        [
            "E       *QueryGuardViolation: queryguard: test_list ran 4 queries (at most 2 allowed)",
            "E         N+1: 3x SELECT ... FROM shop_author WHERE shop_author.id = ? LIMIT ?   "
            "shop/views.py:7 in book_list",
            '*fix: add .select_related("author")*',
        ]
    )
