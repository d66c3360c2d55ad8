"""SQLAlchemy's bulk APIs on SQLite, PostgreSQL and MariaDB: the SQL they emit is no ``select_star``.

insertmanyvalues (``session.add_all``, ``execute(insert(M), [dicts])`` with or without RETURNING), multi-row
``insert().values([...])``, ``bulk_save_objects``, the ORM's bulk UPDATE by primary key and ``from_select``
all name their columns or read ``VALUES`` rows; ``exists()`` writes ``EXISTS (SELECT * ...)``. A ``*`` the
user wrote (``text()``, ``literal_column("*")``) is still reported, next to them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from queryguard_sqlalchemy import instrument
from sqlalchemy import Engine, String, delete, exists, insert, literal_column, select, text, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import queryguard
from queryguard import Capture

HERE = "tests/sqlalchemy/test_bulk_sql.py"


class _Base(DeclarativeBase):
    pass


class Item(_Base):
    """A table of this module's own: its tests write to it, the shared seeded tables stay as they are."""

    __tablename__ = "qgsa_bulk_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    n: Mapped[int] = mapped_column(default=0)


class ItemCopy(_Base):
    __tablename__ = "qgsa_bulk_item_copy"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    n: Mapped[int] = mapped_column(default=0)


@pytest.fixture
def items(engine: Engine) -> Iterator[Engine]:
    """The engine, instrumented, with this module's tables created afresh and ten rows in ``Item``."""
    _Base.metadata.drop_all(engine)
    _Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Item(code=f"seed {i}", n=i) for i in range(1, 11)])  # ids 1 to 10 from the table
        session.commit()
    instrument(engine)
    yield engine
    _Base.metadata.drop_all(engine)


def captured(engine: Engine, work: Callable[[Session], object]) -> Capture:
    """Run ``work`` in a session, committed, inside a capture that only collects."""
    with Session(engine) as session, queryguard.capture(action="none", explain=False) as cap:
        work(session)
        session.commit()
    return cap


def _rows(first: int, count: int = 20) -> list[dict[str, Any]]:
    return [{"code": f"new {i}", "n": i} for i in range(first, first + count)]


BULK_APIS: dict[str, Callable[[Session], object]] = {
    "add_all": lambda s: s.add_all([Item(code=f"new {i}") for i in range(20)]),
    "add_all_with_keys": lambda s: s.add_all([Item(id=100 + i, code=f"new {i}") for i in range(20)]),
    "insert_values_list": lambda s: s.execute(insert(Item).values(_rows(100))),
    "insert_executemany": lambda s: s.execute(insert(Item), _rows(100)),
    "insert_returning": lambda s: s.scalars(insert(Item).returning(Item.id), _rows(100)).all(),
    "insert_returning_sorted": lambda s: s.scalars(
        insert(Item).returning(Item, sort_by_parameter_order=True), _rows(100)
    ).all(),
    "bulk_save_objects": lambda s: s.bulk_save_objects([Item(code=f"new {i}") for i in range(20)]),
    "bulk_update_by_primary_key": lambda s: s.execute(
        update(Item), [{"id": i, "n": 2 * i} for i in range(1, 9)]
    ),
    "update_where": lambda s: s.execute(update(Item).where(Item.n > 3).values(n=Item.n + 1)),
    "delete_where": lambda s: s.execute(delete(Item).where(Item.n > 8)),
    "insert_from_select": lambda s: s.execute(
        insert(ItemCopy).from_select(["id", "code", "n"], select(Item.id, Item.code, Item.n))
    ),
    "exists": lambda s: s.execute(select(exists().where(Item.n > 1))).all(),
}


@pytest.mark.parametrize("api", BULK_APIS)
def test_bulk_apis_are_not_select_star(items: Engine, api: str) -> None:
    """Each bulk API (and exists()) sends its statement without a select_star."""
    cap = captured(items, BULK_APIS[api])
    assert [q for q in cap.queries if q.sql.lstrip().startswith(("INSERT", "UPDATE", "DELETE", "SELECT"))]
    assert [f.message for f in cap.findings if f.kind == "select_star"] == []


def test_a_star_the_user_wrote_is_still_found(items: Engine) -> None:
    """Next to a bulk insert, text("SELECT * ...") and select(literal_column("*")) are each found once."""
    lines = []

    def work(session: Session) -> None:
        session.execute(insert(Item), _rows(100))
        session.execute(text("SELECT * FROM qgsa_bulk_item WHERE n > 5")).all()
        lines.append(sys._getframe().f_lineno - 1)
        session.execute(select(literal_column("*")).select_from(Item).where(Item.n < 3)).all()
        lines.append(sys._getframe().f_lineno - 1)

    cap = captured(items, work)
    assert [f.kind for f in cap.findings] == ["select_star", "select_star"]
    assert sorted(f.callsite.split(" ")[0] for f in cap.findings) == [f"{HERE}:{line}" for line in lines]


def test_insert_from_select_star_is_not_select_star(items: Engine) -> None:
    """INSERT INTO copy SELECT * FROM table: the rows go to a table, no finding; reading them is one."""

    def work(session: Session) -> None:
        session.execute(text("INSERT INTO qgsa_bulk_item_copy SELECT * FROM qgsa_bulk_item"))
        session.execute(text("SELECT * FROM qgsa_bulk_item_copy")).all()

    cap = captured(items, work)
    assert [(f.kind, f.sql) for f in cap.findings] == [("select_star", "SELECT * FROM qgsa_bulk_item_copy")]


#: A table function per database, read with a star: its columns are the function's own.
TABLE_FUNCTIONS = {
    "sqlite": "SELECT * FROM json_each(:doc)",
    "postgresql": "SELECT * FROM jsonb_array_elements(CAST(:doc AS jsonb)) WITH ORDINALITY AS e(v, i)",
    "mysql": "SELECT * FROM JSON_TABLE(:doc, '$[*]' COLUMNS (v INT PATH '$')) AS t",
}


def test_a_star_over_a_table_function_is_not_select_star(items: Engine) -> None:
    """SELECT * FROM json_each / jsonb_array_elements / JSON_TABLE: the function names the columns."""
    sql = TABLE_FUNCTIONS[items.dialect.name]
    cap = captured(items, lambda s: s.execute(text(sql), {"doc": "[1, 2, 3]"}).all())
    assert len(cap.queries) == 1
    assert [f.kind for f in cap.findings] == []
