"""Write-loop fixes in SQLAlchemy's words: they name the mapped class, and the fix they give works."""

from __future__ import annotations

from queryguard_sqlalchemy import instrument
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, delete, insert, select
from sqlalchemy.orm import Session

import queryguard

from ._models import Review


def test_a_write_loop_fix_names_the_mapped_class_and_works(engine: Engine) -> None:
    """Reviews flushed one at a time: the fix says insert(Review); applied, it leaves no write loop."""
    instrument(engine)
    with Session(engine) as session:
        with queryguard.capture() as cap:
            for stars in (1, 2, 3):
                session.add(Review(id=9000 + stars, book_id=1, stars=stars))
                session.flush()
        session.rollback()
        (finding,) = [f for f in cap.findings if f.kind == "write_loop"]
        assert "session.execute(insert(Review), [dict(...), ...])" in finding.suggestion
        with queryguard.capture() as fixed:
            session.execute(
                insert(Review), [{"id": 9000 + stars, "book_id": 1, "stars": stars} for stars in (1, 2, 3)]
            )
        session.rollback()
    assert [f.kind for f in fixed.findings if f.kind == "write_loop"] == []


def test_a_delete_loop_fix_names_the_class_column(engine: Engine) -> None:
    """Rows deleted one by one: the fix filters on Review.id (a mapped class has no .c)."""
    instrument(engine)
    with Session(engine) as session:
        ids = session.scalars(select(Review.id).limit(2)).all()
        with queryguard.capture() as cap:
            for review_id in ids:
                session.execute(delete(Review).where(Review.id == review_id))
        session.rollback()
    (finding,) = [f for f in cap.findings if f.kind == "write_loop"]
    assert "delete(Review).where(Review.id.in_(ids))" in finding.suggestion


def test_an_unmapped_table_is_named_as_a_table(sqlite_engine: Engine) -> None:
    """A Core table no class maps, written through a Session: the fix names the table and its .c columns."""
    table = Table(
        "qg_unmapped_log", MetaData(), Column("id", Integer, primary_key=True), Column("line", String)
    )
    table.create(sqlite_engine)
    instrument(sqlite_engine)
    try:
        with Session(sqlite_engine) as session, queryguard.capture() as cap:
            for n in (1, 2):
                session.execute(insert(table).values(id=n, line="x"))
            for n in (1, 2):
                session.execute(delete(table).where(table.c.id == n))
    finally:
        table.drop(sqlite_engine)
    fixes = sorted(f.suggestion for f in cap.findings if f.kind == "write_loop")
    assert fixes == [
        "delete them at once: session.execute(delete(qg_unmapped_log).where(qg_unmapped_log.c.id.in_(ids)))",
        "insert them at once: session.execute(insert(qg_unmapped_log), [dict(...), ...])",
    ]
