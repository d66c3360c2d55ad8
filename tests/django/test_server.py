"""End to end: the test project served by real servers (runserver for WSGI, uvicorn for ASGI)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from . import _server

PATHS = [f"/async/books/{3 + i % 4}/" if i % 2 else f"/books/{3 + i % 4}/" for i in range(50)]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, seeded SQLite file (and its "other" twin) for the server processes."""
    path = tmp_path_factory.mktemp("server") / "project.sqlite3"
    _server.prepare(path)
    return path


def command(kind: str, port: int) -> list[str]:
    """The command line of the project behind runserver (WSGI, threaded) or uvicorn (ASGI)."""
    if kind == "runserver":
        return [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "tests.django.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]


@pytest.fixture(scope="module", params=["runserver", "uvicorn"])
def server(
    request: pytest.FixtureRequest, database: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """The project behind runserver (WSGI, threaded) or uvicorn (ASGI); yields (base URL, log file)."""
    port = _server.free_port()
    env = _server.environ(database, QG_TEST_DEBUG="1")
    log = tmp_path_factory.mktemp("log") / f"{request.param}.log"
    with _server.serving(command(request.param, port), env, port, log) as base:
        yield base, log


def expected_queries(path: str) -> int:
    """A /books/N/ page runs N + 1 queries."""
    return int(path.rstrip("/").rsplit("/", 1)[1]) + 1


def test_findings_reach_the_headers_the_report_page_and_the_console(server: tuple[str, Path]) -> None:
    """One request: its headers count the finding, the report page lists it, the console logs its fix."""
    base, log = server
    response = httpx.get(f"{base}/books/3/")
    assert response.status_code == 200
    assert response.headers["X-QueryGuard-Findings"] == "1; n_plus_one=1"
    assert 'desc="4 queries"' in response.headers["Server-Timing"]
    report = httpx.get(base + response.headers["X-QueryGuard-Report"])
    assert report.status_code == 200 and "Book.author" in report.text
    assert "GET /books/3/" in httpx.get(f"{base}/__queryguard__/").text
    console = log.read_text()
    assert "queryguard: GET /books/3/ ran 4 queries" in console
    assert "N+1: Book.author loaded 3 times from tests/django/testapp/views.py:" in console
    assert 'add .select_related("author")' in console


def test_async_view_reports_the_awaiting_line(server: tuple[str, Path]) -> None:
    """The async ORM's N+1 is reported at the view's ``await`` line."""
    base, log = server
    assert httpx.get(f"{base}/async/books/4/").headers["X-QueryGuard-Findings"] == "1; n_plus_one=1"
    assert (
        "N+1: Author.get() loaded 4 times from tests/django/testapp/views.py:39 in async_books"
        in log.read_text()
    )


def test_fifty_concurrent_requests_keep_their_findings_apart(server: tuple[str, Path]) -> None:
    """50 requests at once, sync and async views: each response counts its own queries and finding."""
    base, _log = server

    with httpx.Client(base_url=base, timeout=60) as client, ThreadPoolExecutor(len(PATHS)) as pool:
        responses = list(pool.map(client.get, PATHS))
    for path, response in zip(PATHS, responses, strict=True):
        assert response.status_code == 200, path
        assert response.headers["X-QueryGuard-Findings"] == "1; n_plus_one=1", path
        timing = re.search(r'desc="(\d+) queries', response.headers["Server-Timing"])
        assert timing is not None and int(timing.group(1)) == expected_queries(path), path


@pytest.mark.parametrize("kind", ["runserver", "uvicorn"])
@pytest.mark.parametrize("broken", ["filter", "handler"])
def test_a_raising_logger_never_reaches_the_server(
    kind: str, broken: str, database: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Rule 1: with a raising filter or handler on the logger, requests with findings answer as usual."""
    port = _server.free_port()
    env = _server.environ(database, QG_TEST_DEBUG="1", QG_TEST_BROKEN_LOGGING=broken)
    log = tmp_path_factory.mktemp("log") / f"{kind}-{broken}.log"
    with _server.serving(command(kind, port), env, port, log) as base, httpx.Client(base_url=base) as client:
        responses = [client.get(path) for path in ("/books/3/", "/async/books/4/", "/books/3/")]
    assert [(r.status_code, r.text) for r in responses] == [
        (200, "author 0,author 0,author 1"),
        (200, "author 0,author 0,author 1,author 1"),
        (200, "author 0,author 0,author 1"),
    ]
    assert all(r.headers["X-QueryGuard-Findings"] == "1; n_plus_one=1" for r in responses)
    console = log.read_text()
    assert "Traceback" not in console and "Internal Server Error" not in console, console
    assert console.count("queryguard internal error in logging") == 1, console
