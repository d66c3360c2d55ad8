"""``query_budget``: the unit ran more statements, or spent more database time, than it may."""

from __future__ import annotations

import dataclasses

from .._config import Config
from .._events import Finding
from .._plural import plural
from .._sql import rough_kind
from . import duplicate_query, n_plus_one, write_loop
from ._finding import table_label
from ._index import Index

#: The repeats a fix removes, in the order the registry finds them (an earlier one explains the later).
_REPEATS = (("N+1", n_plus_one.find), ("write loop", write_loop.find))
#: Causes named in a fix.
_NAMED = 2


def find(index: Index, config: Config) -> list[Finding]:
    """A finding per budget exceeded (``max_queries``, ``max_db_time_ms``), naming the most frequent shapes.

    Statements of shapes past the overflow cap are counted and timed too, though not grouped. The fix names
    the loops and duplicates that cost the most, found by their own detectors' rules.
    """
    groups = index.groups
    others = [entry for entry in index.others if rough_kind(entry.example.sql) != "transaction"]
    count = sum(g.count for g in groups.values()) + sum(entry.count for entry in others)
    total = sum(g.total_ms for g in groups.values()) + sum(entry.total_ms for entry in others)
    top = sorted(groups.values(), key=lambda g: -g.count)[:3]
    worst = ", ".join(f"{g.count}x {table_label(g.stmt)} from {g.site}" for g in top)
    over_count = config.max_queries is not None and count > config.max_queries
    over_time = config.max_db_time_ms is not None and total > config.max_db_time_ms
    causes = _causes(index, config) if over_count or over_time else []
    found = []
    if over_count:
        what = f"ran {plural(count, 'query', 'queries')} (at most {config.max_queries} allowed)"
        found.append((what, _fix(causes, count, None)))
    if over_time:
        what = f"spent {total:.1f} ms in the database (at most {config.max_db_time_ms:g} ms)"
        found.append((what, _fix(causes, None, total)))
    return [
        Finding(
            kind="query_budget",
            severity="error",
            message=f"budget: {what}; most frequent: {worst}",
            count=count,
            total_duration_ms=total,
            callsite=top[0].site if top else "",
            suggestion=fix,
            details={"max_queries": config.max_queries, "max_db_time_ms": config.max_db_time_ms},
        )
        for what, fix in found
    ]


def _causes(index: Index, config: Config) -> list[tuple[str, Finding]]:
    """The loops and duplicates of the unit, each with its name. Only run when a budget is exceeded."""
    causes: list[tuple[str, Finding]] = []
    explained = set(index.explained)
    for name, detect in _REPEATS:
        for finding in detect(index, config):
            causes.append((name, finding))
            explained.add((finding.fingerprint, finding.callsite))
    unexplained = dataclasses.replace(index, explained=frozenset(explained))
    causes += [("duplicate", finding) for finding in duplicate_query.find(unexplained, config)]
    return causes


def _fix(causes: list[tuple[str, Finding]], count: int | None, total: float | None) -> str:
    """``fix the write loop at shop.py:17 in rename_all first (40 of 52 statements); ...``."""
    if count is not None:
        causes = sorted(causes, key=lambda cause: -cause[1].count)
        parts = [f"the {name} at {f.callsite} ({f.count} of {count} statements)" for name, f in causes]
        need = "fewer statements"
    else:
        causes = sorted(causes, key=lambda cause: -cause[1].total_duration_ms)
        parts = [
            f"the {name} at {f.callsite} ({f.total_duration_ms:.1f} of {total or 0.0:.1f} ms)"
            for name, f in causes
        ]
        need = "less database time"
    if not parts:
        return f"no loop or duplicate explains it: the unit needs {need} (batch or cache the most frequent)"
    return f"fix {' and '.join(parts[:_NAMED])} first; the unit needs {need}"
