"""The FastAPI example's loop stall, served by a real uvicorn process: at its line, on its request only."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .test_fastapi_example import EXAMPLE, Server, counts, serve


def _line(text: str) -> int:
    """The line of the example's app.py that contains ``text``."""
    for number, line in enumerate((EXAMPLE / "app.py").read_text().splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(text)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """The example on SQLite (aiosqlite)."""
    yield from serve(f"sqlite+aiosqlite:///{tmp_path / 'bookshop.db'}", tmp_path)


def _wait_for(server: Server, text: str) -> str:
    deadline = time.monotonic() + 10
    while text not in server.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.output()


def test_stall_is_logged_at_its_line_with_the_fix(server: Server) -> None:
    """GET /covers/1 holds the loop in render_cover: the finding names that line, time.sleep and the fix."""
    response = httpx.get(f"{server.base_url}/covers/1", timeout=10)
    assert response.json() == {"bytes": len(b"cover of book 1")}
    assert counts(response) == (0, 1)
    output = _wait_for(server, "loop stall:")
    assert "loop stall: time.sleep(0.2) (a sleep) held the event loop for " in output
    assert f"at app.py:{_line('time.sleep(0.2)')} in render_cover" in output
    assert "await asyncio.sleep(...) instead of time.sleep(...)" in output


async def test_one_stall_among_a_hundred_requests_is_that_requests_only(server: Server) -> None:
    """100 concurrent requests, one of them GET /covers/1: only that response counts a finding for it."""
    paths = ["/books/eager"] * 99
    paths.insert(50, "/covers/1")
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60, limits=limits) as client:
        responses = await asyncio.gather(*(client.get(path) for path in paths))
    for path, response in zip(paths, responses, strict=True):
        assert response.status_code == 200, (path, response.text)
        assert counts(response)[1] == (1 if path == "/covers/1" else 0), path
    output = _wait_for(server, "loop stall:")
    assert output.count("loop stall:") == 1
