"""ORM statements on SQLite, PostgreSQL and MariaDB: what is found, what it is called, how to fix it."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from queryguard_sqlalchemy import instrument
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session, joinedload, selectinload, subqueryload

import queryguard
from queryguard import Capture, Finding
from queryguard._callsite import line_of

from ._models import AUTHORS, BOOKS_PER_AUTHOR, Author, Book, Review, Tag

pytestmark = pytest.mark.usefixtures("engine")
HERE = "tests/sqlalchemy/test_orm.py"


def line() -> int:
    """The caller's current line."""
    return sys._getframe(1).f_lineno


def only(cap: Capture, kind: str) -> Finding:
    """The one finding of ``kind``."""
    found = [f for f in cap.findings if f.kind == kind]
    assert len(found) == 1, [f.message for f in cap.findings]
    return found[0]


def capture(**settings: Any) -> Capture:
    """A capture that only collects (no action, no EXPLAIN)."""
    return queryguard.capture(action="none", explain=False, **settings)


def test_lazy_many_to_one_is_an_n_plus_one_named_after_the_relation(engine: Engine) -> None:
    """Book.author read in a loop: N+1 on Book.author with joinedload, the loop and the parent query."""
    instrument(engine)
    with Session(engine) as session, capture() as cap:
        first_books = [a * BOOKS_PER_AUTHOR + 1 for a in range(AUTHORS)]  # one per author: one lazy load each
        books = session.scalars(select(Book).where(Book.id.in_(first_books))).all()
        parent = line() - 1
        for book in books:
            assert book.author.name
            loop = line() - 1
    finding = only(cap, "n_plus_one")
    assert finding.relation == "Book.author"
    assert finding.count == AUTHORS
    assert (
        finding.callsite
        == f"{HERE}:{loop} in test_lazy_many_to_one_is_an_n_plus_one_named_after_the_relation"
    )
    assert finding.parent_callsite is not None and finding.parent_callsite.startswith(f"{HERE}:{parent} ")
    assert "joinedload(Book.author)" in finding.suggestion
    assert finding.message.startswith(f"N+1: Book.author loaded {AUTHORS} times from {HERE}:{loop} ")
    assert finding.vendor == engine.dialect.name.replace("mariadb", "mysql")


@pytest.mark.parametrize(
    ("relation", "kind", "fix"),
    [
        ("Author.books", "one_to_many", "selectinload(Author.books)"),
        ("Author.profile", "one_to_one_reverse", "selectinload(Author.profile)"),
        ("Book.tags", "many_to_many", "selectinload(Book.tags)"),
        ("Book.reviews", "one_to_many", "selectinload(Book.reviews)"),
    ],
)
def test_lazy_collections_are_n_plus_one_with_selectinload(
    engine: Engine, relation: str, kind: str, fix: str
) -> None:
    """Collections and one-to-one back references read in a loop: N+1 suggesting selectinload."""
    model, attr = relation.split(".")
    cls = {"Author": Author, "Book": Book}[model]
    instrument(engine)
    with Session(engine) as session, capture() as cap:
        for obj in session.scalars(select(cls)).all():
            getattr(obj, attr)
    finding = only(cap, "n_plus_one")
    assert (finding.relation, finding.details["relation_kind"]) == (relation, kind)
    assert fix in finding.suggestion
    assert finding.count == (AUTHORS if model == "Author" else AUTHORS * BOOKS_PER_AUTHOR)


def test_deferred_column_in_a_loop_suggests_undefer(engine: Engine) -> None:
    """A deferred column read per row names the column and suggests undefer."""
    instrument(engine)
    with Session(engine) as session, capture() as cap:
        for book in session.scalars(select(Book).limit(5)).all():
            assert book.summary
    finding = only(cap, "n_plus_one")
    assert finding.relation == "Book.summary"
    assert "undefer(Book.summary)" in finding.suggestion


def test_expired_attributes_after_commit_suggest_expire_on_commit(engine: Engine) -> None:
    """Reading attributes expired by a commit names the attribute and suggests expire_on_commit=False."""
    instrument(engine)
    with Session(engine) as session:
        books = session.scalars(select(Book).limit(5)).all()
        session.commit()
        with capture() as cap:
            for book in books:
                assert book.title
    finding = only(cap, "n_plus_one")
    assert finding.relation == "Book.title"
    assert finding.details["relation_kind"] == "expired"
    assert "expire_on_commit=False" in finding.suggestion


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(
            lambda: [selectinload(Author.books).options(selectinload(Book.reviews), selectinload(Book.tags))],
            id="selectinload",
        ),
        pytest.param(
            lambda: [joinedload(Author.books).options(joinedload(Book.reviews), joinedload(Book.tags))],
            id="joinedload",
        ),
        pytest.param(
            lambda: [subqueryload(Author.books).options(subqueryload(Book.reviews), subqueryload(Book.tags))],
            id="subqueryload",
        ),
        pytest.param(
            lambda: [selectinload(Author.books).options(joinedload(Book.tags), subqueryload(Book.reviews))],
            id="mixed",
        ),
    ],
)
def test_correct_eager_loading_has_no_finding(engine: Engine, options: object) -> None:
    """selectinload, joinedload and subqueryload are never reported as the N+1 they prevent."""
    instrument(engine)
    with Session(engine) as session, capture() as cap:
        authors = session.scalars(select(Author).options(*options())).unique().all()  # type: ignore[operator]
        for author in authors:
            for book in author.books:
                assert book.reviews and book.tags
    assert cap.query_count >= 1
    assert cap.findings == []


def test_eager_load_during_a_lazy_load_is_not_the_lazy_relation(engine: Engine) -> None:
    """The selectinload run while a lazy collection loads is not named after the lazy relation."""
    instrument(engine)
    with Session(engine) as session, capture() as cap:
        author = session.get(Author, 1)
        assert author is not None
        session.scalars(select(Book).options(selectinload(Book.reviews)).where(Book.author_id == 1)).all()
        assert author.books
    assert [q.relation for q in cap.queries].count("Author.books") <= 1


def test_duplicate_query_suggests_the_identity_map(engine: Engine) -> None:
    """The same SELECT with the same parameters twice: a duplicate in SQLAlchemy's words."""
    instrument(engine)
    with Session(engine) as session, capture() as cap:
        for _ in range(2):
            session.execute(select(func.count(Review.id)).where(Review.stars == 5)).scalar_one()
    finding = only(cap, "duplicate_query")
    assert finding.count == 2
    assert "session.get" in finding.suggestion


def test_single_row_inserts_in_a_loop_are_a_write_loop(engine: Engine) -> None:
    """session.add + flush per row: a write loop with a bulk insert fix; nothing is left behind."""
    instrument(engine)
    with Session(engine) as session, capture() as cap:
        for i in range(5):
            session.add(Review(id=10_000 + i, book_id=1, stars=3))
            session.flush()
        session.rollback()
    finding = only(cap, "write_loop")
    assert finding.count == 5
    assert "insert(" in finding.suggestion
    assert all(q.orm == "sqlalchemy" for q in cap.queries if q.sql.startswith("INSERT"))
    with Session(engine) as session:
        assert session.get(Review, 10_000) is None


def test_bulk_insert_is_not_a_write_loop(engine: Engine) -> None:
    """One executemany (or multi-row VALUES) insert is the fix, not the problem."""
    instrument(engine)
    with engine.connect() as conn, capture() as cap:
        conn.execute(insert(Tag), [{"id": 100 + i, "name": f"bulk {i}"} for i in range(10)])
        conn.rollback()
    assert cap.findings == []
    assert cap.query_count >= 1


def test_select_star_budget_and_slow_query(engine: Engine) -> None:
    """Raw SQL with *, a statement budget and a slow-query limit are all reported."""
    instrument(engine)
    with engine.connect() as conn, capture(max_queries=1, slow_query_ms=0.000_001) as cap:
        conn.execute(text("SELECT * FROM qgsa_tag")).all()
        conn.execute(text("SELECT name FROM qgsa_tag WHERE id = 1")).all()
    kinds = {f.kind for f in cap.findings}
    assert {"select_star", "query_budget", "slow_query"} <= kinds


def test_statement_facts(engine: Engine) -> None:
    """Vendor, database alias, row counts (counted for ORM SELECTs), executemany, sync-ness."""
    instrument(engine)
    with engine.connect():
        pass  # the dialect's first-connect queries are recorded too: keep them out of this capture
    with Session(engine) as session, capture() as cap:
        assert len(session.scalars(select(Book)).all()) == AUTHORS * BOOKS_PER_AUTHOR
        session.execute(insert(Tag), [{"id": 200 + i, "name": "x"} for i in range(3)])
        session.rollback()
    select_event, insert_event = cap.queries[0], cap.queries[-1]
    assert select_event.rowcount == AUTHORS * BOOKS_PER_AUTHOR
    assert select_event.vendor in ("sqlite", "postgresql", "mysql")
    assert select_event.alias == (engine.url.database or "").rsplit("/", 1)[-1]
    assert select_event.orm == "sqlalchemy" and not select_event.is_async and not select_event.blocking
    assert select_event.duration_ms >= 0 and select_event.error is None
    assert insert_event.sql.startswith("INSERT") and insert_event.orm == "sqlalchemy"


def test_failed_statement_is_recorded_and_the_error_is_unchanged(engine: Engine) -> None:
    """A failing statement raises exactly what it raises without queryguard, and is recorded."""
    statement = text("SELECT no_such_column FROM qgsa_tag")
    with engine.connect() as conn, pytest.raises(Exception) as bare:
        conn.execute(statement)
    instrument(engine)
    with engine.connect() as conn, capture() as cap:
        with pytest.raises(Exception) as instrumented:
            conn.execute(statement)
        conn.rollback()
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    assert type(instrumented.value) is type(bare.value)
    assert type(instrumented.value.orig) is type(bare.value.orig)  # type: ignore[attr-defined]
    assert str(instrumented.value) == str(bare.value)
    assert cap.queries[0].error == type(bare.value.orig).__name__  # type: ignore[attr-defined]


def test_nothing_is_recorded_outside_a_capture(engine: Engine) -> None:
    """Without an active capture statements run as usual and nothing is kept."""
    instrument(engine)
    with Session(engine) as session:
        outside = session.scalars(select(Tag)).all()
        with capture() as cap:
            inside = session.scalars(select(Tag)).all()
        after = session.scalars(select(Tag)).all()
    assert len(outside) == len(inside) == len(after) == 5
    assert cap.query_count == 1


def author_name(book: Book) -> str:
    """Read the author from one place, whoever calls (a helper both loops below use)."""
    return book.author.name


def test_repeated_statements_keep_their_own_call_sites(engine: Engine) -> None:
    """The same lazy load alternating between two call sites is reported at each, never mixed up."""
    instrument(engine)
    with Session(engine) as session, capture() as cap:
        books = session.scalars(select(Book).order_by(Book.id)).all()
        for book in books[::BOOKS_PER_AUTHOR]:  # one book per author: a lazy load each time
            if book.id % 2:
                first = line() + 1
                assert author_name(book)
            else:
                second = line() + 1
                assert author_name(book)
        session.expunge_all()
        for book in session.scalars(select(Book).order_by(Book.id)).all()[::BOOKS_PER_AUTHOR]:
            direct = line() + 1
            assert book.author.name
    sites = sorted(q.callsite for q in cap.queries if q.relation == "Book.author")
    name = "test_repeated_statements_keep_their_own_call_sites"
    helper = f"{HERE}:{author_name.__code__.co_firstlineno + 2} in author_name"
    assert sites == sorted([helper] * AUTHORS + [f"{HERE}:{direct} in {name}"] * AUTHORS)
    # The raw site keeps the helper's caller too: each event has the line it really came from.
    callers = {line_of(*q._site[1]) for q in cap.queries if q.callsite == helper}
    assert callers == {first, second}
