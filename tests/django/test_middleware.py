"""The middleware: one capture per request, WSGI and ASGI, sync and async views, and nothing else changed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test import AsyncClient, Client, override_settings

from queryguard import Capture, QueryGuardViolation

from ._client import asgi_get
from ._data import seed

VIEWS = "tests/django/testapp/views.py"


@pytest.fixture
def captures() -> Iterator[list[Capture]]:
    """Every capture the middleware finishes (through the CALLBACK setting), actions off."""
    found: list[Capture] = []
    with override_settings(QUERYGUARD={"ACTION": "none", "EXPLAIN": False, "CALLBACK": found.append}):
        yield found


def n_plus_one(cap: Capture) -> Any:
    """The N+1 finding of ``cap``."""
    (finding,) = [f for f in cap.findings if f.kind == "n_plus_one"]
    return finding


@pytest.mark.django_db
def test_each_request_has_one_capture_named_after_it(captures: list[Capture]) -> None:
    """A sync view under WSGI: one capture, "GET /path", with the view's N+1."""
    seed()
    response = Client().get("/books/4/", {"secret": "x"})
    assert response.status_code == 200
    (cap,) = captures
    assert cap.name == "GET /books/4/"
    finding = n_plus_one(cap)
    assert finding.relation == "Book.author" and finding.count == 4
    assert finding.callsite.startswith(f"{VIEWS}:")


@pytest.mark.django_db
def test_the_last_statement_of_a_request_has_its_rows_counted(captures: list[Capture]) -> None:
    """SQLite gives no row count for a SELECT: the view's last one is counted when the request ends."""
    seed()
    assert Client().get("/clean/").status_code == 200
    (cap,) = captures
    (select,) = cap.queries
    assert select.rowcount == 6


@pytest.mark.django_db
def test_template_call_site_through_the_middleware(captures: list[Capture]) -> None:
    """A view that renders a template: the N+1 is reported at the template line."""
    seed()
    Client().get("/books/")
    assert n_plus_one(captures[0]).callsite.endswith("testapp/templates/testapp/book_list.html:4")


@pytest.mark.django_db(transaction=True)
def test_async_view_with_the_async_orm(captures: list[Capture]) -> None:
    """An async view under ASGI: the async ORM's thread is captured, the call site is the awaiting line."""
    seed()
    response = asgi_get("/async/books/5/")
    assert response.status_code == 200
    (cap,) = captures
    finding = n_plus_one(cap)
    assert finding.relation == "Author.get()" and finding.count == 5
    assert finding.callsite == f"{VIEWS}:39 in async_books"
    assert not [f for f in cap.findings if f.kind == "blocking_query"]


@pytest.mark.django_db(transaction=True)
def test_sync_view_under_asgi(captures: list[Capture]) -> None:
    """A sync view under ASGI runs in a thread: its statements land in the request's capture."""
    seed()
    asgi_get("/books/3/")
    assert n_plus_one(captures[0]).count == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/thread/", "/async/thread/"])
def test_threads_started_by_the_request(captures: list[Capture], path: str) -> None:
    """Threads that carry the request's context (copy_context, sync_to_async) are part of its capture."""
    seed()
    asgi_get(path)
    assert n_plus_one(captures[0]).relation == "Book.author"


@pytest.mark.django_db(databases=["default", "other"])
def test_both_database_aliases(captures: list[Capture]) -> None:
    """One request, two aliases: both statements are in its capture."""
    Client().get("/two-databases/")
    assert [e.alias for e in captures[0].queries] == ["default", "other"]


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_requests_keep_their_findings_apart(captures: list[Capture]) -> None:
    """50 concurrent ASGI requests (async and sync views): each capture holds only its own request."""
    seed()
    paths = [f"/async/books/{3 + i % 4}/" if i % 2 else f"/books/{3 + i % 4}/" for i in range(50)]

    async def main() -> list[Any]:
        client = AsyncClient()
        return await asyncio.gather(*(client.get(path) for path in paths))

    responses = async_to_sync(main)()
    assert [r.status_code for r in responses] == [200] * 50
    assert sorted(cap.name for cap in captures) == sorted(f"GET {path}" for path in paths)
    for cap in captures:
        n = int(cap.name.rstrip("/").rsplit("/", 1)[1])
        assert cap.query_count == n + 1
        assert n_plus_one(cap).count == n


@pytest.mark.django_db
def test_findings_are_logged_by_default(caplog: pytest.LogCaptureFixture) -> None:
    """The default action logs a summary line and one line per finding, with the fix."""
    seed()
    with (
        override_settings(QUERYGUARD={"EXPLAIN": False}),
        caplog.at_level(logging.WARNING, logger="queryguard"),
    ):
        Client().get("/books/3/")
    assert "queryguard: GET /books/3/ ran 4 queries" in caplog.text
    assert "N+1: Book.author loaded 3 times" in caplog.text
    assert 'add .select_related("author")' in caplog.text


@pytest.mark.django_db
def test_raise_mode_raises_a_violation_from_the_middleware() -> None:
    """ACTION "raise": the request fails with QueryGuardViolation; a clean request does not."""
    seed()
    with override_settings(QUERYGUARD={"ACTION": "raise", "EXPLAIN": False}):
        assert Client().get("/clean/").status_code == 200
        with pytest.raises(QueryGuardViolation, match=r"N\+1: Book\.author"):
            Client().get("/books/3/")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/books/3/", "/clean/", "/raw/", "/books/"])
def test_the_response_is_the_same_with_and_without_the_middleware(path: str) -> None:
    """Status, body and headers are those of Django alone (the findings headers are off here)."""
    seed()
    with override_settings(MIDDLEWARE=[]):
        bare = Client().get(path)
    with override_settings(QUERYGUARD={"ACTION": "log", "EXPLAIN": False}):
        guarded = Client().get(path)
    assert (guarded.status_code, guarded.content) == (bare.status_code, bare.content)
    assert dict(guarded.headers) == dict(bare.headers)


@pytest.mark.django_db
def test_the_views_exception_passes_unchanged(captures: list[Capture]) -> None:
    """The view's exception reaches the caller as it is; the capture still ends."""
    with pytest.raises(ValueError, match="the view failed"):
        Client().get("/failing/")
    assert len(captures) == 1 and captures[0].query_count == 1
    assert Client(raise_request_exception=False).get("/failing/").status_code == 500


@pytest.mark.django_db
def test_the_transaction_state_is_untouched(captures: list[Capture]) -> None:
    """Inside the test's transaction, a request with findings leaves it as it was."""
    seed()
    before = (connection.in_atomic_block, connection.needs_rollback, connection.get_autocommit())
    Client().get("/books/3/")
    assert (connection.in_atomic_block, connection.needs_rollback, connection.get_autocommit()) == before


@pytest.mark.django_db
def test_a_streaming_response_is_not_consumed(captures: list[Capture]) -> None:
    """The capture ends when the view returns; the stream is produced later, outside it."""
    seed()
    response = Client().get("/streaming/")
    assert response.streaming
    assert captures[0].query_count == 0
    assert b"".join(response.streaming_content).count(b"\n") == 6


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("debug", "remote", "extra", "shown"),
    [
        (True, "127.0.0.1", {}, True),
        (False, "127.0.0.1", {}, False),
        (True, "10.1.2.3", {}, False),
        (False, "127.0.0.1", {"HEADERS": True}, True),
        (True, "10.1.2.3", {"ALLOWED": "tests.django.test_middleware.allow_header_flag"}, False),
        (True, "10.1.2.3", {"ALLOWED": "tests.django.test_middleware.allow_everyone"}, True),
    ],
)
def test_headers_only_when_enabled_and_allowed(
    debug: bool, remote: str, extra: dict[str, Any], shown: bool
) -> None:
    """Rule 5: Server-Timing and X-QueryGuard-Findings need DEBUG (or HEADERS) and an allowed client."""
    seed()
    with override_settings(DEBUG=debug, QUERYGUARD={"ACTION": "none", "EXPLAIN": False, **extra}):
        response = Client(REMOTE_ADDR=remote).get("/books/3/")
    if shown:
        assert response.headers["X-QueryGuard-Findings"] == "1; n_plus_one=1"
        assert response.headers["Server-Timing"].startswith("db;dur=")
        assert 'desc="4 queries"' in response.headers["Server-Timing"]
    else:
        assert "X-QueryGuard-Findings" not in response.headers
        assert "Server-Timing" not in response.headers


def allow_everyone(request: Any) -> bool:
    """An ALLOWED callback that lets every client see the findings."""
    return True


def allow_header_flag(request: Any) -> bool:
    """An ALLOWED callback that wants a header the test client does not send."""
    return request.headers.get("X-Debug") == "yes"


@pytest.mark.django_db
def test_report_link_header_when_the_page_is_on() -> None:
    """With the report page on, the response links to its request's report."""
    seed()
    with override_settings(DEBUG=True, QUERYGUARD={"ACTION": "none", "EXPLAIN": False}):
        client = Client()
        link = client.get("/books/3/").headers["X-QueryGuard-Report"]
        page = client.get(link)
    assert link.startswith("/__queryguard__/") and page.status_code == 200
    assert b"Book.author" in page.content


@pytest.mark.django_db(transaction=True)
def test_explain_runs_after_the_response_on_a_connection_of_its_own() -> None:
    """A slow statement of a request gets its plan in the background, through the alias's own database."""
    from queryguard import _explain

    seed()
    found: list[Capture] = []
    settings = {"ACTION": "none", "SLOW_QUERY_MS": 0, "EXPLAIN_TTL_S": 0, "CALLBACK": found.append}
    with override_settings(QUERYGUARD=settings):
        assert Client().get("/clean/").status_code == 200
    assert _explain.wait(30)
    slow = [f for f in found[0].findings if f.kind == "slow_query"]
    assert slow and slow[0].plan is not None, [f.message for f in found[0].findings]
