"""The FastAPI example's sequential awaits, served by a real uvicorn process on aiosqlite."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .test_fastapi_example import EXAMPLE, Server, serve


def _line(text: str) -> int:
    """The line of the example's app.py that contains ``text``."""
    for number, line in enumerate((EXAMPLE / "app.py").read_text().splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(text)


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """The example on SQLite, whose reads are fast: every awaited read counts, whatever it saves."""
    monkeypatch.setenv("QUERYGUARD_SEQUENTIAL_MIN_MS", "0")
    monkeypatch.setenv("QUERYGUARD_SEQUENTIAL_MIN_SAVED_MS", "0")
    monkeypatch.setenv("QUERYGUARD_SEQUENTIAL_MIN_SHARE", "0")
    yield from serve(f"sqlite+aiosqlite:///{tmp_path / 'bookshop.db'}", tmp_path)


def test_book_page_reads_are_reported_with_the_task_group_fix(server: Server) -> None:
    """GET /books/1/page awaits three independent reads in turn: one finding at the first, with its fix."""
    response = httpx.get(f"{server.base_url}/books/1/page", timeout=10)
    assert response.status_code == 200
    assert response.json()["title"] == "Book 1.1"
    deadline = time.monotonic() + 10
    while "sequential awaits:" not in server.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    output = server.output()
    first = _line("title = await session.scalar(select(Book.title)")
    assert (
        "sequential awaits: 3 independent SELECTs (on book, review) ran one after another in one task "
        in output
    )
    assert f"from app.py:{first} in book_page, app.py:{first + 1} in book_page, " in output
    assert "asyncio.TaskGroup()" in output and "each with its own AsyncSession" in output
