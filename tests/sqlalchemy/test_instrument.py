"""instrument()/uninstrument(): every kind of target, idempotence, and nothing left behind."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from queryguard_sqlalchemy import _engine, _instrument, _orm, instrument, uninstrument
from queryguard_sqlalchemy._engine import engine_facts
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Mapper, Session, sessionmaker

import queryguard
from queryguard import Capture, Config

from ._models import Author, Book, Tag


def capture() -> Capture:
    """A capture that only collects."""
    return queryguard.capture(action="none", explain=False)


def no_listener_left(target: Engine) -> bool:
    """True when neither the statement listeners nor the ORM listeners are registered anywhere."""
    return not _engine.listening(target) and not _engine.listening(Engine) and not _orm.listening()


def count(engine: Engine) -> int:
    """Statements one small ORM query records into a fresh capture."""
    with Session(engine) as session, capture() as cap:
        session.scalars(select(Tag)).all()
    return int(cap.query_count)


def test_uninstrument_removes_every_listener(sqlite_engine: Engine) -> None:
    """After uninstrument, SQLAlchemy reports none of queryguard's listeners on any target."""
    instrument(sqlite_engine)
    assert event.contains(sqlite_engine, "do_execute", _engine.do_execute)
    assert event.contains(Mapper, "load", _orm.on_load)
    uninstrument(sqlite_engine)
    for name, fn in _engine._LISTENERS:
        assert not event.contains(sqlite_engine, name, fn)
    assert not event.contains(Mapper, "load", _orm.on_load)
    assert not event.contains(Mapper, "refresh", _orm.on_load)
    assert count(sqlite_engine) == 0
    assert _instrument._targets == {} and _instrument._engine_users == {}


def test_instrumenting_twice_is_harmless(sqlite_engine: Engine) -> None:
    """A second instrument() adds nothing: one event per statement, and one uninstrument undoes it."""
    instrument(sqlite_engine)
    instrument(sqlite_engine)
    assert count(sqlite_engine) == 1
    uninstrument(sqlite_engine)
    uninstrument(sqlite_engine)
    assert no_listener_left(sqlite_engine)


def test_every_engine_of_the_process(tmp_path: Path) -> None:
    """instrument() covers engines created later; one statement is recorded once even if also instrumented."""
    instrument()
    try:
        engine = create_engine(f"sqlite:///{tmp_path / 'later.db'}")
        with engine.connect() as conn, capture() as cap:
            conn.execute(text("SELECT 1"))
        assert cap.query_count == 1
        instrument(engine)
        with engine.connect() as conn, capture() as cap:
            conn.execute(text("SELECT 1"))
        assert cap.query_count == 1
        uninstrument(engine)
        assert _engine.listening(Engine)
    finally:
        uninstrument()
    assert no_listener_left(engine)
    engine.dispose()


def test_sessionmaker_instruments_the_engines_its_sessions_use(sqlite_engine: Engine) -> None:
    """instrument(sessionmaker) records its sessions' statements; uninstrument removes all it added."""
    factory = sessionmaker(sqlite_engine)
    instrument(factory)
    with factory() as session, capture() as cap:
        session.scalars(select(Tag)).all()
    assert cap.query_count == 1
    ((cls, name, after_begin),) = _instrument._targets[id(factory.class_)][2]
    assert (cls, name) == (factory.class_, "after_begin") and event.contains(cls, name, after_begin)
    uninstrument(factory)
    assert not event.contains(cls, name, after_begin)
    assert no_listener_left(sqlite_engine)


def test_session_listener_and_engine_listener_together(sqlite_engine: Engine) -> None:
    """Sessionmaker and engine both instrumented: each statement once; listeners stay until both go."""
    factory = sessionmaker(sqlite_engine)
    instrument(sqlite_engine)
    instrument(factory)
    with factory() as session, capture() as cap:
        session.scalars(select(Tag)).all()
    assert cap.query_count == 1
    uninstrument(factory)
    assert _engine.listening(sqlite_engine)
    uninstrument(sqlite_engine)
    assert no_listener_left(sqlite_engine)


async def test_async_engine_and_async_sessionmaker(sqlite_path: Path) -> None:
    """An AsyncEngine is instrumented through its sync_engine; an async_sessionmaker through its sessions."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{sqlite_path}")
    factory = async_sessionmaker(engine)
    for target in (engine, factory):
        instrument(target)
        async with factory() as session:
            with capture() as cap:
                assert len((await session.scalars(select(Tag))).all()) == 5
        assert cap.query_count == 1 and cap.queries[0].is_async
        uninstrument(target)
        assert no_listener_left(engine.sync_engine)
    await engine.dispose()


def test_session_class_target(sqlite_engine: Engine) -> None:
    """A Session subclass is a target too."""

    class ShopSession(Session):
        pass

    instrument(ShopSession)
    with ShopSession(sqlite_engine) as session, capture() as cap:
        session.scalars(select(Tag)).all()
    with Session(sqlite_engine) as other, capture() as other_cap:
        other.scalars(select(Tag)).all()  # the engine is instrumented now: any session is recorded
    uninstrument(ShopSession)
    assert cap.query_count == 1 and other_cap.query_count == 1
    assert no_listener_left(sqlite_engine)


@pytest.mark.parametrize("target", [42, "engine", Session(), AsyncSession])
def test_unsupported_target_is_a_type_error(target: object) -> None:
    """Anything else is refused with a message naming what is accepted."""
    if target is AsyncSession:  # the class is accepted: through its sync_session_class
        instrument(target)
        uninstrument(target)
        return
    with pytest.raises(TypeError, match="takes an Engine, an AsyncEngine"):
        instrument(target)


def test_config_must_be_a_config(sqlite_engine: Engine) -> None:
    """config= takes a queryguard.Config."""
    with pytest.raises(TypeError, match=r"queryguard\.Config"):
        instrument(sqlite_engine, config={"action": "raise"})  # type: ignore[arg-type]


def test_config_gives_each_session_transaction_a_capture(sqlite_engine: Engine) -> None:
    """With config=, a session transaction outside any capture is a unit of its own."""
    seen: list[Capture] = []
    factory = sessionmaker(sqlite_engine)
    instrument(factory, config=Config(action="none", explain=False, callback=seen.append))
    try:
        with factory() as session:
            for book in session.scalars(select(Book)).all():
                assert book.author
        with capture() as outer, factory() as session:
            session.scalars(select(Tag)).all()
    finally:
        uninstrument(factory)
    assert [cap.name for cap in seen] == ["Session transaction"]
    assert [f.relation for f in seen[0].findings if f.kind == "n_plus_one"] == ["Book.author"]
    assert outer.query_count == 1
    assert queryguard.active_captures() == ()


def test_config_units_log_findings(sqlite_engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """The default action logs the unit's findings when the transaction ends."""
    factory = sessionmaker(sqlite_engine)
    instrument(factory, config=Config(explain=False))
    try:
        with caplog.at_level(logging.WARNING, logger="queryguard"), factory() as session:
            for author in session.scalars(select(Author)).all():
                assert author.books
    finally:
        uninstrument(factory)
    assert "queryguard: Session transaction ran 11 queries" in caplog.text
    assert "N+1: Author.books loaded 10 times" in caplog.text


def test_no_password_or_dsn_in_the_alias() -> None:
    """The alias is the database name; neither the password nor the host ever reaches an event."""
    engine = create_engine("postgresql+psycopg://shop:s3cret@db.internal:5432/shop")
    vendor, alias, is_async = engine_facts(engine)
    assert (vendor, alias, is_async) == ("postgresql", "shop", False)
    sqlite = create_engine("sqlite:////srv/private/data/app.db")
    assert engine_facts(sqlite)[1] == "app.db"
    assert engine_facts(create_engine("sqlite://"))[1] == "memory"


async def test_config_units_with_async_sessions(sqlite_path: Path) -> None:
    """With an async_sessionmaker, each concurrent session transaction is its own unit."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{sqlite_path}")
    seen: list[Capture] = []
    factory = async_sessionmaker(engine)
    instrument(factory, config=Config(action="none", explain=False, callback=seen.append))

    async def unit(n: int) -> None:
        async with factory() as session:
            for _ in range(n):
                await session.scalar(select(Tag.name).where(Tag.id == 1))

    try:
        await asyncio.gather(*(unit(n) for n in range(1, 6)))
    finally:
        uninstrument(factory)
        await engine.dispose()
    assert sorted(cap.query_count for cap in seen) == [1, 2, 3, 4, 5]
    assert queryguard.active_captures() == ()
