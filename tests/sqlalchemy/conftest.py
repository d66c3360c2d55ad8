"""Real databases for the SQLAlchemy tests: SQLite always, PostgreSQL and MariaDB where reachable.

Each pytest-xdist worker gets a schema (PostgreSQL) or database (MariaDB) of its own, so parallel runs
never share tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from queryguard_sqlalchemy import _instrument, uninstrument
from sqlalchemy import URL, Engine, create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine

import queryguard

from ._models import seed

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
SCHEMA = f"qgsa_{WORKER}" + os.environ.get("QUERYGUARD_TEST_DB_SUFFIX", "")
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mysql", marks=pytest.mark.mysql),
]
ASYNC_DRIVERS = [
    pytest.param("aiosqlite", id="aiosqlite"),
    pytest.param("psycopg", id="psycopg-async", marks=pytest.mark.postgres),
    pytest.param("asyncpg", id="asyncpg", marks=pytest.mark.postgres),
]


@pytest.fixture(autouse=True)
def _nothing_stays_instrumented() -> Iterator[None]:
    """Whatever a test instrumented is removed when it ends, pass or fail; no capture outlives a test."""
    yield
    for target, _, _ in list(_instrument._targets.values()):
        uninstrument(target)
    assert queryguard.active_captures() == ()


@pytest.fixture(scope="session")
def sqlite_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded SQLite database file."""
    path = tmp_path_factory.mktemp("sqlalchemy") / "shop.db"
    engine = create_engine(f"sqlite:///{path}")
    seed(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url(postgres_params: dict[str, Any]) -> URL:
    """The PostgreSQL test database, with a seeded schema of this worker's own."""
    url = URL.create(
        "postgresql+psycopg",
        username=str(postgres_params["user"]),
        host=str(postgres_params["host"]),
        port=int(postgres_params["port"]),
        database=str(postgres_params["dbname"]),
    )
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
    engine.dispose()
    engine = _postgres_engine(url)
    seed(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def mysql_url(mysql_params: dict[str, Any]) -> URL:
    """A seeded MariaDB/MySQL database of this worker's own."""
    server = URL.create(
        "mysql+pymysql",
        username=str(mysql_params["user"]),
        password=str(mysql_params["password"]) or None,
        host=str(mysql_params["host"]),
        port=int(mysql_params["port"]),
    )
    engine = create_engine(server)
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE IF NOT EXISTS {SCHEMA}"))
    engine.dispose()
    url = server.set(database=SCHEMA)
    engine = create_engine(url)
    seed(engine)
    engine.dispose()
    return url


def _postgres_engine(url: URL, **kwargs: Any) -> Engine:
    return create_engine(url, connect_args={"options": f"-csearch_path={SCHEMA}"}, **kwargs)


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A sync engine on a seeded database, for each backend (never instrumented when the test ends)."""
    backend = request.param
    if backend == "sqlite":
        engine = create_engine(f"sqlite:///{request.getfixturevalue('sqlite_path')}")
    elif backend == "postgresql":
        engine = _postgres_engine(request.getfixturevalue("postgres_url"))
    else:
        engine = create_engine(request.getfixturevalue("mysql_url"))
    yield engine
    uninstrument(engine)
    engine.dispose()


@pytest.fixture
def sqlite_engine(sqlite_path: Path) -> Iterator[Engine]:
    """A sync engine on the seeded SQLite file."""
    engine = create_engine(f"sqlite:///{sqlite_path}")
    yield engine
    uninstrument(engine)
    engine.dispose()


@pytest.fixture(params=ASYNC_DRIVERS)
async def async_engine(request: pytest.FixtureRequest) -> Any:
    """An async engine on a seeded database, for each async driver."""
    driver = request.param
    if driver == "aiosqlite":
        engine = create_async_engine(f"sqlite+aiosqlite:///{request.getfixturevalue('sqlite_path')}")
    else:
        url: URL = request.getfixturevalue("postgres_url").set(drivername=f"postgresql+{driver}")
        connect_args: dict[str, Any] = (
            {"server_settings": {"search_path": SCHEMA}}
            if driver == "asyncpg"
            else {"options": f"-csearch_path={SCHEMA}"}
        )
        engine = create_async_engine(url, connect_args=connect_args)
    yield engine
    uninstrument(engine)
    await engine.dispose()
