"""The same checks on every database backend: SQLite, PostgreSQL (psycopg 3) and MariaDB (PyMySQL)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connections
from django.db.models import prefetch_related_objects

import queryguard

from ._data import seed
from .conftest import ALL_DATABASES, backend_params
from .testapp.models import Author, Book, Tag

pytestmark = [
    pytest.mark.parametrize("alias", backend_params()),
    pytest.mark.django_db(databases=ALL_DATABASES),
]


@pytest.fixture
def data(alias: str) -> dict[str, Any]:
    """The test data on ``alias``."""
    return seed(alias)


def only_n_plus_one(cap: queryguard.Capture) -> Any:
    """The one N+1 finding of ``cap``."""
    (finding,) = [f for f in cap.findings if f.kind == "n_plus_one"]
    return finding


@pytest.mark.parametrize(
    ("work", "relation", "fix"),
    [
        (
            lambda db: [b.author.name for b in Book.objects.using(db)],
            "Book.author",
            'select_related("author")',
        ),
        (
            lambda db: [list(a.books.all()) for a in Author.objects.using(db)],
            "Author.books",
            'prefetch_related("books")',
        ),
        (
            lambda db: [list(b.tags.all()) for b in Book.objects.using(db)],
            "Book.tags",
            'prefetch_related("tags")',
        ),
        (lambda db: [b.tags.count() for b in Book.objects.using(db)], "Book.tags", 'Count("tags")'),
        (
            lambda db: [prefetch_related_objects([a], "books") for a in Author.objects.using(db)],
            "Author.books",
            "prefetch_related_objects() once",
        ),
    ],
    ids=["forward", "reverse", "many_to_many", "count", "prefetch_objects"],
)
def test_relations_are_named(alias: str, data: dict[str, Any], work: Any, relation: str, fix: str) -> None:
    """The N+1 names the relation and the fix, with the backend's vendor and the alias."""
    with queryguard.capture(action="none", explain=False) as cap:
        work(alias)
    finding = only_n_plus_one(cap)
    assert (finding.relation, finding.alias) == (relation, alias)
    assert fix in finding.suggestion
    assert finding.vendor == connections[alias].vendor
    assert finding.parent_callsite is not None


def test_rows_executemany_and_raw_sql(alias: str, data: dict[str, Any]) -> None:
    """Row counts of SELECTs, executemany as one statement, raw cursor SQL with its parameters."""
    with queryguard.capture(action="none", explain=False) as cap:
        books = list(Book.objects.using(alias).order_by("id"))
        with connections[alias].cursor() as cursor:
            cursor.executemany("INSERT INTO testapp_tag (name) VALUES (%s)", [("x",), ("y",)])
            cursor.execute("SELECT * FROM testapp_tag WHERE name = %s", ["x"])
    select, insert, raw = cap.queries
    assert select.rowcount == len(books) == 6
    assert insert.executemany and insert.rowcount == 2
    assert raw.params == ["x"]
    assert [f.kind for f in cap.findings] == ["select_star"]
    assert Tag.objects.using(alias).count() == 5


def test_write_loop_and_duplicate(alias: str, data: dict[str, Any]) -> None:
    """Saving objects one by one is a write loop; reading the same row twice is a duplicate."""
    with queryguard.capture(action="none", explain=False) as cap:
        for book in Book.objects.using(alias).order_by("id"):
            book.price += 1
            book.save(update_fields=["price"])
        Author.objects.using(alias).filter(name="author 1").count()
        Author.objects.using(alias).filter(name="author 1").count()
    kinds = sorted(f.kind for f in cap.findings)
    assert kinds == ["duplicate_query", "write_loop"]
    write = next(f for f in cap.findings if f.kind == "write_loop")
    assert "bulk_update" in write.suggestion and write.count == 6


def test_explain_runs_on_the_aliases_own_database(alias: str, data: dict[str, Any]) -> None:
    """A slow statement gets its plan, read through the Django connection of its alias."""
    with queryguard.capture(action="none", slow_query_ms=0, explain=True, explain_max_per_unit=1) as cap:
        list(Book.objects.using(alias).filter(title__startswith="book"))
    slow = [f for f in cap.findings if f.kind == "slow_query"]
    assert slow and slow[0].plan is not None, [f.message for f in cap.findings]
