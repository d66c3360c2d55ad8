"""One ORM call is not a loop: the rows one flush sends one at a time are the unit of work's, no write loop.

SQLAlchemy 2 sends the new rows of one flush as one batch where the database can return their keys in
order (PostgreSQL, MariaDB: one ``executemany``); on SQLite it sends one ``INSERT ... RETURNING`` per row.
The user's code made one call either way: that is no write loop. A flush per row, in a loop, is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from queryguard_sqlalchemy import instrument
from sqlalchemy import Engine, String, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import queryguard


class Base(DeclarativeBase):
    pass


class Visit(Base):
    __tablename__ = "qg_flush_visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    page: Mapped[str] = mapped_column(String(50), unique=True)


@pytest.fixture
def visits(engine: Engine) -> Iterator[Engine]:
    """The test database with an empty table whose keys the database assigns."""
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    instrument(engine)
    yield engine
    Base.metadata.drop_all(engine)


def write_loops(cap: queryguard.Capture) -> list[int]:
    """The counts of the write loops found."""
    return [f.count for f in cap.findings if f.kind == "write_loop"]


def test_rows_added_at_once_and_flushed_once_are_no_write_loop(visits: Engine) -> None:
    """add_all of five new rows and one commit: one ORM call, on every database."""
    with Session(visits) as session, queryguard.capture() as cap:
        session.add_all([Visit(page=f"/p/{n}") for n in range(5)])
        session.commit()
    assert write_loops(cap) == []
    assert cap.query_count >= 1


def test_rows_added_in_a_loop_and_flushed_once_are_no_write_loop(visits: Engine) -> None:
    """session.add() in a loop then one commit: the ORM writes them in one flush; nothing to report."""
    with Session(visits) as session, queryguard.capture() as cap:
        for n in range(4):
            session.add(Visit(page=f"/q/{n}"))
        session.commit()
    assert write_loops(cap) == []


def test_a_flush_per_row_in_a_loop_is_a_write_loop(visits: Engine) -> None:
    """add() and flush() for each row: one flush per row, a write loop of the user's own."""
    with Session(visits) as session, queryguard.capture() as cap:
        for n in range(3):
            session.add(Visit(page=f"/r/{n}"))
            session.flush()
        session.rollback()
    assert write_loops(cap) == [3]


def test_a_flush_that_failed_does_not_hide_a_later_loop(visits: Engine) -> None:
    """After a flush raised, single-row INSERTs in a loop through the session are still a write loop."""
    with Session(visits) as session, queryguard.capture() as cap:
        session.add_all([Visit(page="/same"), Visit(page="/same")])
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()
        for n in range(3):
            session.execute(insert(Visit).values(page=f"/s/{n}"))
        session.rollback()
    assert 3 in write_loops(cap)


async def test_async_rows_added_at_once_are_no_write_loop(async_engine: Any) -> None:
    """The same on an AsyncSession (aiosqlite, psycopg, asyncpg): one flush, no write loop."""
    async with async_engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    instrument(async_engine)
    try:
        async with AsyncSession(async_engine) as session:
            with queryguard.capture() as cap:
                session.add_all([Visit(page=f"/a/{n}") for n in range(4)])
                await session.commit()
        assert write_loops(cap) == []
        assert cap.query_count >= 1
    finally:
        async with async_engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)


def test_a_change_flushed_per_object_is_a_write_loop(visits: Engine) -> None:
    """Each loaded object changed and flushed in turn: one flush per row (each a new flush, never one)."""
    with Session(visits) as session:
        session.add_all([Visit(page=f"/u/{n}") for n in range(3)])
        session.commit()
        with queryguard.capture() as cap:
            for visit in session.query(Visit).order_by(Visit.id).all():
                visit.page += "/changed"
                session.flush()
        session.rollback()
    assert write_loops(cap) == [3]


def test_one_execute_of_many_rows_with_returning_is_no_write_loop(visits: Engine) -> None:
    """insert().returning(..., sort_by_parameter_order=True) with a list: one call, sent row by row."""
    with Session(visits) as session, queryguard.capture() as cap:
        rows = session.scalars(
            insert(Visit).returning(Visit.id, sort_by_parameter_order=True),
            [{"page": f"/m/{n}"} for n in range(4)],
        ).all()
        session.rollback()
    assert len(rows) == 4
    assert write_loops(cap) == []
