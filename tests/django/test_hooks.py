"""The connection hook: every statement of every connection, raw SQL and executemany, in any thread."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections
from queryguard_django import _hooks

import queryguard

from ._data import seed
from .conftest import ALL_DATABASES, backend_params
from .testapp import closing
from .testapp.models import Book, Tag


@pytest.fixture
def fresh_connection() -> Iterator[Any]:
    """A second, not yet connected wrapper of the default database (as a new thread would create)."""
    copy = connections["default"].copy()
    yield copy
    closing.close(copy)


def names(cap: queryguard.Capture) -> list[str]:
    """The statements of ``cap``, upper-cased."""
    return [event.sql.upper() for event in cap.queries]


@pytest.mark.django_db
def test_wrapper_comes_first_and_survives_the_users_execute_wrapper(fresh_connection: Any) -> None:
    """Hooked on connect while a user's execute_wrapper block is open, the wrapper outlives the block."""
    seen: list[str] = []

    def users_wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    wrapped = fresh_connection.execute_wrapper(users_wrapper)
    with wrapped, queryguard.capture(action="none") as cap, fresh_connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert fresh_connection.execute_wrappers == [_hooks.execute_wrapper]
    assert seen == ["SELECT 1"]
    assert names(cap) == ["SELECT 1"]
    with queryguard.capture(action="none") as after, fresh_connection.cursor() as cursor:
        cursor.execute("SELECT 2")
    assert names(after) == ["SELECT 2"]


@pytest.mark.django_db
def test_raw_cursor_sql_and_executemany_are_recorded() -> None:
    """connection.cursor() statements are recorded; executemany once, with its parameter list."""
    rows = [("one",), ("two",), ("three",)]
    with queryguard.capture(action="none") as cap, connection.cursor() as cursor:
        cursor.executemany("INSERT INTO testapp_tag (name) VALUES (%s)", rows)
        cursor.execute("SELECT name FROM testapp_tag WHERE name = %s", ["two"])
    insert, select = cap.queries
    assert insert.executemany is True and insert.params == rows and insert.rowcount == 3
    assert select.executemany is False and select.params == ["two"]
    assert {insert.vendor, select.vendor} == {"sqlite"} and insert.orm == "django"
    assert Tag.objects.count() == 3


@pytest.mark.django_db
def test_recorded_statements_carry_every_field_of_a_query_event() -> None:
    """The wrapper's event sets every slot QueryEvent has (it builds them itself, positionally)."""
    with queryguard.capture(action="none") as cap:
        list(Book.objects.all())
        Tag.objects.count()
    event, _ = cap.queries
    assert isinstance(event, queryguard.QueryEvent)
    unset = [name for name in queryguard.QueryEvent.__slots__ if not hasattr(event, name)]
    assert unset == []
    assert event.rowcount == 0  # counted from the result cache once the next statement ran
    assert event.queryset is None  # then released: the event outlives the request's querysets
    assert event.relation is None and event.is_async is False and event.blocking is False


@pytest.mark.django_db
def test_statements_outside_a_capture_are_not_recorded() -> None:
    """Only statements run while a capture is active reach it; the wrapper leaves the others alone."""
    Book.objects.count()
    with queryguard.capture(action="none") as cap:
        Tag.objects.count()
    Book.objects.exists()
    assert len(cap.queries) == 1 and "testapp_tag" in cap.queries[0].sql


@pytest.mark.django_db
def test_a_failing_statement_is_recorded_and_its_error_kept() -> None:
    """The database error reaches the caller unchanged; the statement is recorded with the error's type."""
    from django.db import DatabaseError, transaction

    with (
        queryguard.capture(action="none") as cap,
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT * FROM no_such_table")
    failed = [e for e in cap.queries if "no_such_table" in e.sql]
    assert len(failed) == 1 and failed[0].error == "OperationalError"


@pytest.mark.django_db
def test_errors_of_queryguard_itself_never_reach_the_application(caplog: pytest.LogCaptureFixture) -> None:
    """A broken call into the wrapper still runs the statement; the error is logged, not raised."""
    cursor = connection.cursor()
    with queryguard.capture(action="none"), caplog.at_level(logging.ERROR, logger="queryguard"):
        result = _hooks.execute_wrapper(cursor._execute, "SELECT 1", None, False, {})
    assert result is not None
    assert "queryguard internal error in django execute wrapper" in caplog.text
    cursor.close()


@pytest.mark.django_db(databases=["default", "other"])
def test_both_aliases_are_recorded_with_their_names() -> None:
    """Statements on two database aliases land in one capture, each with its alias."""
    with queryguard.capture(action="none") as cap:
        Book.objects.count()
        Book.objects.using("other").count()
    assert [e.alias for e in cap.queries] == ["default", "other"]


@pytest.mark.django_db(transaction=True)
def test_connections_of_threads_that_carry_the_context_are_recorded() -> None:
    """A worker thread run with the request's context (copy_context) opens its own, hooked connection."""
    seed()

    def work() -> int:
        try:
            return sum(1 for book in Book.objects.all() if book.author.name)
        finally:
            closing.close_all()

    with queryguard.capture(action="none") as cap, ThreadPoolExecutor(1) as pool:
        assert pool.submit(contextvars.copy_context().run, work).result() == 6
    assert cap.query_count == 7
    finding = next(f for f in cap.findings if f.kind == "n_plus_one")
    assert finding.relation == "Book.author"


@pytest.mark.django_db(transaction=True)
def test_sync_to_async_threads_are_recorded() -> None:
    """asgiref's sync_to_async worker threads inherit the capture through the context."""
    seed()

    def work() -> int:
        try:
            return Book.objects.count()
        finally:
            closing.close_all()

    async def main() -> int:
        return await sync_to_async(work, thread_sensitive=False)()

    with queryguard.capture(action="none") as cap:
        assert asyncio.run(main()) == 6
    assert len(cap.queries) == 1 and cap.queries[0].alias == "default"


@pytest.mark.django_db
def test_feature_probes_are_connection_setup_not_the_users(fresh_connection: Any) -> None:
    """SQL that Django runs to learn the database's features is left out of the capture."""
    _hooks.hook(fresh_connection)
    with queryguard.capture(action="none") as cap:
        assert fresh_connection.features.supports_json_field in (True, False)
        with fresh_connection.cursor() as cursor:
            cursor.execute("SELECT 3")
    assert names(cap) == ["SELECT 3"]


@pytest.mark.parametrize("alias", [p for p in backend_params() if p.values[0] != "default"])
@pytest.mark.django_db(databases=ALL_DATABASES)
def test_connect_statements_are_connection_setup_not_the_users(alias: str) -> None:
    """What a backend runs on connect (MariaDB's SET statements, version checks) is not recorded."""
    copy = connections[alias].copy()
    _hooks.hook(copy)
    try:
        with queryguard.capture(action="none") as cap:
            copy.ensure_connection()
            with copy.cursor() as cursor:
                cursor.execute("SELECT 4")
    finally:
        closing.close(copy)
    assert names(cap) == ["SELECT 4"]
