"""SQLAlchemy (sync): rows written one at a time (write loops) against the bulk APIs (negatives)."""

from __future__ import annotations

from _corpus import cases_for
from sqlalchemy import delete, insert, literal_column, select, text, update
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy_models import Author, Book, Counter, Event, Tag

case = cases_for("sqlalchemy")


@case()
def add_and_flush_each_in_loop(session: Session) -> None:
    """session.add(obj) and flush() for each new row: a write loop of INSERTs."""
    for i in range(5):
        session.add(Counter(id=100 + i, name=f"new {i}"))
        session.flush()  # expect: write_loop


@case()
def add_and_flush_two(session: Session) -> None:
    """Two rows added and flushed one at a time: a write loop at two (item 2)."""
    for i in (1, 2):
        session.add(Counter(id=200 + i, name=f"pair {i}"))
        session.flush()  # expect: write_loop


@case()
def add_all_then_flush_with_ids(session: Session) -> None:
    """session.add_all() of twenty rows with their keys, one flush: executemany, no finding."""
    session.add_all([Counter(id=300 + i, name=f"many {i}") for i in range(20)])
    session.flush()


@case(databases=("sqlite", "mysql"))  # PostgreSQL's sequences do not know the seeded keys
def add_all_without_keys_then_flush(session: Session) -> None:
    """add_all() of five rows whose keys the database assigns, one flush: on SQLite the ORM sends one
    INSERT ... RETURNING per row, its own way of writing one call; no finding."""
    session.add_all([Counter(name=f"keyless {i}") for i in range(5)])
    session.flush()


@case(databases=("sqlite", "mysql"))
def add_keyless_in_loop_and_flush_each(session: Session) -> None:
    """A keyless row added and flushed per iteration: one flush per row is a write loop."""
    for i in range(3):
        session.add(Counter(name=f"one by one {i}"))
        session.flush()  # expect: write_loop


@case()
def change_each_and_flush_once(session: Session) -> None:
    """Twenty loaded objects changed, one flush: the ORM batches the UPDATEs, no finding."""
    for counter in session.scalars(select(Counter)):
        counter.value = counter.id * 3
    session.flush()


@case()
def change_and_flush_each_in_loop(session: Session) -> None:
    """Each object changed and flushed in turn: a write loop of UPDATEs."""
    for counter in session.scalars(select(Counter).where(Counter.id <= 6)).all():
        counter.value += 1
        session.flush()  # expect: write_loop


@case()
def delete_and_flush_each_in_loop(session: Session) -> None:
    """session.delete(obj) and flush() for each row: a write loop of DELETEs."""
    for event in session.scalars(select(Event).where(Event.n <= 4)).all():
        session.delete(event)
        session.flush()  # expect: write_loop


@case()
def update_statement_per_row_in_loop(session: Session) -> None:
    """update(Counter).where(id == i) executed for each id: a write loop."""
    for counter_id in range(1, 7):
        statement = update(Counter).where(Counter.id == counter_id).values(value=counter_id)
        session.execute(statement)  # expect: write_loop


@case()
def insert_statement_per_row_in_loop(session: Session) -> None:
    """insert(Counter).values(...) executed once per row: a write loop."""
    for i in range(4):
        session.execute(insert(Counter).values(id=400 + i, name=f"one {i}"))  # expect: write_loop


@case()
def insert_values_list(session: Session) -> None:
    """insert(Counter).values([...]): one multi-row INSERT, no finding."""
    session.execute(insert(Counter).values([{"id": 500 + i, "name": f"multi {i}"} for i in range(20)]))


@case()
def insert_executemany(session: Session) -> None:
    """session.execute(insert(Counter), [dicts]): one batch, no finding."""
    session.execute(insert(Counter), [{"id": 600 + i, "name": f"bulk {i}"} for i in range(20)])


@case()
def bulk_update_by_primary_key(session: Session) -> None:
    """session.execute(update(Counter), [dicts with ids]): the ORM's bulk UPDATE, no finding."""
    session.execute(update(Counter), [{"id": i, "value": i * 2} for i in range(1, 11)])


@case()
def insert_executemany_returning(session: Session) -> list[int]:
    """scalars(insert(Counter).returning(Counter.id), [dicts]): insertmanyvalues, no finding (item 7)."""
    rows = [{"id": 800 + i, "name": f"returned {i}"} for i in range(20)]
    return list(session.scalars(insert(Counter).returning(Counter.id), rows))


@case()
def bulk_save_objects_once(session: Session) -> None:
    """session.bulk_save_objects([...]) of twenty new rows: one batch, no finding (item 7)."""
    session.bulk_save_objects([Counter(id=900 + i, name=f"saved {i}") for i in range(20)])


@case()
def insert_from_select_named_columns(session: Session) -> None:
    """insert(Counter).from_select([...], select(...)): INSERT ... SELECT with named columns, no finding."""
    source = select(Counter.id + 1000, Counter.name, Counter.value).where(Counter.id <= 10)
    session.execute(insert(Counter).from_select(["id", "name", "value"], source))


@case(databases=("sqlite",))
def upsert_on_conflict_sqlite(session: Session) -> None:
    """SQLite insert().values([...]).on_conflict_do_update(): one upsert, no finding (item 7)."""
    statement = sqlite.insert(Counter).values([{"id": i, "name": f"up {i}"} for i in range(1, 31)])
    session.execute(statement.on_conflict_do_update(index_elements=[Counter.id], set_={"name": "upserted"}))


@case(databases=("postgresql",))
def upsert_on_conflict_postgresql(session: Session) -> None:
    """PostgreSQL insert().values([...]).on_conflict_do_update(): one upsert, no finding (item 7)."""
    statement = postgresql.insert(Counter).values([{"id": i, "name": f"up {i}"} for i in range(1, 31)])
    session.execute(
        statement.on_conflict_do_update(index_elements=[Counter.id], set_={"name": statement.excluded.name})
    )


@case(databases=("mysql",))
def upsert_on_duplicate_key_mysql(session: Session) -> None:
    """MySQL/MariaDB insert().values([...]).on_duplicate_key_update(): one upsert, no finding (item 7)."""
    statement = mysql.insert(Counter).values([{"id": i, "name": f"up {i}"} for i in range(1, 31)])
    session.execute(statement.on_duplicate_key_update(name=statement.inserted.name))


@case()
def bulk_insert_then_text_select_star(session: Session) -> int:
    """A bulk insert, then text("SELECT * ...") to read the rows back: the user's star only (item 7)."""
    session.execute(insert(Counter), [{"id": 1100 + i, "name": f"bulk {i}"} for i in range(20)])
    rows = session.execute(text("SELECT * FROM acc_counter WHERE id >= 1100")).all()  # expect: select_star
    return len(rows)


@case()
def objects_from_a_star_statement_then_bulk_update(session: Session) -> None:
    """Objects loaded from text("SELECT * ..."), one bulk UPDATE by key: the star is the finding (item 7)."""
    star = text("SELECT * FROM acc_counter WHERE id <= 10")
    counters = session.scalars(select(Counter).from_statement(star)).all()  # expect: select_star
    session.execute(update(Counter), [{"id": c.id, "value": c.value + 1} for c in counters])


@case()
def literal_star_column_after_bulk_insert(session: Session) -> int:
    """select(literal_column("*")).select_from(Counter): the user asked for *, select_star (item 7)."""
    session.execute(insert(Counter).values([{"id": 1200 + i, "name": f"multi {i}"} for i in range(10)]))
    rows = session.execute(select(literal_column("*")).select_from(Counter)).all()  # expect: select_star
    return len(rows)


@case()
def update_where_once(session: Session) -> None:
    """One UPDATE ... WHERE for many rows: no finding."""
    session.execute(update(Counter).where(Counter.id <= 10).values(value=Counter.value + 1))


@case()
def delete_where_once(session: Session) -> None:
    """One DELETE ... WHERE for many rows: no finding."""
    session.execute(delete(Event).where(Event.n > 990))


@case()
def text_update_per_row_in_loop(session: Session) -> None:
    """text("UPDATE ... WHERE id = :id") with bound values for each row: a write loop."""
    for counter_id in range(1, 5):
        statement = text("UPDATE acc_counter SET value = :v WHERE id = :id")
        session.execute(statement, {"v": counter_id, "id": counter_id})  # expect: write_loop


@case()
def text_update_executemany(session: Session) -> None:
    """The same text() UPDATE given a list of parameter sets: executemany, no finding."""
    statement = text("UPDATE acc_counter SET value = :v WHERE id = :id")
    session.execute(statement, [{"v": i, "id": i} for i in range(1, 9)])


@case()
def many_to_many_append_and_flush_in_loop(session: Session) -> None:
    """book.tags.append(tag) and flush() per tag: one INSERT into the join table per tag (item 2)."""
    book = session.get(Book, 1)
    assert book is not None
    tags = session.scalars(select(Tag).where(Tag.id.in_([3, 4, 5]))).all()
    for tag in tags:
        if tag not in book.tags:
            book.tags.append(tag)
            session.flush()  # expect: write_loop


@case()
def write_only_add_in_loop_flush_once(session: Session) -> None:
    """Books added through a WriteOnlyMapped collection in a loop, one flush: batched, no finding."""
    author = session.get(Author, 1)
    assert author is not None
    for i in range(5):
        author.wo_books.add(Book(id=700 + i, title=f"new {i}", summary="", author_id=1))
    session.flush()


@case()
def save_helper_from_two_callers(session: Session) -> None:
    """One rename-and-flush helper called once from two places, two rows: no finding (item 1)."""

    def rename(author_id: int, name: str) -> None:
        session.execute(update(Author).where(Author.id == author_id).values(name=name))

    rename(1, "first")
    rename(2, "second")


@case()
def save_helper_called_in_loop(session: Session) -> None:
    """The same helper called in a loop: a write loop at the helper's line (item 1)."""

    def rename(author_id: int, name: str) -> None:
        session.execute(update(Author).where(Author.id == author_id).values(name=name))  # expect: write_loop

    for author_id in range(1, 5):
        rename(author_id, f"renamed {author_id}")
