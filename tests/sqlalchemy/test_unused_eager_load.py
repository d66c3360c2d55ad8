"""``unused_eager_load`` on SQLAlchemy: joinedload, selectinload, subqueryload, immediateload, eager lazy=."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from queryguard_sqlalchemy import instrument
from queryguard_sqlalchemy._eager import SUPPORTED, _strategy
from sqlalchemy import Engine, ForeignKey, String, create_engine, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    attributes,
    immediateload,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
    strategies,
    subqueryload,
)

import queryguard
from queryguard import Capture

from ._models import AUTHORS, BOOKS_PER_AUTHOR, Author, Book

HERE = "tests/sqlalchemy/test_unused_eager_load.py"

pytestmark = pytest.mark.skipif(
    not SUPPORTED, reason="unused_eager_load reads SQLAlchemy 2.1's loaders; 2.0 is not covered"
)


def captured(engine: Engine, work: Callable[[Session], object], **settings: Any) -> Capture:
    """Run ``work`` with a session on ``engine`` inside a capture that only collects."""
    instrument(engine)
    with Session(engine) as session, queryguard.capture(action="none", explain=False, **settings) as cap:
        work(session)
    return cap


def unused(cap: Capture) -> list[queryguard.Finding]:
    """The unused_eager_load findings of ``cap``."""
    return [f for f in cap.findings if f.kind == "unused_eager_load"]


@pytest.mark.parametrize(
    ("option", "method"),
    [
        (joinedload, "joinedload"),
        (selectinload, "selectinload"),
        (subqueryload, "subqueryload"),
        (immediateload, "immediateload"),
    ],
)
def test_unread_eager_load_is_a_finding(engine: Engine, option: Any, method: str) -> None:
    """Each eager-load option, never read, is one finding at the user's line with the rows and the fix."""

    def work(session: Session) -> None:
        books = session.scalars(select(Book).options(option(Book.author))).unique().all()
        assert [b.title for b in books]

    [finding] = unused(captured(engine, work))
    assert finding.relation == "Book.author" and finding.severity == "info"
    assert finding.callsite.startswith(f"{HERE}:") and finding.callsite.endswith(" in work")
    assert finding.details["rows"] == AUTHORS * BOOKS_PER_AUTHOR
    assert finding.message.startswith(f"{method}(Book.author) at {HERE}:")
    assert f"remove {method}(Book.author) from .options(...)" in finding.suggestion


@pytest.mark.parametrize("option", [joinedload, selectinload, subqueryload, immediateload])
def test_read_on_some_rows_is_used(engine: Engine, option: Any) -> None:
    """A relationship read on one row of thirty is used: no finding."""

    def work(session: Session) -> None:
        books = session.scalars(select(Book).options(option(Book.author)).order_by(Book.id)).unique().all()
        assert books[0].author.name

    assert unused(captured(engine, work)) == []


def test_collection_read_is_used(engine: Engine) -> None:
    """selectinload(Author.books) read through len() and iteration: no finding; unread: one."""

    def read(session: Session) -> None:
        for author in session.scalars(select(Author).options(selectinload(Author.books))):
            assert len(author.books) == BOOKS_PER_AUTHOR

    assert unused(captured(engine, read)) == []
    [finding] = unused(
        captured(engine, lambda s: s.scalars(select(Author).options(selectinload(Author.books))).all())
    )
    assert finding.relation == "Author.books"


def test_chained_joinedload_names_the_unread_leaf(engine: Engine) -> None:
    """joinedload(Author.books).joinedload(Book.reviews) with books read and reviews not: Book.reviews."""

    def work(session: Session) -> None:
        query = select(Author).options(joinedload(Author.books).joinedload(Book.reviews))
        for author in session.scalars(query).unique():
            assert [b.title for b in author.books]

    [finding] = unused(captured(engine, work))
    assert finding.relation == "Book.reviews"


def test_chained_joinedload_nothing_read_names_the_first_step(engine: Engine) -> None:
    """Neither step read: one finding, on Author.books (removing it drops both)."""
    query = select(Author).options(joinedload(Author.books).joinedload(Book.reviews))
    [finding] = unused(captured(engine, lambda s: s.scalars(query).unique().all()))
    assert finding.relation == "Author.books"


def test_chained_selectinload_read_through(engine: Engine) -> None:
    """selectinload chains read to their leaf: no finding."""

    def work(session: Session) -> None:
        query = select(Author).options(selectinload(Author.books).selectinload(Book.reviews))
        for author in session.scalars(query):
            assert [r.stars for b in author.books for r in b.reviews]

    assert unused(captured(engine, work)) == []


def test_chained_selectinload_names_the_first_unread_step(engine: Engine) -> None:
    """selectinload chains: nothing read names Author.books only; books read and reviews not, Book.reviews."""
    query = select(Author).options(selectinload(Author.books).selectinload(Book.reviews))
    [finding] = unused(captured(engine, lambda s: s.scalars(query).all()))
    assert finding.relation == "Author.books"

    def work(session: Session) -> None:
        for author in session.scalars(query):
            assert [b.title for b in author.books]

    [finding] = unused(captured(engine, work))
    assert finding.relation == "Book.reviews"


def test_no_parent_rows_is_no_finding(engine: Engine) -> None:
    """An eager load over no rows loaded nothing: never a finding."""
    query = select(Book).where(Book.title == "nothing").options(selectinload(Book.reviews))
    assert unused(captured(engine, lambda s: s.scalars(query).all())) == []


def test_read_after_the_last_statement_is_used(engine: Engine) -> None:
    """A read after the unit's last statement, before the unit ends, counts."""
    instrument(engine)
    with Session(engine) as session, queryguard.capture(action="none", explain=False) as cap:
        books = session.scalars(select(Book).options(joinedload(Book.author))).all()
        names = {b.author.name for b in books}  # no statement runs: the rows are loaded
    assert names and unused(cap) == []


def test_setting_off(engine: Engine) -> None:
    """unused_eager_load=False: no finding."""
    query = select(Book).options(joinedload(Book.author))
    assert unused(captured(engine, lambda s: s.scalars(query).all(), unused_eager_load=False)) == []


def test_sqlalchemy_is_restored_exactly(engine: Engine) -> None:
    """While a capture runs the functions are wrapped; after it, SQLAlchemy's own functions are back."""
    owners = [
        (_strategy(strategies, "_JoinedLoader"), "create_row_processor"),
        (_strategy(strategies, "_SelectInLoader"), "create_row_processor"),
        (_strategy(strategies, "_SubqueryLoader"), "create_row_processor"),
        (_strategy(strategies, "_ImmediateLoader"), "create_row_processor"),
        (_strategy(strategies, "_SelectInLoader"), "_load_for_path"),
        (_strategy(strategies, "_ImmediateLoader"), "_load_for_path"),
        (attributes.InstrumentedAttribute, "__get__"),
    ]
    before = [vars(owner)[name] for owner, name in owners]
    inside: list[object] = []

    def work(session: Session) -> None:
        session.scalars(select(Book).options(joinedload(Book.author))).all()
        inside.append(vars(attributes.InstrumentedAttribute)["__get__"])

    captured(engine, work)
    assert inside[0] is not before[-1]
    assert all(vars(owner)[name] is original for (owner, name), original in zip(owners, before, strict=True))


def test_instances_are_unchanged(engine: Engine) -> None:
    """Identity, isinstance, pickling, expire and refresh behave as without the detector."""

    def work(session: Session) -> None:
        book = session.scalars(select(Book).options(joinedload(Book.author)).where(Book.id == 1)).one()
        author = book.author
        assert book.author is author and isinstance(author, Author)
        assert pickle.loads(pickle.dumps(book)).author.name == author.name
        session.expire(book)
        assert book.author is author
        session.refresh(book)
        assert book.title == "book 1"

    captured(engine, work)


class _Base(DeclarativeBase):
    pass


class Parent(_Base):
    __tablename__ = "qgsa_eager_parent"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    children: Mapped[list[Child]] = relationship(lazy="selectin")


class Child(_Base):
    __tablename__ = "qgsa_eager_child"
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("qgsa_eager_parent.id"))


def test_eager_lazy_default(tmp_path: Any) -> None:
    """A relationship with lazy="selectin" whose collection no code reads is a finding naming lazy=."""
    engine = create_engine(f"sqlite:///{tmp_path / 'eager.db'}")
    _Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Parent(id=1, name="p", children=[Child(id=1)])])
        session.commit()
    [finding] = unused(captured(engine, lambda s: [p.name for p in s.scalars(select(Parent))]))
    assert finding.relation == "Parent.children"
    assert "lazy=" in finding.message and 'lazy="select"' in finding.suggestion
    assert unused(captured(engine, lambda s: [p.children for p in s.scalars(select(Parent))])) == []
    engine.dispose()


def test_async_awaitable_attrs(tmp_path: Any) -> None:
    """An AsyncSession's read through awaitable_attrs counts as a read."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from ._models import seed

    sync = create_engine(f"sqlite:///{tmp_path / 'async.db'}")
    seed(sync)
    sync.dispose()
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'async.db'}")

    async def main() -> tuple[Capture, Capture]:
        instrument(engine)
        query = select(Book).options(selectinload(Book.reviews)).where(Book.id == 1)
        async with AsyncSession(engine) as session, queryguard.capture(action="none", explain=False) as read:
            book = (await session.scalars(query)).one()
            assert len(await book.awaitable_attrs.reviews) == 2
        async with (
            AsyncSession(engine) as session,
            queryguard.capture(action="none", explain=False) as unread,
        ):
            if True:
                (await session.scalars(query)).one()
        await engine.dispose()
        return read, unread

    read, unread = asyncio.run(main())
    assert unused(read) == []
    assert [f.relation for f in unused(unread)] == ["Book.reviews"]


def test_restored_when_a_capture_stops_without_detection(engine: Engine) -> None:
    """A capture stopped with act=False (no findings computed) still gives SQLAlchemy its functions back."""
    original = vars(attributes.InstrumentedAttribute)["__get__"]
    instrument(engine)
    cap = queryguard.capture(action="none", explain=False).start()
    try:
        with Session(engine) as session:
            session.scalars(select(Book).options(joinedload(Book.author))).all()
        assert vars(attributes.InstrumentedAttribute)["__get__"] is not original
    finally:
        cap.stop(act=False)
    assert vars(attributes.InstrumentedAttribute)["__get__"] is original
