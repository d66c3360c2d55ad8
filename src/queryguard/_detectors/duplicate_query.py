"""``duplicate_query``: the same read, asked more than once in one unit.

Only reads: a write asked twice writes twice (``SET n = n + 1``), and writes repeated from one place are the
write-loop detector's business.

Two statements are the same read when they have the same text, equal parameters (whatever their
containers: ``()``, ``[]``, ``{}`` and None are all "no parameters"), the same database and the same
request (two requests cannot share a result), and nothing between them could have changed its answer: no
write to a table it reads, and no end of a transaction, on that database, and no reload the ORM made
because the object was expired (after a commit or ``expire()``).
A read repeated after such a change (a count before and after an INSERT, an object reloaded after a
commit) is a new question, not a duplicate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from .. import _suggest
from .._config import Config
from .._events import Finding, QueryEvent
from .._sql import Statement, analyze
from ._finding import of_event, table_label
from ._index import Index, Run, site_of

#: (hash of the SQL text, alias, epoch, parameter key) -> [count, total ms, example event, call sites]
_Seen = dict[tuple[int, str, Any, Any], list[Any]]


def find(index: Index, config: Config) -> list[Finding]:
    """A finding per (text, parameters) that ran ``duplicate_threshold`` times or more, from any call sites.

    Statements of a shape that an earlier kind explained (an N+1, a write loop) are not counted.
    """
    skip = {fingerprint for fingerprint, _ in index.explained}
    epochs = _Epochs(index.events)
    seen = _stored(index.runs, skip, index.overflow, config, epochs)
    _add_aggregated(seen, index, skip, config, epochs.final)
    return [
        _finding(event, count, total, sorted(sites), index, config)
        for count, total, event, sites in seen.values()
        if count >= config.duplicate_threshold
    ]


def _stored(runs: list[Run], skip: set[str], overflow: list[Any], config: Config, epochs: _Epochs) -> _Seen:
    """The stored statements of each (text, parameters), keyed as the aggregated statements are."""
    also_aggregated = {text for agg in overflow for text, _ in agg.keys}
    by_text: dict[str, list[Run]] = {}
    for run in runs:
        by_text.setdefault(run[1][0].sql, []).append(run)
    seen: _Seen = {}
    for text, same_text in by_text.items():
        if not _duplicable(same_text[0][0].stmt, skip):
            continue
        counts: Counter[Any] = Counter()
        for _, _, keys in same_text:
            counts.update(keys)
        text_hash = hash(text)
        if max(counts.values()) < config.duplicate_threshold and text_hash not in also_aggregated:
            continue  # every parameter set ran fewer times than a duplicate needs (a loop's usual case)
        tables = same_text[0][0].stmt.tables
        for group, members, keys in same_text:
            for event, key in zip(members, keys, strict=True):
                if event.relation_kind in _ASKED_AGAIN:
                    continue
                alias = event.alias
                entry = seen.setdefault(
                    (text_hash, alias, (event.entry, epochs.of(event, alias, tables)), key),
                    [0, 0.0, event, set()],
                )
                entry[0] += 1
                entry[1] += event.duration_ms
                entry[3].add(group.site)
    return seen


def _add_aggregated(seen: _Seen, index: Index, skip: set[str], config: Config, final: _Epoch) -> None:
    """Add the statements aggregated past ``max_events`` to ``seen`` (in the epoch the stored ones ended in:
    their order is not kept)."""
    kept = [
        agg
        for agg in index.overflow
        if _duplicable(analyze(agg.example.sql), skip) and agg.example.relation_kind not in _ASKED_AGAIN
    ]
    runs_of: Counter[tuple[int, str, Any, Any]] = Counter()
    for agg in kept:
        epoch = _final_epoch(agg, final)
        alias = agg.example.alias
        runs_of.update({(text, alias, epoch, params): n for (text, params), n in agg.keys.items()})
    # Only keys that ran often enough, stored and aggregated together, get an entry: the aggregated
    # statements of a loop hold hundreds of keys that ran once.
    repeated = {
        key
        for key, n in runs_of.items()
        if n + (seen[key][0] if key in seen else 0) >= config.duplicate_threshold
    }
    for agg in kept:
        site = site_of(agg.example, config)
        epoch = _final_epoch(agg, final)
        alias = agg.example.alias
        for (text, params), n in agg.keys.items():
            key = (text, alias, epoch, params)
            if key not in repeated:
                continue
            example = agg.examples.get((text, params), agg.example)
            entry = seen.setdefault(key, [0, 0.0, example, set()])
            entry[0] += n
            entry[1] += agg.total_ms * n / max(agg.count, 1)
            entry[3].add(site)


_Epoch = Callable[[str, tuple[str, ...]], Any]


class _Epochs:
    """What a read's answer depends on, besides its text and parameters: the writes to its tables and the
    transactions ended on its database before it ran (counted lazily, in one pass, only when asked)."""

    def __init__(self, events: list[QueryEvent]) -> None:
        self._events = events
        self._at: dict[int, tuple[int, dict[tuple[str, str], int]]] | None = None  # id(read) -> its state
        self._ends: dict[str, int] = {}
        self._writes: dict[tuple[str, str], int] = {}

    def _count(self) -> dict[int, tuple[int, dict[tuple[str, str], int]]]:
        at: dict[int, tuple[int, dict[tuple[str, str], int]]] = {}
        ends, writes = self._ends, self._writes
        snapshot: dict[tuple[str, str], int] = {}
        for event in self._events:
            stmt = analyze(event.sql)
            alias = event.alias
            if stmt.kind == "select":
                at[id(event)] = (ends.get(alias, 0), snapshot)
                continue
            if (stmt.kind in _WRITES or stmt.writes) and stmt.tables:
                for table in stmt.tables:
                    writes[(alias, table)] = writes.get((alias, table), 0) + 1
                snapshot = dict(writes)
            elif not stmt.shape.startswith(_NOT_ENDS):  # COMMIT, ROLLBACK, DDL, a procedure: anything
                ends[alias] = ends.get(alias, 0) + 1
        return at

    def of(self, event: QueryEvent, alias: str, tables: tuple[str, ...]) -> Any:
        """The epoch of stored ``event`` (a read of ``tables`` on ``alias``; None for other statements)."""
        at = self._at
        if at is None:
            at = self._at = self._count()
        state = at.get(id(event))
        if state is None:
            return None
        return (state[0], tuple(state[1].get((alias, table), 0) for table in tables))

    def final(self, alias: str, tables: tuple[str, ...]) -> Any:
        """The epoch of a read of ``tables`` on ``alias`` after the last stored statement."""
        if self._at is None:
            self._at = self._count()
        return (self._ends.get(alias, 0), tuple(self._writes.get((alias, table), 0) for table in tables))


#: Loads the ORM made because the user said the data may be stale (a commit, ``expire()``): asked again on
#: purpose, never a duplicate of the read before.
_ASKED_AGAIN = frozenset({"expired"})
#: Statements that start a transaction or a savepoint, or set a session variable: no answer changes.
_NOT_ENDS = ("BEGIN", "START", "SAVEPOINT", "SET ")
_WRITES = frozenset({"insert", "update", "delete"})
#: Where a statement with no frame of the user's code came from, in a message.
_NO_SITE = "library code (no frame of your code)"


def _final_epoch(agg: Any, final: _Epoch) -> Any:
    stmt = analyze(agg.example.sql)
    epoch = final(agg.example.alias, stmt.tables) if stmt.kind == "select" else None
    return (agg.example.entry, epoch)


def _duplicable(stmt: Statement, skip: set[str]) -> bool:
    return stmt.kind == "select" and stmt.fingerprint not in skip


def _finding(
    event: QueryEvent, count: int, total: float, sites: list[str], index: Index, config: Config
) -> Finding:
    stmt = analyze(event.sql)
    site = site_of(event, config)
    group = index.group_of(event)
    fix = _suggest.duplicate(event.orm)
    others = [s or _NO_SITE for s in sites if s != site]
    also = f" (also from {', '.join(others)})" if others else ""
    message = (
        f"duplicate: the same {stmt.kind.upper()} on {table_label(stmt)} ran {count} times "
        f"with identical parameters from {site or _NO_SITE}{also}; {fix}"
    )
    return of_event(
        event,
        stmt,
        "duplicate_query",
        "warning",
        message,
        fix,
        count=count,
        total_duration_ms=total,
        callsite=site,
        relation=group.relation if group else event.relation,
        details={"callsites": sites},
    )
