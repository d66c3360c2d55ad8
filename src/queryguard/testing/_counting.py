"""Counting a capture's statements by kind, stored and aggregated alike."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from .._events import QueryEvent
from .._sql import analyze
from .._unit import Capture

STATEMENT_KINDS = ("select", "insert", "update", "delete")
#: Findings that explain a high statement count.
REPEATS = ("n_plus_one", "write_loop", "duplicate_query")


def events(cap: Capture, using: str | None = None) -> Iterator[tuple[QueryEvent, int]]:
    """Each statement of ``cap`` (on alias ``using``) with how many times it counts: stored events once,
    an aggregated shape as often as it ran."""
    for event in cap.queries:
        if using is None or event.alias == using:
            yield event, 1
    for entry in cap.overflow.values():
        if using is None or entry.example.alias == using:
            yield entry.example, entry.count


def count_queries(cap: Capture, *, using: str | None = None) -> Counter[str]:
    """Statements of ``cap`` per kind (``"select"``, ``"insert"``...) and in all (``"total"``).

    ``using`` keeps one database alias. Transaction control is left out.
    """
    counts: Counter[str] = Counter()
    for event, n in events(cap, using):
        kind = analyze(event.sql).kind
        if kind != "transaction":
            counts[kind] += n
            counts["total"] += n
    return counts
