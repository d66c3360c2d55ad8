"""Concurrent N+1: one lookup per id fired as concurrent tasks (gather, TaskGroup) is an N+1 too."""

from __future__ import annotations

import asyncio
import sys

import pytest
from queryguard_sqlalchemy import instrument
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import queryguard
from queryguard import Capture

from ._models import AUTHORS, Author, Book

HERE = "tests/sqlalchemy/test_concurrent_n_plus_one.py"


def capture() -> Capture:
    """A capture that only collects."""
    return queryguard.capture(action="none", explain=False)


async def test_gather_of_one_lookup_per_id_is_an_n_plus_one(async_engine: AsyncEngine) -> None:
    """gather(*[fetch(i) for i in ids]), each task with its own session: one N+1 at the lookup's line,
    whose statements came from as many tasks as ids."""
    instrument(async_engine)
    async with async_engine.connect():
        pass

    async def fetch(author_id: int) -> Author | None:
        async with AsyncSession(async_engine) as session:
            return await session.get(Author, author_id)

    fetch_line = fetch.__code__.co_firstlineno + 2
    with capture() as cap:
        async with AsyncSession(async_engine) as session:
            ids = sorted(set((await session.scalars(select(Book.author_id))).all()))
        found = await asyncio.gather(*[fetch(i) for i in ids])
    assert [a.id for a in found if a is not None] == ids
    (finding,) = [f for f in cap.findings if f.kind == "n_plus_one"]
    assert finding.count == AUTHORS
    assert finding.callsite == f"{HERE}:{fetch_line} in fetch"
    lookups = [q for q in cap.queries if q.sql.lstrip().upper().startswith("SELECT") and q.params != ()]
    assert len({q.task for q in lookups if "qgsa_author" in q.sql}) == AUTHORS  # one task each


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.TaskGroup is new in Python 3.11")
async def test_task_group_of_one_lookup_per_id_is_an_n_plus_one(async_engine: AsyncEngine) -> None:
    """The same fan-out through an asyncio.TaskGroup is the same N+1."""
    instrument(async_engine)
    async with async_engine.connect():
        pass

    async def fetch(author_id: int) -> Author | None:
        async with AsyncSession(async_engine) as session:
            return await session.get(Author, author_id)

    with capture() as cap:
        async with asyncio.TaskGroup() as group:
            for author_id in range(1, AUTHORS + 1):
                group.create_task(fetch(author_id))
    (finding,) = [f for f in cap.findings if f.kind == "n_plus_one"]
    assert finding.count == AUTHORS
    assert finding.callsite.endswith(" in fetch")
