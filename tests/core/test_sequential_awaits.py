"""sequential_awaits over recorded async statements: chains, independence, writes, duplicates, settings."""

from __future__ import annotations

import asyncio
import time

import pytest

import queryguard
from queryguard import ConfigurationError, QueryEvent


def _stmt(sql: str, params: tuple[object, ...], ms: float = 60.0) -> QueryEvent:
    """An awaited statement of ``ms`` that ended just now (as an async adapter records it)."""
    return QueryEvent(
        sql, params, ms, vendor="postgresql", is_async=True, started=time.perf_counter() - ms / 1000
    )


async def _run(*statements: tuple[str, tuple[object, ...]]) -> list[queryguard.Finding]:
    with queryguard.capture(action="none", explain=False, loop_stall_ms=None) as cap:
        for sql, params in statements:
            await asyncio.sleep(0.001)
            queryguard.record(_stmt(sql, params))
    return [f for f in cap.findings if f.kind == "sequential_awaits"]


async def test_independent_reads_are_one_finding() -> None:
    """Three 60 ms reads that only use the unit's own input: one finding of three statements."""
    (finding,) = await _run(
        ("SELECT * FROM author WHERE id = %s", (3,)),
        ("SELECT count(*) FROM book WHERE author_id = %s", (3,)),
        ("SELECT bio FROM profile WHERE author_id = %s", (3,)),
    )
    assert finding.count == 3
    assert finding.details["saved_ms"] == pytest.approx(120.0)
    assert "asyncio.gather(...)" in finding.suggestion


async def test_a_value_seen_first_later_makes_it_dependent() -> None:
    """A read whose parameter is new (an id the previous read returned) is no part of the chain."""
    assert (
        await _run(
            ("SELECT id FROM author WHERE name = %s", ("ann",)),
            ("SELECT * FROM book WHERE author_id = %s", (17,)),
            ("SELECT * FROM review WHERE book_id = %s", (301,)),
        )
        == []
    )


async def test_a_write_breaks_the_chain_and_a_duplicate_adds_nothing() -> None:
    """A write between reads ends the chain (order matters); a read repeated with the same values is a
    duplicate, not something to overlap."""
    assert (
        await _run(
            ("SELECT * FROM author WHERE id = %s", (3,)),
            ("UPDATE author SET seen = %s WHERE id = %s", (1, 3)),
            ("SELECT count(*) FROM book WHERE author_id = %s", (3,)),
            ("SELECT count(*) FROM book WHERE author_id = %s", (3,)),
        )
        == []
    )


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("sequential_awaits_min_ms", -1),
        ("sequential_awaits_min_saved_ms", "a lot"),
        ("sequential_awaits_min_share", 1.5),
        ("sequential_awaits_min_share", float("nan")),
    ],
)
def test_settings_are_validated(name: str, bad: object) -> None:
    """A negative, non-number or out-of-range threshold is a configuration error naming the setting."""
    with pytest.raises(ConfigurationError, match=name):
        queryguard.Config(**{name: bad})
