"""SQLAlchemy (sync): pages, duplicates, helpers called from several places, two engines, text() SQL and
``SELECT *``."""

from __future__ import annotations

from _corpus import cases_for
from sqlalchemy import exists, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy_models import Author, Book, Event, Tag

case = cases_for("sqlalchemy")


@case()
def page_loop_limit_offset(session: Session) -> int:
    """A real page loop: 100 events per page with limit()/offset() until empty; no finding (item 4)."""
    seen, start = 0, 0
    while True:
        page = session.scalars(select(Event).order_by(Event.id).limit(100).offset(start)).all()
        if not page:
            break
        seen += len(page)
        start += 100
    return seen


@case()
def keyset_page_loop(session: Session) -> int:
    """Keyset pagination: WHERE id > last ORDER BY id LIMIT 250 until empty; no finding (item 4)."""
    last, seen = 0, 0
    while True:
        page = session.scalars(select(Event).where(Event.id > last).order_by(Event.id).limit(250)).all()
        if not page:
            break
        seen += len(page)
        last = page[-1].id
    return seen


@case()
def limit_one_per_item_in_loop(session: Session) -> list[str]:
    """.limit(1) for each author: an N+1, not a page (item 4)."""
    titles = []
    for author in session.scalars(select(Author).order_by(Author.id)).all():
        query = select(Book.title).where(Book.author_id == author.id).order_by(Book.id).limit(1)
        titles.append(session.scalars(query).first() or "")  # expect: n_plus_one
    return titles


@case()
def query_first_per_item_in_loop(session: Session) -> list[str]:
    """Legacy session.query(...).first() for each author (LIMIT ? OFFSET ? on SQLite): an N+1 (item 4)."""
    titles = []
    for author in session.query(Author).order_by(Author.id).all():
        book = session.query(Book).filter(Book.author_id == author.id).first()  # expect: n_plus_one
        titles.append(book.title if book else "")
    return titles


@case()
def offset_one_per_item_in_loop(session: Session) -> list[str]:
    """The second book of each author with limit(1).offset(1): an N+1, an OFFSET is no page (item 4)."""
    titles = []
    for author_id in range(1, 11):
        query = select(Book.title).where(Book.author_id == author_id).order_by(Book.id).limit(1).offset(1)
        titles.append(session.scalars(query).one())  # expect: n_plus_one
    return titles


@case()
def where_in_loop_without_relationship(session: Session) -> list[int]:
    """select(Book).where(Book.author_id == a.id) written out for each author."""
    sizes = []
    for author in session.scalars(select(Author)).all():
        books = session.scalars(select(Book).where(Book.author_id == author.id)).all()  # expect: n_plus_one
        sizes.append(len(books))
    return sizes


@case()
def one_query_with_in_list(session: Session) -> list[str]:
    """One query with an IN list of thirty ids: no finding."""
    return list(session.scalars(select(Book.title).where(Book.id.in_(range(1, 31)))))


@case()
def grouped_count_once(session: Session) -> list[tuple[int, int]]:
    """The books per author in one GROUP BY: no finding."""
    query = select(Book.author_id, func.count()).group_by(Book.author_id)
    return [(a, n) for a, n in session.execute(query)]


@case()
def same_select_twice(session: Session) -> int:
    """The same select() with the same parameter on two lines: a duplicate."""
    query = select(func.count()).select_from(Book).where(Book.price > 8)
    first = session.scalar(query)  # expect: duplicate_query
    again = session.scalar(query)
    return (first or 0) + (again or 0)


@case()
def same_text_twice(session: Session) -> int:
    """The same text() statement twice: a duplicate."""
    statement = text("SELECT MAX(n) FROM acc_event WHERE kind = :kind")
    first = session.scalar(statement, {"kind": "buy"})  # expect: duplicate_query
    return (first or 0) + (session.scalar(statement, {"kind": "buy"}) or 0)


@case()
def loop_invariant_select_in_loop(session: Session) -> list[int]:
    """A select that does not depend on the loop, run in it with the same parameter: a duplicate."""
    out = []
    for book in session.scalars(select(Book).where(Book.id <= 6)).all():
        query = select(func.max(Book.price)).where(Book.author_id == 11)
        top = session.scalar(query)  # expect: duplicate_query
        out.append((top or 0) - book.price)
    return out


@case()
def helper_from_two_callers(session: Session) -> str:
    """A repository method called by an auth step and by a service, two users: none (item 1)."""

    def find_author(author_id: int) -> Author | None:
        return session.scalars(select(Author).where(Author.id == author_id)).first()

    def authenticate() -> Author | None:
        return find_author(1)

    def service() -> Author | None:
        return find_author(2)

    first, second = authenticate(), service()
    return (first.name if first else "") + (second.name if second else "")


@case()
def helper_called_in_loop(session: Session) -> list[str]:
    """The repository method called in a loop: an N+1 at its line (item 1)."""

    def find_author(author_id: int) -> Author | None:
        return session.scalars(select(Author).where(Author.id == author_id)).first()  # expect: n_plus_one

    found = [find_author(i) for i in range(1, 9)]
    return [a.name for a in found if a]


@case()
def same_select_on_two_engines(session: Session, other_session: Session) -> str:
    """The same SELECT on two engines (two databases): neither a duplicate nor an N+1 (item 6)."""
    query = select(Author.name).where(Author.id == 1)
    return (session.scalar(query) or "") + (other_session.scalar(query) or "")


@case()
def each_engine_in_loop(session: Session, other_session: Session) -> list[str]:
    """The same lookup once per engine in a loop over sessions: no finding (item 6)."""
    query = select(Author.name).where(Author.id == 3)
    return [s.scalar(query) or "" for s in (session, other_session)]


@case()
def text_loop_with_literals(session: Session) -> list[str]:
    """text() with the id formatted into the SQL in a loop: an N+1 (item 5)."""
    names = []
    for author_id in range(1, 7):
        statement = text(f"SELECT name FROM acc_author WHERE id = {author_id}")
        names.append(session.scalar(statement))  # expect: n_plus_one
    return names


@case()
def text_loop_with_bound_params(session: Session) -> list[str]:
    """text() with a bound parameter in a loop: an N+1."""
    statement = text("SELECT name FROM acc_author WHERE id = :id")
    return [session.scalar(statement, {"id": i}) for i in range(1, 7)]  # expect: n_plus_one


@case()
def text_select_star(session: Session) -> int:
    """text("SELECT * ...") written by the user: select_star (item 7)."""
    return len(session.execute(text("SELECT * FROM acc_tag ORDER BY name")).all())  # expect: select_star


@case()
def text_table_star(session: Session) -> int:
    """text("SELECT b.* ...") written by the user: select_star (item 7)."""
    statement = text("SELECT b.* FROM acc_book b JOIN acc_author a ON a.id = b.author_id WHERE a.id = 2")
    return len(session.execute(statement).all())  # expect: select_star


@case()
def orm_select_entity(session: Session) -> int:
    """select(Tag) lists every column by name: no finding."""
    return len(session.scalars(select(Tag)).all())


@case()
def count_and_exists(session: Session) -> bool:
    """func.count() and exists(): no select list to name, no finding."""
    total = session.scalar(select(func.count()).select_from(Book)) or 0
    found = session.scalar(select(exists().where(Book.price > 100)))
    return bool(total) and not found


@case()
def insert_from_select(session: Session) -> None:
    """insert(...).from_select(...) once: no finding."""
    from sqlalchemy import insert
    from sqlalchemy_models import Counter

    source = select(Event.id + 1000, Event.kind).where(Event.n <= 10)
    session.execute(insert(Counter).from_select(["id", "name"], source))


def _author_named(session: Session, name: str) -> Author | None:
    return session.scalars(select(Author).where(Author.name == name)).first()


def _check_name_free(session: Session, name: str) -> bool:
    return _author_named(session, name) is None


def _validate(session: Session, payload: dict[str, str]) -> list[str]:
    return [] if _check_name_free(session, payload["name"]) else ["name taken"]


@case()
def one_validation_per_request_two_requests(session: Session) -> list[int]:
    """A Flask test client sends two sign-ups; each request validates its name once, three frames deep in
    the application: two units of work in one test, not a loop (seen in a Flask API's test suite)."""
    from flask import Flask, request

    app = Flask(__name__)

    @app.post("/authors")
    def create() -> tuple[dict[str, list[str]], int]:
        errors = _validate(session, request.get_json())
        return {"errors": errors}, 400 if errors else 201

    client = app.test_client()
    first = client.post("/authors", json={"name": "new author"})
    second = client.post("/authors", json={"name": "author 1"})
    return [first.status_code, second.status_code]


@case()
def two_expired_objects_read_on_one_line(session: Session) -> str:
    """One line reads a column of two objects that the session expired: each object is refreshed once, by
    two different expressions of one line run once; not a loop (seen in a Flask API: one
    ``User.id == self.id, User.following.contains(user)`` refreshing ``self`` and ``user`` after a commit)."""
    first = session.get(Author, 1)
    second = session.get(Author, 2)
    assert first is not None and second is not None
    session.expire_all()
    return first.name + second.name


@case()
def two_gets_on_one_line(session: Session) -> str:
    """Two lookups written side by side on one line, run once: two places, as on two lines; no finding."""
    first, second = session.get(Author, 1), session.get(Author, 2)
    assert first is not None and second is not None
    return first.name + second.name
