"""AsyncEngine/AsyncSession on aiosqlite, psycopg 3 and asyncpg; blocking calls on the event loop."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from queryguard_sqlalchemy import instrument
from sqlalchemy import Engine, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, selectinload

import queryguard
from queryguard import Capture, Finding

from ._models import AUTHORS, BOOKS_PER_AUTHOR, Author, Book, Tag

HERE = "tests/sqlalchemy/test_async.py"


def line() -> int:
    """The caller's current line."""
    return sys._getframe(1).f_lineno


def capture() -> Capture:
    """A capture that only collects."""
    return queryguard.capture(action="none", explain=False)


async def warm(engine: AsyncEngine) -> None:
    """Connect once: the dialect's first-connect statements are recorded too, keep them out of captures."""
    async with engine.connect():
        pass


def kinds(cap: Capture, kind: str) -> list[Finding]:
    """The findings of one kind."""
    return [f for f in cap.findings if f.kind == kind]


async def test_awaited_lazy_loads_are_an_n_plus_one_at_the_await_line(async_engine: AsyncEngine) -> None:
    """awaitable_attrs in a loop: N+1 on Author.books, located at the user's await, not in a greenlet."""
    instrument(async_engine)
    await warm(async_engine)
    async with AsyncSession(async_engine) as session:
        with capture() as cap:
            authors = (await session.scalars(select(Author))).all()
            for author in authors:
                assert await author.awaitable_attrs.books
                loop = line() - 1
    (finding,) = kinds(cap, "n_plus_one")
    assert finding.relation == "Author.books"
    assert finding.count == AUTHORS
    assert finding.callsite == f"{HERE}:{loop} in test_awaited_lazy_loads_are_an_n_plus_one_at_the_await_line"
    assert "selectinload(Author.books)" in finding.suggestion
    assert all(q.is_async and not q.blocking for q in cap.queries)
    assert cap.queries[0].rowcount == AUTHORS
    assert kinds(cap, "blocking_query") == []


async def test_async_eager_loading_has_no_finding(async_engine: AsyncEngine) -> None:
    """selectinload through an AsyncSession: two statements, no finding."""
    instrument(async_engine)
    await warm(async_engine)
    async with AsyncSession(async_engine) as session:
        with capture() as cap:
            authors = (await session.scalars(select(Author).options(selectinload(Author.books)))).all()
            assert sum(len(a.books) for a in authors) == AUTHORS * BOOKS_PER_AUTHOR
    assert cap.query_count == 2
    assert cap.findings == []


async def test_run_sync_locates_the_user_function(async_engine: AsyncEngine) -> None:
    """Inside run_sync the call site is the user's own sync function."""
    instrument(async_engine)
    await warm(async_engine)

    def titles(session: Session) -> list[str]:
        names = []
        for book in session.scalars(select(Book)).all():
            names.append(book.author.name)
        return names

    async with AsyncSession(async_engine) as session:
        with capture() as cap:
            assert len(await session.run_sync(titles)) == AUTHORS * BOOKS_PER_AUTHOR
    (finding,) = kinds(cap, "n_plus_one")
    assert finding.relation == "Book.author"
    assert " in titles" in finding.callsite


async def test_concurrent_tasks_keep_their_own_statements(async_engine: AsyncEngine) -> None:
    """Twenty tasks at once, each capturing its own number of statements: none sees another's."""
    instrument(async_engine)
    await warm(async_engine)

    async def unit(n: int) -> tuple[int, int]:
        async with AsyncSession(async_engine) as session:
            with capture() as cap:
                for i in range(n):
                    await session.scalar(select(Tag.name).where(Tag.id == 1 + i % 5))
                    await asyncio.sleep(0)
        return n, cap.query_count

    results = await asyncio.gather(*(unit(1 + i % 7) for i in range(20)))
    assert all(n == counted for n, counted in results)


async def test_sync_session_in_async_code_is_blocking(sqlite_engine: Engine) -> None:
    """A sync Session used inside a coroutine blocks the loop: reported at the call with the async fix."""
    instrument(sqlite_engine)
    with capture() as cap, Session(sqlite_engine) as session:
        assert len(session.scalars(select(Tag)).all()) == 5
        here = line() - 1
    (finding,) = kinds(cap, "blocking_query")
    assert finding.callsite == f"{HERE}:{here} in test_sync_session_in_async_code_is_blocking"
    assert "AsyncSession" in finding.suggestion and "to_thread" in finding.suggestion
    assert finding.severity == "error"


async def test_sync_session_in_a_worker_thread_is_not_blocking(sqlite_engine: Engine) -> None:
    """The fix works: the same code through asyncio.to_thread is not reported."""
    instrument(sqlite_engine)

    def tags() -> int:
        with Session(sqlite_engine) as session:
            return len(session.scalars(select(Tag)).all())

    with capture() as cap:
        assert await asyncio.to_thread(tags) == 5
    assert cap.query_count == 1
    assert kinds(cap, "blocking_query") == []


async def test_async_statement_facts(async_engine: AsyncEngine, sqlite_path: Path) -> None:
    """Async events carry is_async, the vendor and the database name."""
    instrument(async_engine)
    await warm(async_engine)
    async with AsyncSession(async_engine) as session:
        with capture() as cap:
            await session.execute(select(Tag.id))
    (query,) = cap.queries
    expected: dict[str, Any] = {"sqlite": sqlite_path.name, "postgresql": "test"}
    assert query.is_async and query.alias == expected[query.vendor]
