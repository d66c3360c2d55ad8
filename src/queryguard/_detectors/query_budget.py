"""``query_budget``: the unit ran more statements, or spent more database time, than it may."""

from __future__ import annotations

from .._config import Config
from .._events import Finding
from .._sql import rough_kind
from ._finding import table_label
from ._index import Index


def find(index: Index, config: Config) -> list[Finding]:
    """A finding per budget exceeded (``max_queries``, ``max_db_time_ms``), naming the most frequent shapes.

    Statements of shapes past the overflow cap are counted and timed too, though not grouped.
    """
    groups = index.groups
    others = [entry for entry in index.others if rough_kind(entry.example.sql) != "transaction"]
    count = sum(g.count for g in groups.values()) + sum(entry.count for entry in others)
    total = sum(g.total_ms for g in groups.values()) + sum(entry.total_ms for entry in others)
    top = sorted(groups.values(), key=lambda g: -g.count)[:3]
    worst = ", ".join(f"{g.count}x {table_label(g.stmt)} from {g.site}" for g in top)
    found = []
    if config.max_queries is not None and count > config.max_queries:
        found.append((f"ran {count} queries (at most {config.max_queries} allowed)", "fewer statements"))
    if config.max_db_time_ms is not None and total > config.max_db_time_ms:
        found.append(
            (f"spent {total:.1f} ms in the database (at most {config.max_db_time_ms:g} ms)", "less time")
        )
    return [
        Finding(
            kind="query_budget",
            severity="error",
            message=f"budget: {what}; most frequent: {worst}",
            count=count,
            total_duration_ms=total,
            callsite=top[0].site if top else "",
            suggestion=f"fix the N+1 and duplicate findings first; the unit needs {need}",
            details={"max_queries": config.max_queries, "max_db_time_ms": config.max_db_time_ms},
        )
        for what, need in found
    ]
