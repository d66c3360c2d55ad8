"""``sequential_awaits``: independent statements that one task awaited one after another.

Sentry's "Consecutive DB Queries" rule, with a better test of independence. In one asyncio task (the
``task`` of each async statement), a chain is a run of read-only statements each slower than
``sequential_awaits_min_ms``, where no later one needs a value that an earlier one returned: every
parameter of a later statement was known before the chain's first statement returned (a parameter of it,
or of a statement before it). A value seen first in a later statement may come from an earlier one's rows
(the ids a loop walks): that statement depends on them, and starts a chain of its own. Short reads do not
count and do not break a chain; a write breaks it (order matters then), and so does a statement that
another kind explains better (an N+1). A repeat of a chain's statement with the same parameters is a
duplicate, not something to run concurrently. A chain is a finding when running it together would save
at least ``sequential_awaits_min_saved_ms`` and ``sequential_awaits_min_share`` of the time from the
unit's first statement to its last: the saving is the chain's time less its longest statement.
"""

from __future__ import annotations

import operator
from collections.abc import Hashable, Iterable
from typing import Any

from .. import _suggest
from .._config import Config
from .._events import Finding, QueryEvent
from .._sql import analyze, params_key
from ._finding import of_event
from ._index import Index, site_of

_STARTED = operator.attrgetter("started")


def find(index: Index, config: Config) -> list[Finding]:
    """A finding per chain of independent slow statements awaited one after another by one task."""
    tasks: dict[tuple[int, int], list[QueryEvent]] = {}
    for event in index.events:
        if event.is_async:
            task = getattr(event, "task", 0)  # an adapter's own event class may leave the slot unset
            if task:
                tasks.setdefault((event.entry, task), []).append(event)
    if not any(len(events) > 1 for events in tasks.values()):
        return []
    events = index.events
    span_ms = max(e.started * 1000 + e.duration_ms for e in events) - min(e.started for e in events) * 1000
    found = []
    for run in tasks.values():
        if len(run) > 1:
            for chain in _chains(sorted(run, key=_STARTED), index, config):
                finding = _finding(chain, span_ms, config)
                if finding is not None:
                    found.append(finding)
    return found


def _chains(events: list[QueryEvent], index: Index, config: Config) -> list[list[QueryEvent]]:
    """The chains of independent slow reads among ``events`` (one task's, in the order they started)."""
    chains: list[list[QueryEvent]] = []
    chain: list[QueryEvent] = []
    seen: set[Hashable] = set()  # the keys of the chain's statements
    known: set[Hashable] = set()  # parameter values known so far
    known_at_start: set[Hashable] = set()  # ... when the chain's first statement was sent
    for event in events:
        stmt = analyze(event.sql)
        if stmt.kind == "transaction":
            continue
        values = _values(event.params)
        key = (event.sql, params_key(event.params))
        slow = event.duration_ms >= config.sequential_awaits_min_ms and event.error is None
        if (
            stmt.kind != "select"
            or stmt.writes
            or stmt.locking
            or _explained(event, stmt.fingerprint, index, config)
        ):
            chains.append(chain)
            chain = []
        elif slow and key not in seen:  # a short read or a duplicate is neither part of a chain nor its end
            if chain and values <= known_at_start:
                chain.append(event)
                seen.add(key)
            else:  # the first of a chain, or one that may need what the chain returned
                chains.append(chain)
                chain, seen, known_at_start = [event], {key}, known | values
        known |= values
    chains.append(chain)
    return [c for c in chains if len(c) > 1]


def _explained(event: QueryEvent, fingerprint: str, index: Index, config: Config) -> bool:
    return bool(index.explained) and (fingerprint, site_of(event, config)) in index.explained


def _values(params: Any) -> set[Hashable]:
    """The parameter values of a statement, as hashable keys (the items of a list parameter each)."""
    if params is None:
        return set()
    items: Iterable[Any] = params.values() if isinstance(params, dict) else params
    if isinstance(params, (str, bytes)):
        items = (params,)
    values: set[Hashable] = set()
    try:
        for item in items:
            for value in item if isinstance(item, (list, tuple, set, frozenset)) else (item,):
                values.add(params_key((value,)))
    except TypeError:  # parameters of a form queryguard does not know: treat them as one value
        values.add(params_key(params))
    return values


def _finding(chain: list[QueryEvent], span_ms: float, config: Config) -> Finding | None:
    durations = [event.duration_ms for event in chain]
    total, longest = sum(durations), max(durations)
    saved = total - longest
    if saved < config.sequential_awaits_min_saved_ms or saved < config.sequential_awaits_min_share * span_ms:
        return None
    first = chain[0]
    sites = [site_of(event, config) for event in chain]
    where = sites[0] + "".join(f", {site}" for site in sites[1:] if site != sites[0])
    stmts = [analyze(event.sql) for event in chain]
    tables = sorted({stmt.tables[0] for stmt in stmts if stmt.tables})
    on = f" (on {', '.join(tables)})" if tables else ""
    fix = _suggest.sequential_awaits(first.orm)
    message = (
        f"sequential awaits: {len(chain)} independent SELECTs{on} ran one after another in one task from "
        f"{where}: {_ms(total)} ms in all, about {_ms(longest)} ms together ({_ms(saved)} ms saved); {fix}"
    )
    return of_event(
        first,
        stmts[0],
        "sequential_awaits",
        "warning",
        message,
        fix,
        callsite=sites[0],
        count=len(chain),
        total_duration_ms=total,
        details={"saved_ms": saved, "sites": sites, "fingerprints": [stmt.fingerprint for stmt in stmts]},
    )


def _ms(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"
