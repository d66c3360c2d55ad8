"""Django's bulk APIs on SQLite, PostgreSQL and MariaDB: the SQL they emit is no ``select_star``.

Django 5.2 writes ``bulk_create`` on PostgreSQL as ``INSERT ... SELECT * FROM UNNEST(...)``, a window filter
as ``SELECT * FROM (...) "qualify"``: stars the user cannot change, over columns chosen elsewhere. A
``SELECT *`` the user wrote (``.raw()``, a cursor) is still reported, next to them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import django
import pytest
from django.db import connections
from django.db.models import F, Window
from django.db.models.functions import RowNumber

import queryguard
from queryguard import Capture

from ._data import seed
from .conftest import ALL_DATABASES, backend_params
from .testapp.models import Author, Book, Review, Tag

pytestmark = [
    pytest.mark.parametrize("alias", backend_params()),
    pytest.mark.django_db(databases=ALL_DATABASES),
]
HERE = "tests/django/test_bulk_sql.py"


@pytest.fixture
def data(alias: str) -> dict[str, Any]:
    """The test data on ``alias``."""
    return seed(alias)


def captured(work: Callable[[], object]) -> Capture:
    """Run ``work`` inside a capture that only collects."""
    with queryguard.capture(action="none", explain=False) as cap:
        work()
    return cap


def _bulk_create(db: str) -> object:
    return Tag.objects.using(db).bulk_create([Tag(name=f"new {i}") for i in range(20)])


def _bulk_create_in_batches(db: str) -> object:
    return Tag.objects.using(db).bulk_create([Tag(name=f"new {i}") for i in range(20)], batch_size=7)


def _bulk_create_update_conflicts(db: str) -> object:
    tags = [Tag(id=tag.id, name=f"renamed {tag.id}") for tag in Tag.objects.using(db)]
    tags += [Tag(id=1000 + i, name=f"new {i}") for i in range(5)]
    # MySQL and MariaDB take no conflict target: ON DUPLICATE KEY UPDATE
    with_target = connections[db].features.supports_update_conflicts_with_target
    target = {"unique_fields": ["pk"]} if with_target else {}
    return Tag.objects.using(db).bulk_create(tags, update_conflicts=True, update_fields=["name"], **target)


def _bulk_create_ignore_conflicts(db: str) -> object:
    tags = [Tag(id=i, name=f"tag {i}") for i in range(1, 9)]
    return Tag.objects.using(db).bulk_create(tags, ignore_conflicts=True)


def _bulk_update(db: str) -> object:
    books = list(Book.objects.using(db).order_by("id"))
    for book in books:
        book.price += 1
    return Book.objects.using(db).bulk_update(books, ["price"])


def _update_through_a_join(db: str) -> object:
    return Book.objects.using(db).filter(author__name="author 1").update(price=F("price") + 1)


def _delete_through_a_join(db: str) -> object:
    return Review.objects.using(db).filter(book__author__name="author 1").delete()


def _delete_with_cascades(db: str) -> object:
    return Author.objects.using(db).filter(name="author 2").delete()


def _window_filter(db: str) -> object:
    ranked = Book.objects.using(db).annotate(rank=Window(RowNumber(), partition_by="author", order_by="id"))
    return [list(ranked.filter(rank=1)), list(ranked.filter(rank=1).values("title"))]


def _count_of_distinct(db: str) -> object:
    return Book.objects.using(db).values("author").distinct().count()


BULK_APIS = {
    "bulk_create": _bulk_create,
    "bulk_create_in_batches": _bulk_create_in_batches,
    "bulk_create_update_conflicts": _bulk_create_update_conflicts,
    "bulk_create_ignore_conflicts": _bulk_create_ignore_conflicts,
    "bulk_update": _bulk_update,
    "update_through_a_join": _update_through_a_join,
    "delete_through_a_join": _delete_through_a_join,
    "delete_with_cascades": _delete_with_cascades,
    "window_filter": _window_filter,
    "count_of_distinct": _count_of_distinct,
}


@pytest.mark.parametrize("api", BULK_APIS)
def test_bulk_apis_are_not_select_star(alias: str, data: dict[str, Any], api: str) -> None:
    """Each bulk API, and each ORM statement with a star of its own making, reports no finding at all."""
    cap = captured(lambda: BULK_APIS[api](alias))
    assert cap.queries
    assert [f.message for f in cap.findings] == []


def test_bulk_create_on_postgresql_is_an_insert_select_star(alias: str, data: dict[str, Any]) -> None:
    """The shape guarded against is real: Django 5.2 writes bulk_create on PostgreSQL as SELECT * FROM UNNEST
    (4.2 as a VALUES list)."""
    cap = captured(lambda: _bulk_create(alias))
    inserts = [q.sql for q in cap.queries if q.sql.startswith("INSERT")]
    assert len(inserts) == 1
    if connections[alias].vendor == "postgresql" and django.VERSION >= (5, 2):
        assert "SELECT * FROM UNNEST" in inserts[0]


def test_select_star_written_by_the_user_is_still_found(alias: str, data: dict[str, Any]) -> None:
    """Next to a bulk_create, a raw() and a cursor SELECT * are each one select_star at their own line."""
    lines = []

    def work() -> None:
        _bulk_create(alias)
        list(Tag.objects.using(alias).raw("SELECT * FROM testapp_tag WHERE id < %s", [3]))
        lines.append(sys._getframe().f_lineno - 1)
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT t.* FROM testapp_tag t JOIN testapp_book_tags bt ON bt.tag_id = t.id")
            lines.append(sys._getframe().f_lineno - 1)
            cursor.fetchall()

    cap = captured(work)
    stars = [f for f in cap.findings if f.kind == "select_star"]
    assert sorted(f.callsite.split(" ")[0] for f in stars) == [f"{HERE}:{line}" for line in lines]
    assert [f.kind for f in cap.findings] == ["select_star", "select_star"]
