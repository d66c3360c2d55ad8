"""``slow_query``: statements slower than ``slow_query_ms``, once per shape and call site."""

from __future__ import annotations

import operator

from .. import _suggest
from .._config import Config
from .._events import Finding, QueryEvent
from .._sql import analyze
from ._finding import of_event, table_label
from ._index import Index, site_of

_DURATION = operator.attrgetter("duration_ms")


def find(index: Index, config: Config) -> list[Finding]:
    """A finding per (shape, call site) with a statement slower than the limit, about the slowest one."""
    limit = config.slow_query_ms
    events = index.events
    if max(map(_DURATION, events), default=0.0) < limit:
        return []  # the usual case, found without a loop in Python
    slow: dict[tuple[str, str], list[QueryEvent]] = {}
    for event in events:
        if event.duration_ms >= limit and event.duration_ms > 0:
            stmt = analyze(event.sql)
            if stmt.kind != "transaction":
                slow.setdefault((stmt.fingerprint, site_of(event, config)), []).append(event)
    found = []
    for key, items in slow.items():
        if key in index.explained:
            continue
        worst = max(items, key=_DURATION)
        stmt = analyze(worst.sql)
        fix = _suggest.slow(stmt.tables[0] if stmt.tables else None)
        message = (
            f"slow query: {stmt.kind.upper()} on {table_label(stmt)} took {worst.duration_ms:.1f} ms "
            f"(limit {limit:g} ms) at {key[1]}; {fix}"
        )
        total = sum(e.duration_ms for e in items)
        found.append(
            of_event(
                worst,
                stmt,
                "slow_query",
                "warning",
                message,
                fix,
                callsite=key[1],
                count=len(items),
                total_duration_ms=total,
            )
        )
    return found
