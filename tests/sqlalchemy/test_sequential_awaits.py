"""sequential_awaits on aiosqlite, psycopg 3 async and asyncpg: independent slow reads awaited in turn."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from queryguard_sqlalchemy import instrument
from sqlalchemy import ColumnElement, event, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

import queryguard
from queryguard import Capture, Finding

from ._models import Author, Book, Profile

HERE = "tests/sqlalchemy/test_sequential_awaits.py"
PAUSE_S = 0.06  # each statement takes longer than the 30 ms a chain's statements need


def _line(marker: str) -> int:
    """The line of this file that ends with the comment ``# <marker>``."""
    with open(__file__) as source:
        for number, line in enumerate(source, 1):
            if line.rstrip().endswith(f"# {marker}"):
                return number
    raise AssertionError(marker)


def _pause(seconds: float) -> int:
    time.sleep(seconds)
    return 1


def slow(engine: AsyncEngine) -> str:
    """The SQL of a statement that takes :s seconds on this engine's database."""
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def add_pause(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.run_async(lambda conn: conn.create_function("pause", 1, _pause))

        return "pause(:s)"
    return "(SELECT 1 FROM pg_sleep(:s))"


def capture() -> Capture:
    """A capture that only collects."""
    return queryguard.capture(action="none", explain=False, loop_stall_ms=None)


def findings(cap: Capture) -> list[Finding]:
    """The sequential_awaits findings."""
    return [f for f in cap.findings if f.kind == "sequential_awaits"]


async def _author_page(conn: AsyncConnection, pause: str, author_id: int) -> None:
    args = {"a": author_id, "s": PAUSE_S}
    await conn.execute(text(f"SELECT name, {pause} FROM qgsa_author WHERE id = :a"), args)  # first
    await conn.execute(text(f"SELECT count(*), {pause} FROM qgsa_book WHERE author_id = :a"), args)
    await conn.execute(text(f"SELECT bio, {pause} FROM qgsa_profile WHERE author_id = :a"), args)


def slow_clause(engine: AsyncEngine) -> ColumnElement[bool]:
    """A WHERE condition that is true after PAUSE_S seconds on this engine's database."""
    slow(engine)
    if engine.dialect.name == "sqlite":
        return func.pause(PAUSE_S) == 1
    return select(literal_column("1")).select_from(func.pg_sleep(PAUSE_S)).scalar_subquery() == 1


async def test_independent_orm_reads_in_turn_are_a_finding(async_engine: AsyncEngine) -> None:
    """Three slow ORM reads that only need the request's own input, awaited in turn: one finding at the
    first, with the TaskGroup fix and one AsyncSession per task."""
    waits = slow_clause(async_engine)
    instrument(async_engine)
    async with AsyncSession(async_engine) as session:
        await session.execute(text("SELECT 1"))
        with capture() as cap:
            author = await session.scalar(select(Author).where(Author.id == 3, waits))  # orm first
            books = await session.scalar(select(func.count(Book.id)).where(Book.author_id == 3, waits))
            bio = await session.scalar(select(Profile.bio).where(Profile.author_id == 3, waits))
    assert author is not None and books == 3 and bio == "bio 3"
    (finding,) = findings(cap)
    assert finding.count == 3
    assert (
        finding.callsite == f"{HERE}:{_line('orm first')} in test_independent_orm_reads_in_turn_are_a_finding"
    )
    assert finding.message.startswith(
        "sequential awaits: 3 independent SELECTs (on qgsa_author, qgsa_book, qgsa_profile) ran one after "
        "another in one task from "
    )
    assert "asyncio.TaskGroup()" in finding.suggestion and "its own AsyncSession" in finding.suggestion
    assert finding.details["saved_ms"] >= 100


async def test_independent_core_reads_have_the_connection_fix(async_engine: AsyncEngine) -> None:
    """Core statements awaited in turn: the finding names the helper's line and a connection per task."""
    pause = slow(async_engine)
    instrument(async_engine)
    async with async_engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
        with capture() as cap:
            await _author_page(conn, pause, 3)
    (finding,) = findings(cap)
    assert finding.count == 3
    assert finding.callsite == f"{HERE}:{_line('first')} in _author_page"
    assert "each on its own connection" in finding.suggestion


async def test_dependent_reads_are_no_finding(async_engine: AsyncEngine) -> None:
    """A read that needs a value the previous one returned (the author's id, found by name) is no finding."""
    pause = slow(async_engine)
    instrument(async_engine)
    async with async_engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
        with capture() as cap:
            found = await conn.execute(
                text(f"SELECT id, {pause} FROM qgsa_author WHERE name = :n"), {"n": "author 4", "s": PAUSE_S}
            )
            author_id = found.one()[0]
            books = await conn.execute(
                text(f"SELECT id, {pause} FROM qgsa_book WHERE author_id = :a ORDER BY id"),
                {"a": author_id, "s": PAUSE_S},
            )
            first_book = books.first()
            assert first_book is not None
            await conn.execute(
                text(f"SELECT stars, {pause} FROM qgsa_review WHERE book_id = :b"),
                {"b": first_book[0], "s": PAUSE_S},
            )
    assert findings(cap) == []
    assert len(cap.queries) == 3


async def test_concurrent_reads_are_no_finding(async_engine: AsyncEngine) -> None:
    """The fix: the same reads run concurrently, one connection per task, are no finding."""
    pause = slow(async_engine)
    instrument(async_engine)

    async def one(sql: str) -> None:
        async with async_engine.connect() as conn:
            await conn.execute(text(sql), {"a": 3, "s": PAUSE_S})

    async with async_engine.connect() as conn:  # the pool's first connection, before the capture
        await conn.execute(text("SELECT 1"))
    with capture() as cap:
        await asyncio.gather(
            one(f"SELECT name, {pause} FROM qgsa_author WHERE id = :a"),
            one(f"SELECT count(*), {pause} FROM qgsa_book WHERE author_id = :a"),
            one(f"SELECT bio, {pause} FROM qgsa_profile WHERE author_id = :a"),
        )
    assert findings(cap) == []


async def test_short_reads_are_no_finding(async_engine: AsyncEngine) -> None:
    """Fast independent reads (under 30 ms each) are no finding: there is little to save."""
    instrument(async_engine)
    async with async_engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
        with capture() as cap:
            for table in ("qgsa_author", "qgsa_book", "qgsa_profile", "qgsa_review"):
                await conn.execute(text(f"SELECT count(*) FROM {table} WHERE id > :a"), {"a": 0})
    assert findings(cap) == []


async def test_thresholds_are_settings(async_engine: AsyncEngine) -> None:
    """A saving under sequential_awaits_min_saved_ms is no finding."""
    pause = slow(async_engine)
    instrument(async_engine)
    async with async_engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
        with queryguard.capture(action="none", explain=False, sequential_awaits_min_saved_ms=10_000) as cap:
            await _author_page(conn, pause, 5)
    assert findings(cap) == []
