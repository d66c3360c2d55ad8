"""The cost of watching the event loop for stalls (``loop_stall_ms``) on async requests that never stall.

The same ASGI app behind the same middleware, with the watch on (the default, 100 ms) and off
(``loop_stall_ms=None``), measured alternately in one process run: requests run 50 at a time, each awaiting
ten times (ten steps of the loop), with no statement. The ratio is the whole cost of the watch on a request
that never stalls: the beat on the loop, the unit's start and end, the watchdog thread.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

import queryguard
from queryguard.asgi import QueryGuardMiddleware

CONCURRENT = 50
ROUNDS = 200
STEPS = 10
REPEAT = 7


async def _app(scope: Any, receive: Any, send: Any) -> None:
    for _ in range(STEPS):
        await asyncio.sleep(0)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: Any) -> None:
    pass


async def _requests(app: Any) -> None:
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "client": ("10.0.0.1", 1)}
    for _ in range(ROUNDS):
        await asyncio.gather(*(app(dict(scope), _receive, _send) for _ in range(CONCURRENT)))


def _time(app: Any) -> float:
    gc.collect()
    start = time.perf_counter()
    asyncio.run(_requests(app))
    return time.perf_counter() - start


def loop_watch_cost() -> dict[str, Any]:
    """Seconds for 10,000 async requests with the loop-stall watch on against off, best of seven each."""
    settings: dict[str, Any] = {"action": "none", "explain": False}
    off = QueryGuardMiddleware(_app, loop_stall_ms=None, **settings)
    on = QueryGuardMiddleware(_app, loop_stall_ms=100.0, **settings)
    _time(off), _time(on)  # warm up: imports, the watchdog thread
    off_s, on_s = [], []
    for _ in range(REPEAT):
        off_s.append(_time(off))
        on_s.append(_time(on))
    requests = CONCURRENT * ROUNDS
    bare_s, watched_s = min(off_s), min(on_s)
    return {
        "name": f"ASGI request that never stalls, loop-stall watch on vs off ({requests:,} requests, "
        f"{CONCURRENT} at a time)",
        "bare_s": bare_s,
        "instrumented_s": watched_s,
        "ratio": watched_s / bare_s,
        "value": f"{(watched_s - bare_s) / requests * 1e6:+.2f} µs/request",
        "target": "within noise of off",
    }


def unit_cost() -> dict[str, Any]:
    """Microseconds that the watch adds to one async unit's start and end (the beat already running)."""
    n = 20_000

    async def units(stall_ms: float | None) -> float:
        start = time.perf_counter()
        for _ in range(n):
            cap = queryguard.capture(action="none", explain=False, loop_stall_ms=stall_ms).start()
            cap.stop(act=False)
        return time.perf_counter() - start

    async def both() -> tuple[float, float]:
        keep = queryguard.capture(action="none", loop_stall_ms=100.0).start()  # the loop's beat runs
        off_s, on_s = [], []
        for _ in range(REPEAT):
            off_s.append(await units(None))
            on_s.append(await units(100.0))
        keep.stop(act=False)
        return min(off_s), min(on_s)

    bare_s, watched_s = asyncio.run(both())
    return {
        "name": f"async unit start and stop, loop-stall watch on vs off ({n:,} units)",
        "bare_s": bare_s,
        "instrumented_s": watched_s,
        "ratio": watched_s / bare_s,
        "value": f"{(watched_s - bare_s) / n * 1e6:+.2f} µs/unit",
        "target": "< 2 µs",
    }


def run() -> list[dict[str, Any]]:
    """The loop-watch benchmarks."""
    return [loop_watch_cost(), unit_cost()]


if __name__ == "__main__":
    for row in run():
        print(row)
