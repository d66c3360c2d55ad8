"""loop_stall: a step of the event loop that held it too long, at the user's line, with asyncio's fix."""

from __future__ import annotations

import asyncio
import http.server
import os
import sqlite3
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import queryguard
from queryguard import ConfigurationError, Finding

LIMIT_MS = 50.0
HOLD_S = 0.2  # four times the limit: the watchdog sees it whatever the machine's load


def _line(marker: str) -> int:
    """The line of this file that ends with the comment ``# <marker>``."""
    for number, text in enumerate(Path(__file__).read_text().splitlines(), 1):
        if text.rstrip().endswith(f"# {marker}"):
            return number
    raise AssertionError(marker)


def _stalls(cap: queryguard.Capture) -> list[Finding]:
    return [f for f in cap.findings if f.kind == "loop_stall"]


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(HOLD_S)
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[str]:
    """A real HTTP server on this machine that answers after HOLD_S."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def slow_fifo(tmp_path: Path) -> Iterator[Path]:
    """A named pipe whose writer writes after HOLD_S: a read of it blocks until then."""
    path = tmp_path / "pipe"
    os.mkfifo(path)

    def write() -> None:
        with open(path, "w") as pipe:
            time.sleep(HOLD_S)
            pipe.write("data")

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    yield path
    thread.join()


def _spin(seconds: float) -> int:
    deadline, total = time.perf_counter() + seconds, 0
    while time.perf_counter() < deadline:  # cpu
        total += 1  # cpu body
    return total


async def test_time_sleep_is_a_stall_at_its_line() -> None:
    """time.sleep in async code is a stall at its line, with await asyncio.sleep as the fix."""
    async with queryguard.capture(action="none", loop_stall_ms=LIMIT_MS) as cap:
        await asyncio.sleep(0)
        time.sleep(HOLD_S)  # sleep
        await asyncio.sleep(0)
    (finding,) = _stalls(cap)
    assert finding.callsite.endswith(
        f"test_loop_stall.py:{_line('sleep')} in test_time_sleep_is_a_stall_at_its_line"
    )
    assert finding.details["blocking"] == "sleep"
    assert finding.details["call"] == "time.sleep(HOLD_S)"
    assert "await asyncio.sleep(...)" in finding.suggestion
    assert finding.message.startswith("loop stall: time.sleep(HOLD_S) (a sleep) held the event loop for ")
    assert finding.total_duration_ms >= LIMIT_MS


async def test_sync_http_call_is_network_io(slow_server: str) -> None:
    """A sync HTTP call to a real local server is blocking network I/O; the fix is an async client."""
    async with queryguard.capture(action="none", loop_stall_ms=LIMIT_MS) as cap:
        with urllib.request.urlopen(slow_server) as response:  # http
            assert response.read() == b"ok"
    (finding,) = _stalls(cap)
    assert f"test_loop_stall.py:{_line('http')} in " in finding.callsite
    assert finding.details["blocking"] == "network"
    assert finding.details["api"] == "urllib.request.urlopen"
    assert "httpx.AsyncClient" in finding.suggestion


async def test_sync_file_read_is_file_io(slow_fifo: Path) -> None:
    """A blocking read of a file (a named pipe whose writer is late) is file I/O; to_thread is the fix."""
    async with queryguard.capture(action="none", loop_stall_ms=LIMIT_MS) as cap:
        with open(slow_fifo) as pipe:  # open
            data = pipe.read()  # read
    assert data == "data"
    (finding,) = _stalls(cap)
    assert finding.callsite.split(" in ")[0].rsplit(":", 1)[1] in (str(_line("open")), str(_line("read")))
    assert finding.details["blocking"] == "file"
    assert "asyncio.to_thread" in finding.suggestion


async def test_cpu_work_is_cpu() -> None:
    """Pure computation is CPU work, at the line of the loop, with a process pool as the fix."""
    async with queryguard.capture(action="none", loop_stall_ms=LIMIT_MS) as cap:
        _spin(HOLD_S)
    (finding,) = _stalls(cap)
    assert finding.callsite.split(" in ")[0].endswith((f":{_line('cpu')}", f":{_line('cpu body')}"))
    assert finding.callsite.endswith(" in _spin")
    assert finding.details["blocking"] == "cpu"
    assert "run_in_executor(ProcessPoolExecutor(), ...)" in finding.suggestion
    assert finding.details["stack"][1].endswith(" in test_cpu_work_is_cpu")


async def test_sync_sqlite3_call_is_a_database_call() -> None:
    """A sync sqlite3 call that holds the loop is a synchronous database call, with an async driver as fix."""
    conn = sqlite3.connect(":memory:")
    conn.create_function("pause", 1, time.sleep)
    try:
        async with queryguard.capture(action="none", loop_stall_ms=LIMIT_MS) as cap:
            conn.execute("SELECT pause(?)", (HOLD_S,)).fetchall()  # sqlite
    finally:
        conn.close()
    (finding,) = _stalls(cap)
    assert f"test_loop_stall.py:{_line('sqlite')} in " in finding.callsite
    assert finding.details["blocking"] == "database"
    assert finding.details["api"] == "sqlite3.Connection.execute"
    assert "aiosqlite" in finding.suggestion


async def test_recorded_blocking_statement_is_blocking_query_only() -> None:
    """A sync statement queryguard recorded on the loop is blocking_query's, not also a loop stall."""
    raw = sqlite3.connect(":memory:")
    raw.create_function("pause", 1, time.sleep)
    conn = queryguard.dbapi.instrument(raw)
    try:
        async with queryguard.capture(action="none", loop_stall_ms=LIMIT_MS, explain=False) as cap:
            conn.cursor().execute("SELECT pause(?)", (HOLD_S,))
    finally:
        raw.close()
    kinds = [f.kind for f in cap.findings]
    assert "blocking_query" in kinds
    assert "loop_stall" not in kinds


async def test_awaits_and_short_steps_are_no_stall() -> None:
    """A unit that awaits and never holds the loop past the limit has no stall."""
    async with queryguard.capture(action="none", loop_stall_ms=LIMIT_MS) as cap:
        for _ in range(5):
            await asyncio.sleep(0.03)
            _spin(0.002)
    assert _stalls(cap) == []


async def test_many_short_steps_in_one_iteration_are_no_stall() -> None:
    """Ten tasks woken together, each running 20 ms: one iteration of the loop runs longer than the limit,
    but no single step does, so there is no stall."""

    async def short(wake: float) -> None:
        await asyncio.sleep(wake - asyncio.get_running_loop().time())
        _spin(0.02)

    async with queryguard.capture(action="none", loop_stall_ms=LIMIT_MS) as cap:
        wake = asyncio.get_running_loop().time() + 0.05
        await asyncio.gather(*(short(wake) for _ in range(10)))
        for _ in range(10):
            _spin(0.02)
            await asyncio.sleep(0)
    assert _stalls(cap) == []


@pytest.mark.parametrize("setting", [0, None])
async def test_setting_off(setting: float | None) -> None:
    """loop_stall_ms=0 or None watches nothing."""
    async with queryguard.capture(action="none", loop_stall_ms=setting) as cap:
        time.sleep(HOLD_S)
    assert _stalls(cap) == []


@pytest.mark.parametrize("bad", [-1, "fast", True, float("nan")])
def test_setting_validated(bad: object) -> None:
    """A negative, non-number or NaN loop_stall_ms is a configuration error naming the value."""
    with pytest.raises(ConfigurationError, match="loop_stall_ms"):
        queryguard.Config(loop_stall_ms=bad)  # type: ignore[arg-type]


def test_no_event_loop_no_watch() -> None:
    """A sync unit with no running event loop is never watched (time.sleep there stalls nothing)."""
    with queryguard.capture(action="none", loop_stall_ms=LIMIT_MS) as cap:
        time.sleep(0.08)
    assert _stalls(cap) == []


async def test_stall_goes_to_the_task_that_ran_it() -> None:
    """Two concurrent units: the stall is the one of the task that held the loop, never the other's."""

    async def quiet() -> queryguard.Capture:
        async with queryguard.capture(action="none", loop_stall_ms=LIMIT_MS) as cap:
            for _ in range(20):
                await asyncio.sleep(0.02)
        return cap

    async def stalling() -> queryguard.Capture:
        async with queryguard.capture(action="none", loop_stall_ms=LIMIT_MS) as cap:
            await asyncio.sleep(0.05)
            time.sleep(HOLD_S)  # task stall
        return cap

    calm, busy = await asyncio.gather(quiet(), stalling())
    assert _stalls(calm) == []
    (finding,) = _stalls(busy)
    assert f":{_line('task stall')} in stalling" in finding.callsite


async def test_gather_child_task_stall_reaches_the_unit() -> None:
    """A stall in a child task of gather() belongs to the unit that started it."""

    async def child(hold: bool) -> None:
        await asyncio.sleep(0.01)
        if hold:
            time.sleep(HOLD_S)  # child stall

    async with queryguard.capture(action="none", loop_stall_ms=LIMIT_MS) as cap:
        await asyncio.gather(child(False), child(True))
    (finding,) = _stalls(cap)
    assert f":{_line('child stall')} in child" in finding.callsite


def _asgi_app(stall_path: str) -> Callable[..., object]:
    async def app(scope: dict[str, object], receive: object, send: Callable[..., object]) -> None:
        await asyncio.sleep(0.01)
        if scope["path"] == stall_path:
            time.sleep(HOLD_S)  # request stall
        await asyncio.sleep(0.01)
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]

    return app


async def test_one_stalling_request_of_a_hundred_reports_alone() -> None:
    """100 concurrent requests through the ASGI middleware, one stalls: only that request reports it."""
    httpx = pytest.importorskip("httpx", reason="httpx drives the ASGI app (requirements-test.txt)")
    units: list[queryguard.Capture] = []
    app = queryguard.asgi.QueryGuardMiddleware(
        _asgi_app("/r/37"), action="none", loop_stall_ms=LIMIT_MS, explain=False, callback=units.append
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        responses = await asyncio.gather(*(client.get(f"/r/{i}") for i in range(100)))
    assert all(r.status_code == 200 for r in responses)
    assert len(units) == 100
    stalled = {cap.name: _stalls(cap) for cap in units if _stalls(cap)}
    assert list(stalled) == ["GET /r/37"]
    (finding,) = stalled["GET /r/37"]
    assert f":{_line('request stall')} in app" in finding.callsite


@pytest.fixture
def uvicorn_server() -> Iterator[tuple[str, list[queryguard.Capture]]]:
    """A real uvicorn server (in a thread, with its own event loop) serving the app, and its units."""
    uvicorn = pytest.importorskip("uvicorn", reason="uvicorn serves the app (requirements-test.txt)")
    units: list[queryguard.Capture] = []
    app = queryguard.asgi.QueryGuardMiddleware(
        _asgi_app("/r/61"), action="none", loop_stall_ms=LIMIT_MS, explain=False, callback=units.append
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", units
    server.should_exit = True
    thread.join(timeout=30)


async def test_uvicorn_hundred_requests_one_stall(
    uvicorn_server: tuple[str, list[queryguard.Capture]],
) -> None:
    """100 concurrent requests to uvicorn, one of which stalls its loop: that request alone reports it."""
    import httpx

    base_url, units = uvicorn_server
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        responses = await asyncio.gather(*(client.get(f"/r/{i}") for i in range(100)))
    assert all(r.status_code == 200 for r in responses)
    deadline = time.monotonic() + 10
    while len(units) < 100 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert len(units) == 100
    stalled = {cap.name: _stalls(cap) for cap in units if _stalls(cap)}
    assert list(stalled) == ["GET /r/61"]
    (finding,) = stalled["GET /r/61"]
    assert f":{_line('request stall')} in app" in finding.callsite
    assert finding.details["blocking"] == "sleep"


async def test_two_units_in_turn_in_one_step_each_report_their_stall() -> None:
    """Two units one after the other, with no await between them (one step of the loop): each reports
    the stall of its own block."""
    async with queryguard.capture(action="none", loop_stall_ms=LIMIT_MS) as first:
        time.sleep(HOLD_S)  # first unit
    async with queryguard.capture(action="none", loop_stall_ms=LIMIT_MS) as second:
        time.sleep(HOLD_S)  # second unit
    name = "test_two_units_in_turn_in_one_step_each_report_their_stall"
    assert [f.callsite.split(":")[-1] for f in _stalls(first)] == [f"{_line('first unit')} in {name}"]
    assert [f.callsite.split(":")[-1] for f in _stalls(second)] == [f"{_line('second unit')} in {name}"]
