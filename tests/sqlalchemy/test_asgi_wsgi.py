"""The generic middleware: Flask through WSGI, Starlette and FastAPI through ASGI, with SQLAlchemy."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from flask import Flask, Response, stream_with_context
from queryguard_sqlalchemy import instrument
from sqlalchemy import Engine, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session
from starlette.applications import Starlette

import queryguard
from queryguard import ConfigurationError, QueryGuardViolation, asgi, wsgi

# Shared with the core tests: a raising filter or handler on the logger; no internal error logged yet.
from tests.core.test_host import broken_logging, fresh_errors  # noqa: F401

from ._models import AUTHORS, Author, Book, Tag


class Boom(Exception):
    """The application's own error."""


# -- Flask (WSGI) -------------------------------------------------------------------------------------


def flask_app(engine: Engine, *, guarded: bool = True, **config: Any) -> Flask:
    """A Flask app with an N+1, a streamed body that queries, a failing view and a clean view.

    ``guarded=False`` leaves queryguard's middleware out: the app as it is without queryguard.
    """
    app = Flask(__name__)
    app.testing = True

    @app.get("/books")
    def books() -> str:
        with Session(engine) as session:
            return ",".join(book.author.name for book in session.scalars(select(Book)).all())

    @app.get("/tags")
    def tags() -> str:
        with Session(engine) as session:
            return ",".join(session.scalars(select(Tag.name)).all())

    @app.get("/stream")
    def stream() -> Response:
        def body() -> Iterator[str]:
            with Session(engine) as session:
                for tag_id in range(1, 4):
                    yield session.scalars(select(Tag.name).where(Tag.id == tag_id)).one() + "\n"

        return Response(stream_with_context(body()))

    @app.get("/boom")
    def boom() -> str:
        raise Boom("from the view")

    @app.get("/boom-after-queries")
    def boom_after_queries() -> str:
        books()
        raise Boom("from the view")

    if guarded:
        app.wsgi_app = wsgi.QueryGuardMiddleware(app.wsgi_app, explain=False, **config)  # type: ignore[method-assign]
    return app


def test_flask_request_is_a_unit_with_its_findings_logged(
    sqlite_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """GET /books logs its statement count and the N+1 on Book.author; the response is unchanged."""
    instrument(sqlite_engine)
    client = flask_app(sqlite_engine).test_client()
    with caplog.at_level(logging.WARNING, logger="queryguard"):
        response = client.get("/books?secret=1")
    assert response.status_code == 200
    assert response.text.split(",")[0] == "author 1"
    assert "queryguard: GET /books ran 11 queries" in caplog.text
    assert "N+1: Book.author loaded 10 times" in caplog.text
    assert "secret" not in caplog.text
    assert "Server-Timing" not in response.headers and "X-QueryGuard-Findings" not in response.headers


def test_flask_server_timing_headers_are_opt_in(sqlite_engine: Engine) -> None:
    """server_timing=True adds Server-Timing and the number of findings to the response."""
    instrument(sqlite_engine)
    client = flask_app(sqlite_engine, server_timing=True, action="none").test_client()
    books, tags = client.get("/books"), client.get("/tags")
    assert books.headers["Server-Timing"].startswith("db;dur=")
    assert books.headers["Server-Timing"].endswith(';desc="11 queries"')
    assert books.headers["X-QueryGuard-Findings"] == "1; n_plus_one=1"  # the same format as Django's
    assert tags.headers["Server-Timing"].endswith(';desc="1 query"')
    assert tags.headers["X-QueryGuard-Findings"] == "0"


def test_flask_streamed_body_is_captured_until_closed(sqlite_engine: Engine) -> None:
    """Statements run while the body streams belong to the request; the body arrives intact."""
    instrument(sqlite_engine)
    units: list[queryguard.Capture] = []
    client = flask_app(sqlite_engine, action="none", callback=units.append).test_client()
    response = client.get("/stream")
    assert response.text == "tag 1\ntag 2\ntag 3\n"
    assert [(unit.name, unit.query_count) for unit in units] == [("GET /stream", 3)]
    assert queryguard.active_captures() == ()


def test_flask_exception_propagates_unchanged(sqlite_engine: Engine) -> None:
    """The view's exception reaches the caller as it was raised, and the capture is closed."""
    client = flask_app(sqlite_engine, action="raise").test_client()
    with pytest.raises(Boom, match="from the view"):
        client.get("/boom")
    assert queryguard.active_captures() == ()


def test_flask_raise_action(sqlite_engine: Engine) -> None:
    """action="raise" raises QueryGuardViolation once the view returned a complete response."""
    instrument(sqlite_engine)
    client = flask_app(sqlite_engine, action="raise").test_client()
    assert client.get("/tags").text == ",".join(f"tag {i}" for i in range(1, 6))
    with pytest.raises(QueryGuardViolation, match=r"N\+1: Book\.author"):
        client.get("/books")
    assert queryguard.active_captures() == ()


def test_flask_findings_arrive_without_reading_the_body(sqlite_engine: Engine) -> None:
    """A test that checks only the status code still gets the findings: a sized body ends the unit at once."""
    instrument(sqlite_engine)
    units: list[queryguard.Capture] = []
    client = flask_app(sqlite_engine, action="none", callback=units.append).test_client()
    assert client.get("/books").status_code == 200
    assert [(unit.name, [f.kind for f in unit.findings]) for unit in units] == [
        ("GET /books", ["n_plus_one"])
    ]
    assert queryguard.active_captures() == ()


def test_a_streamed_body_with_a_raise_action_raises_after_its_last_chunk(sqlite_engine: Engine) -> None:
    """A streamed body (no Content-Length) still ends its unit when it is consumed, and raises then."""
    instrument(sqlite_engine)
    client = flask_app(sqlite_engine, action="raise", n_plus_one_threshold=2).test_client()
    response = client.get("/stream")
    assert response.status_code == 200
    with pytest.raises(QueryGuardViolation, match=r"N\+1"):
        response.get_data()
    assert queryguard.active_captures() == ()


def test_wsgi_settings_are_validated() -> None:
    """A bad setting fails when the middleware is built, naming the valid choices."""
    with pytest.raises(ConfigurationError, match="action must be one of"):
        wsgi.QueryGuardMiddleware(Flask(__name__).wsgi_app, action="explode")
    with pytest.raises(ConfigurationError, match="unknown setting 'colour'"):
        asgi.QueryGuardMiddleware(Starlette(), colour="red")


# -- FastAPI and Starlette (ASGI) ----------------------------------------------------------------------


def fastapi_app(
    sqlite_path: Path, sync_engine: Engine, *, guarded: bool = True, **config: Any
) -> tuple[FastAPI, Any]:
    """An async FastAPI app: N+1 over an AsyncSession, a streamed body, a blocking call, a failure.

    ``guarded=False`` leaves queryguard's middleware out: the app as it is without queryguard.
    """
    engine = create_async_engine(f"sqlite+aiosqlite:///{sqlite_path}")
    instrument(engine)
    instrument(sync_engine)
    app = FastAPI()

    @app.get("/authors")
    async def authors() -> list[int]:
        async with AsyncSession(engine) as session:
            rows = (await session.scalars(select(Author))).all()
            return [len(await author.awaitable_attrs.books) for author in rows]

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def body() -> AsyncIterator[str]:
            async with AsyncSession(engine) as session:
                for tag_id in range(1, 4):
                    yield (await session.scalars(select(Tag.name).where(Tag.id == tag_id))).one() + "\n"

        return StreamingResponse(body())

    @app.get("/blocking")
    async def blocking() -> int:
        with Session(sync_engine) as session:
            return len(session.scalars(select(Tag)).all())

    @app.get("/threadpool")
    def threadpool() -> int:
        with Session(sync_engine) as session:
            return len(session.scalars(select(Tag)).all())

    @app.get("/boom")
    async def boom() -> None:
        raise Boom("from the route")

    @app.get("/boom-after-queries")
    async def boom_after_queries() -> None:
        await blocking()
        raise Boom("from the route")

    if guarded:
        app.add_middleware(asgi.QueryGuardMiddleware, explain=False, **config)
    return app, engine


async def call(app: Any, path: str) -> httpx.Response:
    """One request through httpx's ASGI transport."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop") as client:
        return await client.get(path)


async def test_fastapi_request_is_a_unit(sqlite_path: Path, sqlite_engine: Engine) -> None:
    """Each request is one capture named after its route; headers carry its own counts."""
    units: list[queryguard.Capture] = []
    app, engine = fastapi_app(
        sqlite_path, sqlite_engine, server_timing=True, action="none", callback=units.append
    )
    response = await call(app, "/authors")
    await engine.dispose()
    assert response.json() == [3] * AUTHORS
    assert response.headers["server-timing"].endswith(f';desc="{1 + AUTHORS} queries"')
    assert response.headers["x-queryguard-findings"] == "1; n_plus_one=1"
    (unit,) = units
    assert unit.name == "GET /authors"
    assert [f.relation for f in unit.findings] == ["Author.books"]


async def test_concurrent_requests_keep_their_own_findings(sqlite_path: Path, sqlite_engine: Engine) -> None:
    """Thirty interleaved requests: each capture holds exactly its own statements."""
    units: list[queryguard.Capture] = []
    app, engine = fastapi_app(sqlite_path, sqlite_engine, action="none", callback=units.append)
    paths = ["/authors", "/stream", "/threadpool"] * 10
    responses = await asyncio.gather(*(call(app, path) for path in paths))
    await engine.dispose()
    assert all(r.status_code == 200 for r in responses)
    expected = {"GET /authors": 1 + AUTHORS, "GET /stream": 3, "GET /threadpool": 1}
    assert sorted((u.name, u.query_count) for u in units) == sorted(
        (f"GET {p}", expected[f"GET {p}"]) for p in paths
    )


async def test_streaming_headers_count_what_ran_before_the_body(
    sqlite_path: Path, sqlite_engine: Engine
) -> None:
    """The header goes out before the body's statements; the unit still gets all of them."""
    units: list[queryguard.Capture] = []
    app, engine = fastapi_app(
        sqlite_path, sqlite_engine, server_timing=True, action="none", callback=units.append
    )
    response = await call(app, "/stream")
    await engine.dispose()
    assert response.text == "tag 1\ntag 2\ntag 3\n"
    assert response.headers["server-timing"].endswith(';desc="0 queries"')
    assert units[0].query_count == 3


async def test_blocking_call_in_an_async_route(sqlite_path: Path, sqlite_engine: Engine) -> None:
    """A sync Session in an async route is a blocking_query at the route; in a sync route it is not."""
    units: list[queryguard.Capture] = []
    app, engine = fastapi_app(sqlite_path, sqlite_engine, action="none", callback=units.append)
    assert (await call(app, "/blocking")).json() == 5
    assert (await call(app, "/threadpool")).json() == 5
    await engine.dispose()
    blocking, threadpool = units
    (finding,) = blocking.findings
    assert finding.kind == "blocking_query"
    assert finding.callsite.startswith("tests/sqlalchemy/test_asgi_wsgi.py:") and finding.callsite.endswith(
        " in blocking"
    )
    assert "AsyncSession" in finding.suggestion
    assert threadpool.findings == [] and threadpool.query_count == 1


async def test_asgi_exception_propagates_unchanged(sqlite_path: Path, sqlite_engine: Engine) -> None:
    """The route's exception reaches the server as raised, even with action="raise"."""
    app, engine = fastapi_app(sqlite_path, sqlite_engine, action="raise")
    with pytest.raises(Boom, match="from the route"):
        await call(app, "/boom")
    await engine.dispose()
    assert queryguard.active_captures() == ()


async def test_asgi_raise_action(sqlite_path: Path, sqlite_engine: Engine) -> None:
    """action="raise" raises QueryGuardViolation after the response, for the request that has findings."""
    app, engine = fastapi_app(sqlite_path, sqlite_engine, action="raise")
    with pytest.raises(QueryGuardViolation, match=r"N\+1: Author\.books"):
        await call(app, "/authors")
    assert (await call(app, "/threadpool")).json() == 5
    await engine.dispose()


async def test_lifespan_and_websocket_pass_through_untouched() -> None:
    """Non-HTTP scopes reach the application with the very same scope, receive and send."""
    seen: list[tuple[object, object, object]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope, receive, send))

    middleware = asgi.QueryGuardMiddleware(app)
    for kind in ("lifespan", "websocket"):
        scope: dict[str, Any] = {"type": kind}

        async def receive() -> dict[str, Any]:
            return {}

        async def send(message: Any) -> None:
            return None

        await middleware(scope, receive, send)
        assert seen[-1] == (scope, receive, send)
        assert seen[-1][2] is send
    assert queryguard.active_captures() == ()


async def test_starlette_lifespan_runs_through_the_middleware() -> None:
    """A Starlette app's startup and shutdown run unchanged behind the middleware."""
    events: list[str] = []

    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    app = asgi.QueryGuardMiddleware(Starlette(lifespan=contextlib.asynccontextmanager(lifespan)))
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: list[dict[str, Any]] = []
    for message in ("lifespan.startup", "lifespan.shutdown"):
        inbox.put_nowait({"type": message})

    async def send(message: dict[str, Any]) -> None:
        outbox.append(message)

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, send)
    assert events == ["startup", "shutdown"]
    assert [m["type"] for m in outbox] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_a_config_object_and_keywords_combine() -> None:
    """config=Config(...) is the base; keywords override it."""
    base = queryguard.Config(action="warn", slow_query_ms=5.0)
    middleware = asgi.QueryGuardMiddleware(Starlette(), config=base, server_timing=True)
    assert (middleware.config.action, middleware.config.slow_query_ms) == ("warn", 5.0)
    assert middleware.config.server_timing is True
    assert wsgi.QueryGuardMiddleware(Flask(__name__).wsgi_app, config=base).config is base


@pytest.mark.parametrize(
    ("client", "allow", "shown"),
    [
        ("127.0.0.1", None, True),
        ("::1", None, True),
        ("203.0.113.7", None, False),
        ("203.0.113.7", lambda ip: ip.startswith("203.0.113."), True),
        ("127.0.0.1", lambda ip: False, False),
    ],
)
async def test_headers_only_for_allowed_clients(client: str, allow: Any, shown: bool) -> None:
    """Opted-in headers go to this machine's clients by default, or to those allow_client accepts."""
    app = asgi.QueryGuardMiddleware(Starlette(), server_timing=True, allow_client=allow, action="none")
    transport = httpx.ASGITransport(app=app, client=(client, 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as http:
        asgi_response = await http.get("/")
    flask_app = Flask(__name__)
    flask_app.wsgi_app = wsgi.QueryGuardMiddleware(  # type: ignore[method-assign]
        flask_app.wsgi_app, server_timing=True, allow_client=allow, action="none"
    )
    wsgi_response = flask_app.test_client().get("/", environ_base={"REMOTE_ADDR": client})
    assert asgi_response.status_code == wsgi_response.status_code == 404
    assert ("server-timing" in asgi_response.headers) is shown
    assert ("Server-Timing" in wsgi_response.headers) is shown


# -- Rule 1: a raising logger or a failing helper never changes a response -----------------------------


class Recorder:
    """An ASGI wrapper that notes every exception the wrapped application lets reach the server."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.errors: list[BaseException] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        except BaseException as exc:
            self.errors.append(exc)
            raise


@contextlib.contextmanager
def uvicorn_serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with a real uvicorn server on a free port of this machine; yield its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(3000):
            if server.started or not thread.is_alive():
                break
            time.sleep(0.01)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.mark.parametrize("action", ["log", "warn"])
@pytest.mark.usefixtures("broken_logging")
def test_a_raising_logger_reaches_neither_uvicorn_nor_the_client(
    sqlite_path: Path, sqlite_engine: Engine, action: str
) -> None:
    """Rule 1: under a real uvicorn server, a finding logged through a raising logger changes nothing."""
    bare, engine = fastapi_app(sqlite_path, sqlite_engine, guarded=False)
    expected = asyncio.run(call(bare, "/blocking"))
    guarded, _ = fastapi_app(sqlite_path, sqlite_engine, action=action, server_timing=True)
    recorder = Recorder(guarded)
    with uvicorn_serving(recorder) as base, warnings.catch_warnings():
        warnings.simplefilter("error")
        responses = [httpx.get(f"{base}/blocking") for _ in range(2)]
    asyncio.run(engine.dispose())
    assert recorder.errors == []
    for response in responses:
        assert (response.status_code, response.content) == (expected.status_code, expected.content)


@pytest.mark.parametrize("action", ["log", "warn"])
@pytest.mark.usefixtures("broken_logging")
def test_a_raising_logger_leaves_a_wsgi_response_as_it_is(sqlite_engine: Engine, action: str) -> None:
    """Rule 1: under WSGI, a finding logged through a raising logger leaves the response as it is."""
    instrument(sqlite_engine)
    expected = flask_app(sqlite_engine, guarded=False).test_client().get("/books")
    client = flask_app(sqlite_engine, action=action).test_client()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        responses = [client.get("/books") for _ in range(2)]
    for response in responses:
        assert (response.status_code, response.data) == (expected.status_code, expected.data)
    assert queryguard.active_captures() == ()


HELPERS = ["queryguard._http.headers", "queryguard._http.shows_headers", "queryguard._pipeline.finish"]


def _break(monkeypatch: pytest.MonkeyPatch, helper: str) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{helper} is broken")

    monkeypatch.setattr(helper, broken)


def _internal_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "queryguard internal error" in r.getMessage()]


@pytest.mark.parametrize("helper", HELPERS)
@pytest.mark.usefixtures("fresh_errors")
async def test_a_failing_helper_leaves_an_asgi_response_unchanged(
    sqlite_path: Path,
    sqlite_engine: Engine,
    helper: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Rule 1: each helper of the ASGI middleware, made to raise, costs the response nothing; logged once."""
    bare, engine = fastapi_app(sqlite_path, sqlite_engine, guarded=False)
    expected = await call(bare, "/authors")
    app, _ = fastapi_app(sqlite_path, sqlite_engine, server_timing=True, action="log")
    _break(monkeypatch, helper)
    with caplog.at_level(logging.ERROR, logger="queryguard"):
        responses = [await call(app, "/authors") for _ in range(2)]
    await engine.dispose()
    for response in responses:
        assert (response.status_code, response.content) == (expected.status_code, expected.content)
    assert len(_internal_errors(caplog)) == 1, _internal_errors(caplog)


@pytest.mark.parametrize("helper", [*HELPERS, "queryguard.wsgi._finish_pending"])
@pytest.mark.usefixtures("fresh_errors")
def test_a_failing_helper_leaves_a_wsgi_response_unchanged(
    sqlite_engine: Engine, helper: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Rule 1: each helper of the WSGI middleware, made to raise, costs the response nothing; logged once."""
    instrument(sqlite_engine)
    expected = flask_app(sqlite_engine, guarded=False).test_client().get("/books")
    client = flask_app(sqlite_engine, server_timing=True, action="log").test_client()
    _break(monkeypatch, helper)
    with caplog.at_level(logging.ERROR, logger="queryguard"):
        responses = [client.get("/books") for _ in range(2)]
    for response in responses:
        assert (response.status_code, response.data) == (expected.status_code, expected.data)
    assert len(_internal_errors(caplog)) == 1, _internal_errors(caplog)
    assert queryguard.active_captures() == ()


@pytest.mark.parametrize("action", ["warn", "raise"])
def test_the_applications_exception_wins_over_every_action(
    sqlite_path: Path, sqlite_engine: Engine, action: str
) -> None:
    """Rule 1: a failing WSGI or ASGI view's exception passes as raised, warnings as errors or not."""
    instrument(sqlite_engine)
    app, engine = fastapi_app(sqlite_path, sqlite_engine, action=action)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(Boom, match="from the route"):
            asyncio.run(call(app, "/boom-after-queries"))
        with pytest.raises(Boom, match="from the view"):
            flask_app(sqlite_engine, action=action).test_client().get("/boom-after-queries")
    asyncio.run(engine.dispose())
