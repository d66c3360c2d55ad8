"""``duplicate_query``: the identical statement with identical parameters, more than once in one unit."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .. import _suggest
from .._config import Config
from .._events import Finding, QueryEvent
from .._sql import Statement, analyze
from ._finding import of_event, table_label
from ._index import Index, Run, site_of

#: (hash of the SQL text, parameter key) -> [count, total ms, example event, call sites]
_Seen = dict[tuple[int, Any], list[Any]]


def find(index: Index, config: Config) -> list[Finding]:
    """A finding per (text, parameters) that ran ``duplicate_threshold`` times or more, from any call sites.

    Statements of a shape that an earlier kind explained (an N+1, a write loop) are not counted.
    """
    skip = {fingerprint for fingerprint, _ in index.explained}
    seen = _stored(index.runs, skip, index.overflow, config)
    _add_aggregated(seen, index, skip, config)
    return [
        _finding(event, count, total, sorted(sites), index, config)
        for count, total, event, sites in seen.values()
        if count >= config.duplicate_threshold
    ]


def _stored(runs: list[Run], skip: set[str], overflow: list[Any], config: Config) -> _Seen:
    """The stored statements of each (text, parameters), keyed as the aggregated statements are."""
    also_aggregated = {text for agg in overflow for text, _ in agg.keys}
    by_text: dict[str, list[Run]] = {}
    for run in runs:
        by_text.setdefault(run[1][0].sql, []).append(run)
    seen: _Seen = {}
    for text, same_text in by_text.items():
        if same_text[0][0].stmt.fingerprint in skip:
            continue
        counts: Counter[Any] = Counter()
        for _, _, keys in same_text:
            counts.update(keys)
        text_hash = hash(text)
        if max(counts.values()) < config.duplicate_threshold and text_hash not in also_aggregated:
            continue  # every parameter set ran fewer times than a duplicate needs (a loop's usual case)
        for group, members, keys in same_text:
            for event, key in zip(members, keys, strict=True):
                entry = seen.setdefault((text_hash, key), [0, 0.0, event, set()])
                entry[0] += 1
                entry[1] += event.duration_ms
                entry[3].add(group.site)
    return seen


def _add_aggregated(seen: _Seen, index: Index, skip: set[str], config: Config) -> None:
    """Add the statements aggregated past ``max_events`` to ``seen``."""
    kept = [agg for agg in index.overflow if _duplicable(analyze(agg.example.sql), skip)]
    runs_of: Counter[tuple[int, Any]] = Counter()
    for agg in kept:
        runs_of.update(agg.keys)
    # Only keys that ran often enough, stored and aggregated together, get an entry: the aggregated
    # statements of a loop hold hundreds of keys that ran once.
    repeated = {
        key
        for key, n in runs_of.items()
        if n + (seen[key][0] if key in seen else 0) >= config.duplicate_threshold
    }
    for agg in kept:
        site = site_of(agg.example, config)
        for key, n in agg.keys.items():
            if key not in repeated:
                continue
            entry = seen.setdefault(key, [0, 0.0, agg.examples.get(key, agg.example), set()])
            entry[0] += n
            entry[1] += agg.total_ms * n / max(agg.count, 1)
            entry[3].add(site)


def _duplicable(stmt: Statement, skip: set[str]) -> bool:
    return stmt.kind != "transaction" and stmt.fingerprint not in skip


def _finding(
    event: QueryEvent, count: int, total: float, sites: list[str], index: Index, config: Config
) -> Finding:
    stmt = analyze(event.sql)
    site = site_of(event, config)
    group = index.groups.get((stmt.fingerprint, site))
    fix = _suggest.duplicate(event.orm)
    also = f" (also from {', '.join(s for s in sites if s != site)})" if len(sites) > 1 else ""
    message = (
        f"duplicate: the same {stmt.kind.upper()} on {table_label(stmt)} ran {count} times "
        f"with identical parameters from {site}{also}; {fix}"
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
