"""The FastAPI example served by a real uvicorn process: its slow filter on an unindexed column is one
finding, explained after the response on an async engine (asyncpg, aiosqlite), with the exact Index(...)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import URL, create_engine, text

from .conftest import WORKER
from .test_fastapi_example import EXAMPLE, ROOT, Server, free_port

DATABASE = f"qgx_fastapi_{WORKER}{os.environ.get('QUERYGUARD_TEST_DB_SUFFIX', '')}"
INDEX = (
    'add Index("ix_review_reviewer", Review.reviewer) to Review.__table_args__'
    " (or mapped_column(..., index=True) on Review.reviewer)"
)


def start(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """uvicorn serving the example, every statement counted as slow (so that each one is explained)."""
    port = free_port()
    log = tmp_path / "uvicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "QUERYGUARD_SLOW_QUERY_MS": "0",
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT / 'integrations'}",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=EXAMPLE, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", log, process)
    try:
        deadline = time.monotonic() + 60
        while "Application startup complete" not in server.output():
            assert process.poll() is None, server.output()
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.05)
        httpx.get(f"{server.base_url}/books/eager", timeout=10)  # the dialect's first-connect statements
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(
    params=[
        pytest.param("asyncpg", id="postgresql-asyncpg", marks=pytest.mark.postgres),
        pytest.param("aiosqlite", id="sqlite-aiosqlite"),
    ]
)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """The example on PostgreSQL through asyncpg (a database of its own), or on SQLite through aiosqlite."""
    if request.param == "aiosqlite":
        yield from start(f"sqlite+aiosqlite:///{tmp_path / 'bookshop.db'}", tmp_path)
        return
    params: dict[str, Any] = request.getfixturevalue("postgres_params")
    base = URL.create(
        "postgresql+psycopg",
        username=params["user"], host=params["host"], port=params["port"], database=params["dbname"],
    )  # fmt: skip
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    try:
        url = base.set(drivername="postgresql+asyncpg", database=DATABASE)
        yield from start(url.render_as_string(hide_password=False), tmp_path)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        admin.dispose()


def test_a_slow_filter_is_one_finding_with_the_plan_and_the_index(server: Server) -> None:
    """GET /reviews?reviewer=...: one finding; after the response the worker logs it with the exact Index."""
    response = httpx.get(f"{server.base_url}/reviews", params={"reviewer": "reader42"}, timeout=30)
    assert response.status_code == 200 and response.json() == [{"book_id": 13, "stars": 3}]
    assert response.headers["x-queryguard-findings"] == "1; slow_query=1"  # the plan comes after
    deadline = time.monotonic() + 30
    while "GET /reviews EXPLAIN added" not in server.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    output = server.output()
    assert "GET /reviews EXPLAIN added 1 finding" in output, output
    [line] = [line for line in output.splitlines() if "full scan: " in line]
    assert "filtering on reviewer with no index at app.py:" in line and " in reviews " in line
    assert INDEX in line
    ours = [line for line in output.splitlines() if not line.startswith("INFO:")]  # (uvicorn's access log)
    assert ours and not [line for line in ours if "reader42" in line]  # the filter's value is redacted
