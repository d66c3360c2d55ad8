"""Databases for the SQLAlchemy EXPLAIN tests: a mapped review table of 5,000 rows with no index on reviewer.

One engine per driver: pysqlite and aiosqlite, psycopg 3 (sync) and asyncpg, PyMySQL and aiomysql.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import URL, Column, Engine, Integer, MetaData, String, Table, create_engine, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
SCHEMA = f"qgx_{WORKER}{os.environ.get('QUERYGUARD_TEST_DB_SUFFIX', '')}"
ROWS = 5_000
SYNC = {"sqlite": "pysqlite", "postgresql": "psycopg", "mysql": "pymysql"}
ASYNC = {"sqlite": "aiosqlite", "postgresql": "asyncpg", "mysql": "aiomysql"}


class Base(DeclarativeBase):
    pass


class Review(Base):
    """A review: nothing indexes its reviewer (the slow filter) nor its stars (the order)."""

    __tablename__ = "qgx_review"
    id: Mapped[int] = mapped_column(primary_key=True)
    reviewer: Mapped[str] = mapped_column(String(100))
    stars: Mapped[int]


#: A table no class maps (SQLAlchemy Core only).
notes = Table(
    "qgx_note",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("author", String(100), nullable=False),
)
#: What the EXPLAIN of a write must leave as it was.
items = Table(
    "qgx_item",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("qty", Integer, nullable=False),
)


def url(vendor: str, driver: str, params: dict[str, Any] | None, path: str = "") -> URL:
    """The URL of the test database of ``vendor`` through ``driver``."""
    if vendor == "sqlite":
        return URL.create(f"sqlite+{driver}", database=path)
    assert params is not None
    if vendor == "postgresql":
        return URL.create(
            f"postgresql+{driver}",
            username=str(params["user"]),
            password=params.get("password") or None,  # type: ignore[arg-type]
            host=str(params["host"]),
            port=int(params["port"]),
            database=str(params["dbname"]),
        )
    return URL.create(
        f"mysql+{driver}",
        username=str(params["user"]),
        password=str(params.get("password") or "") or None,
        host=str(params["host"]),
        port=int(params["port"]),
        database=SCHEMA,
    )


def connect_args(vendor: str, driver: str) -> dict[str, Any]:
    """The schema of these tests as the search path of a PostgreSQL connection."""
    if vendor != "postgresql":
        return {}
    if driver == "asyncpg":
        return {"server_settings": {"search_path": SCHEMA}}
    return {"options": f"-csearch_path={SCHEMA}"}


def sync_engine(vendor: str, params: dict[str, Any] | None, path: str = "", **kwargs: Any) -> Engine:
    """A sync engine on the test database."""
    return create_engine(
        url(vendor, SYNC[vendor], params, path), connect_args=connect_args(vendor, SYNC[vendor]), **kwargs
    )


def async_engine(vendor: str, params: dict[str, Any] | None, path: str = "", **kwargs: Any) -> AsyncEngine:
    """An async engine on the test database."""
    driver = ASYNC[vendor]
    return create_async_engine(
        url(vendor, driver, params, path), connect_args=connect_args(vendor, driver), **kwargs
    )


def seed(vendor: str, params: dict[str, Any] | None, path: str = "") -> None:
    """Create the schema (or database) and fill the tables; statistics fresh."""
    if vendor == "postgresql":
        admin = create_engine(url(vendor, "psycopg", params), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        admin.dispose()
    elif vendor == "mysql":
        admin = create_engine(url(vendor, "pymysql", params)._replace(database=None))
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {SCHEMA}"))
            conn.execute(text(f"CREATE DATABASE {SCHEMA}"))
        admin.dispose()
    engine = sync_engine(vendor, params, path)
    Base.metadata.create_all(engine)
    notes.metadata.create_all(engine)
    items.metadata.create_all(engine)
    with engine.begin() as conn:
        rows = [{"id": i, "reviewer": f"reader {i}", "stars": i % 5} for i in range(1, ROWS + 1)]
        conn.execute(insert(Review), rows)
        conn.execute(insert(notes), [{"id": i, "author": f"author {i}"} for i in range(1, ROWS + 1)])
        conn.execute(insert(items), [{"id": i, "qty": i} for i in range(1, 11)])
    with engine.connect() as conn:
        if vendor == "postgresql":
            conn.execute(text("ANALYZE"))
        elif vendor == "mysql":
            conn.execute(text("ANALYZE TABLE qgx_review, qgx_note, qgx_item"))
        conn.commit()
    engine.dispose()


def drop(vendor: str, params: dict[str, Any] | None) -> None:
    """Remove the schema (or database) of these tests."""
    if vendor == "sqlite":
        return
    if vendor == "postgresql":
        admin = create_engine(url(vendor, "psycopg", params), isolation_level="AUTOCOMMIT")
        statement = f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"
    else:
        admin = create_engine(url(vendor, "pymysql", params)._replace(database=None))
        statement = f"DROP DATABASE IF EXISTS {SCHEMA}"
    with admin.connect() as conn:
        conn.execute(text(statement))
        conn.commit()
    admin.dispose()
