"""``--queryguard`` and test code: findings in setUp, fixtures and test modules are listed, not counted."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from queryguard_pytest._scaffolding import Scaffolding

from ._projects import DJANGO_PROJECT
from .conftest import Run, write

FIXTURE_SOURCE = """
def make_books(db):
    def make(n):
        return n

    return make


def other():
    return 2
"""


@pytest.mark.parametrize(
    ("callsite", "expected"),
    [
        ("shop/views.py:7 in book_list", False),
        ("shop/views.py:7 in setUp", True),
        ("shop/views.py:7 in setUpTestData", True),
        ("shop/views.py:7 in asyncSetUp", True),
        ("shop/views.py:7 in tearDown", True),
        ("shop/views.py:7 in setup_method", True),
        ("shop/views.py:7 in teardown_function", True),
        ("shop/views.py:7 in setup_tenant", False),
        ("shop/test_views.py:3 in helper", True),
        ("shop/views_test.py:3 in helper", True),
        ("shop/check_views.py:3 in helper", True),
        ("shop/conftest.py:3 in populate", True),
        ("tests/factories.py:3 in make_book", True),
        ("shop/tests/helpers.py:3 in make_book", True),
        ("shop/testsuite.py:3 in helper", False),
        ("shop/examples.py:3 in helper", True),
        ("shop/fixtures.py:3 in make", True),
        ("shop/fixtures.py:9 in other", False),
        ("../elsewhere/tests/helpers.py:3 in make_book", False),
        ("templates/shop/book_list.html:4", False),
        ("", False),
    ],
)
def test_what_is_test_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, callsite: str, expected: bool
) -> None:
    """Test modules, conftest.py, tests/ folders, fixtures and setup names are test code; the rest is not."""
    root = tmp_path / "project"
    (root / "shop").mkdir(parents=True)
    monkeypatch.chdir(root)  # call sites are relative to the working directory
    scaffolding = Scaffolding(root, ["test_*.py", "*_test.py", "check_*.py"])
    scaffolding.add_modules([root / "shop" / "examples.py"])
    namespace: dict[str, object] = {}
    exec(compile(FIXTURE_SOURCE, str(root / "shop" / "fixtures.py"), "exec"), namespace)
    scaffolding.add_fixture(namespace["make_books"])
    assert (callsite in scaffolding) is expected


SHOP_TESTING = {
    "shop_testing.py": """
        import pytest


        @pytest.fixture
        def add_authors(db):
            def add(n):
                for i in range(100, 100 + n):
                    db.execute("INSERT INTO author (id, name) VALUES (?, ?)", (i, f"author {i}"))

            return add
    """,
    "test_scaffold.py": """
        from conftest import populate
        from shop import rename_all
        from shop_testing import add_authors  # noqa: F401


        def test_factory_fixture(db, add_authors):
            add_authors(3)


        def test_conftest_helper(db):
            populate(db, 4)


        def test_loop_in_the_body(db):
            for i in range(1, 4):
                db.execute("UPDATE book SET title = ? WHERE id = ?", (f"title {i}", i))


        def test_application_helper(db):
            rename_all(db)
    """,
}


def test_findings_in_test_code_fail_nothing(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """A fixture's factory, a conftest helper and a test body's loop are listed; the app's loop fails."""
    write(sqlite_shop, SHOP_TESTING)
    result = run("--queryguard")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "queryguard: test_application_helper ran 4 queries with 1 write loop (none allowed)",
            "  write loop: 3x UPDATE author SET name = ? WHERE id = ?   shop.py:17 in rename_all",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*- queryguard -*",
            "write loop (4 tests)",
            "  conftest.py:25 in populate: 4x INSERT INTO author(id, name) VALUES (...)",
            "      fix: *",
            "      in test code: test_scaffold.py::test_conftest_helper",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "  shop_testing.py:8 in add: 3x INSERT INTO author(id, name) VALUES (...)",
            "      fix: *",
            "      in test code: test_scaffold.py::test_factory_fixture",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "  test_scaffold.py:16 in test_loop_in_the_body: 3x UPDATE book SET title = ? WHERE id = ?",
            "      fix: *",
            "      in test code: test_scaffold.py::test_loop_in_the_body",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "queryguard: 4 tests analysed (1 failed by queryguard), * queries, 5 findings "
            "(1 failing, 4 in test code)",
            "queryguard: 4 findings in test code (setUp, fixtures, test modules, conftest.py) fail no test "
            "and enter no baseline; --queryguard-include-test-code counts them",
        ]
    )


def test_workers_tell_test_code_apart(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """With pytest-xdist each worker knows its fixtures and test modules: the outcome of a serial run."""
    write(sqlite_shop, SHOP_TESTING)
    result = run("-n", "2", "--queryguard")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        ["queryguard: 4 tests analysed (1 failed by queryguard), * (1 failing, 4 in test code)"]
    )


def test_test_code_enters_no_baseline_and_no_report(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """The baseline and the report hold only the application's findings."""
    write(sqlite_shop, SHOP_TESTING)
    result = run(
        "--queryguard-baseline=qg.json", "--queryguard-update-baseline", "--queryguard-report=qg-report.json"
    )
    result.assert_outcomes(passed=4)
    baseline = json.loads((sqlite_shop.path / "qg.json").read_text(encoding="utf-8"))["tests"]
    assert sorted(baseline) == ["test_scaffold.py::test_application_helper"]
    assert [entry["callsite"] for entry in baseline["test_scaffold.py::test_application_helper"]] == [
        "shop.py in rename_all"
    ]
    report = json.loads((sqlite_shop.path / "qg-report.json").read_text(encoding="utf-8"))
    assert report["summary"]["by_kind"] == {"write_loop": 1}


def test_include_test_code_counts_them(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """``--queryguard-include-test-code`` (or its ini option) makes test code count like the application's."""
    write(sqlite_shop, SHOP_TESTING)
    result = run("--queryguard", "--queryguard-include-test-code")
    result.assert_outcomes(failed=4)
    result.stdout.fnmatch_lines(
        ["queryguard: test_conftest_helper ran 10 queries with 2 write loops (none allowed)"]
    )
    result.stdout.fnmatch_lines(["queryguard: 4 tests analysed (4 failed by queryguard), * (5 failing)"])
    result.stdout.no_fnmatch_line("*in test code*")
    write(sqlite_shop, {"pytest.ini": "[pytest]\nqueryguard = true\nqueryguard_include_test_code = true\n"})
    run().assert_outcomes(failed=4)


DJANGO_TESTS = {
    "test_books.py": """
        from django.test import TestCase
        from shop.models import Author, Book
        from shop.views import book_list, book_list_fixed


        class BookListTest(TestCase):
            def setUp(self):
                for i in range(5):
                    Book.objects.create(title=f"book {i}", author=Author.objects.create(name=f"author {i}"))

            def test_list(self):
                assert len(book_list()) == 5

            def test_list_fixed(self):
                assert len(book_list_fixed()) == 5
    """
}


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def django_books(
    request: pytest.FixtureRequest, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    """A Django project recorded by ``queryguard_django`` whose ``TestCase.setUp`` creates rows in a loop."""
    if request.param != "sqlite":
        request.getfixturevalue("postgres_params" if request.param == "postgres" else "mysql_params")
        monkeypatch.setenv("QG_TEST_DATABASE", request.param)
        monkeypatch.setenv("QG_TEST_DATABASE_NAME", f"qg_pytest_plugin_{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("QG_TEST_RECORDER", "queryguard_django")
    write(pytester, {**DJANGO_PROJECT, **DJANGO_TESTS})
    return pytester


def test_django_setup_loop_is_test_code(django_books: pytest.Pytester, run: Run) -> None:
    """The write loop of ``setUp`` fails no test; the view's N+1 fails its test."""
    result = run("--queryguard")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ BookListTest.test_list _*",
            "queryguard: test_list ran * queries with 1 N+1 loop (none allowed)",
            "  N+1: 5x SELECT ... FROM shop_author WHERE * shop/views.py:7 in book_list",
        ]
    )
    result.stdout.no_fnmatch_line("  write loop: *")
    result.stdout.fnmatch_lines(
        [
            "write loop (2 tests)",
            "  test_books.py:9 in setUp: 10x INSERT INTO shop_*",
            "      fix: *bulk_create*",
            "      in test code: test_books.py::BookListTest::test_list, "
            "test_books.py::BookListTest::test_list_fixed",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "queryguard: 2 tests analysed (1 failed by queryguard), * queries, 5 findings "
            "(1 failing, 4 in test code)"
        ]
    )
    result = run("--queryguard", "--queryguard-include-test-code")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        ["queryguard: test_list_fixed ran * queries with 2 write loops (none allowed)"]
    )
