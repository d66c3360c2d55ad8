"""Rule 1, never break the host: queryguard's failures, logging's included, never reach the application."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

import queryguard
from queryguard import QueryGuardViolation, _guard, dbapi

from ._helpers import BROKEN_LOGGING, break_logging, forget_internal_errors, mend_logging, shop_db


@pytest.fixture
def fresh_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Internal errors are logged once per process: each test starts with none logged yet."""
    forget_internal_errors(monkeypatch)


@pytest.fixture(params=sorted(BROKEN_LOGGING))
def broken_logging(request: pytest.FixtureRequest, fresh_errors: None) -> Iterator[str]:
    """The ``queryguard`` logger with a raising filter, or a raising handler; removed afterwards."""
    broken = break_logging(request.param)
    yield request.param
    mend_logging(broken)


def n_plus_one(conn: dbapi.Connection) -> list[Any]:
    """Three lookups from one line: an N+1 finding."""
    return [conn.execute("SELECT name FROM author WHERE id = ?", (n,)).fetchone() for n in (1, 2, 3)]


def test_internal_error_survives_a_raising_logger(
    broken_logging: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rule 1: the last wall cannot raise; logging's own failure is said once on stderr, then swallowed."""
    for _ in range(3):
        _guard.internal_error("a helper", RuntimeError("queryguard bug"))
        _guard.internal_error("another helper", ValueError("another bug"))
    err = capsys.readouterr().err
    assert err.count("queryguard internal error in") == 1
    assert "RuntimeError('queryguard bug')" in err and "logging it failed too" in err


def test_internal_error_survives_a_broken_stderr(
    broken_logging: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule 1: with logging and stderr both broken, the last wall still returns quietly."""

    class Closed:
        def write(self, text: str) -> int:
            raise ValueError("I/O operation on closed file")

    class Unprintable(Exception):
        def __repr__(self) -> str:
            raise TypeError("no repr")

    monkeypatch.setattr("sys.stderr", Closed())
    _guard.internal_error("a helper", Unprintable())
    monkeypatch.setattr("sys.stderr", None)
    _guard.internal_error("a third helper", KeyError("k"))


def test_capture_with_a_raising_logger_returns_the_blocks_result(
    broken_logging: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rule 1: a finding logged through a raising filter or handler leaves the block's result as it is."""
    conn = shop_db()
    bare = n_plus_one(conn)
    with queryguard.capture(action="log", explain=False) as cap:
        guarded = n_plus_one(conn)
    assert guarded == bare
    assert [f.kind for f in cap.findings] == ["n_plus_one"]
    assert capsys.readouterr().err.count("queryguard internal error in logging") == 1


def _failing_work(conn: dbapi.Connection) -> None:
    n_plus_one(conn)
    raise KeyError("the block's own")


async def _failing_async_work(conn: dbapi.Connection) -> None:
    _failing_work(conn)


def _run(form: str, guard: queryguard.Capture, conn: dbapi.Connection) -> None:
    if form == "with":
        with guard:
            _failing_work(conn)
    elif form == "async with":

        async def main() -> None:
            async with guard:
                _failing_work(conn)

        asyncio.run(main())
    elif form == "decorator":
        guard(_failing_work)(conn)
    else:
        asyncio.run(guard(_failing_async_work)(conn))


@pytest.mark.parametrize(
    ("action", "violating_callback"),
    [("log", False), ("warn", False), ("raise", False), ("none", True), ("warn", True)],
)
@pytest.mark.parametrize("form", ["with", "async with", "decorator", "async decorator"])
def test_the_blocks_exception_wins_over_every_action(
    form: str, action: str, violating_callback: bool, fresh_errors: None
) -> None:
    """Rule 1: the block's exception leaves it unchanged, warnings as errors or not; findings stay known."""
    conn = shop_db()
    seen: list[queryguard.Capture] = []

    def callback(cap: queryguard.Capture) -> None:
        seen.append(cap)
        if violating_callback:
            raise QueryGuardViolation("from the callback")

    guard = queryguard.capture(action=action, explain=False, callback=callback)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(KeyError) as raised:
            _run(form, guard, conn)
    assert raised.value.args == ("the block's own",)
    assert "n_plus_one" in [f.kind for f in seen[0].findings]


def test_warnings_as_errors_still_raise_from_a_block_that_succeeded() -> None:
    """Without an exception of the block's own, "warn" under an error filter raises, as the user asked."""
    conn = shop_db()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with (
            pytest.raises(queryguard.QueryGuardWarning, match=r"N\+1"),
            queryguard.capture(action="warn", explain=False),
        ):
            n_plus_one(conn)
