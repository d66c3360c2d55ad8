"""Check an index suggestion with a hypothetical index (PostgreSQL's HypoPG extension), when installed.

HypoPG's indexes live in the memory of one backend and are never written: the planner sees them in a
plain EXPLAIN of the same statement on the same connection, which gives the estimated cost before and
after. queryguard never installs the extension; it uses it when the database already has it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._pgexec import execute as _execute
from ._plan import INDEX_KINDS, Smell, suggests_index

__all__ = ["INDEX_KINDS", "create_index", "installed", "suggests_index", "total_cost", "verify"]


def verify(cur: Any, smells: list[Smell], explain: Callable[[], Any]) -> bool | None:
    """Add ``cost_before``/``cost_after`` to each index suggestion; True when HypoPG checked them.

    None when no smell suggests an index; False when HypoPG is not installed (suggestions are heuristic).
    """
    candidates = [smell for smell in smells if suggests_index(smell)]
    if not candidates:
        return None
    if not installed(cur):
        for smell in candidates:
            smell.details["heuristic"] = True
        return False
    before = total_cost(explain())
    for smell in candidates:
        _execute(cur, "SELECT indexrelid FROM hypopg_create_index(%s)", (create_index(smell),))
        oid = cur.fetchone()[0]
        try:
            after = total_cost(explain())
        finally:
            _execute(cur, "SELECT hypopg_drop_index(%s)", (oid,))
        smell.details.update(cost_before=before, cost_after=after, heuristic=False)
    return True


def installed(cur: Any) -> bool:
    """Whether the HypoPG extension is installed in the current database."""
    _execute(cur, "SELECT count(*) FROM pg_extension WHERE extname = %s", ("hypopg",))
    row = cur.fetchone()
    return bool(row and row[0])


def total_cost(plan: Any) -> float | None:
    """The planner's total cost estimate of a JSON plan."""
    root = plan.get("Plan") if isinstance(plan, dict) else None
    cost = root.get("Total Cost") if isinstance(root, dict) else None
    return float(cost) if isinstance(cost, (int, float)) else None


def create_index(smell: Smell) -> str:
    """``CREATE INDEX ON "table" ("a", "b" DESC)`` for the smell's columns (identifiers quoted)."""
    desc = smell.details.get("descending") or ()
    columns = ", ".join(
        _quote(column) + (" DESC" if index < len(desc) and desc[index] else "")
        for index, column in enumerate(smell.columns)
    )
    table = f"{_quote(smell.schema)}.{_quote(smell.table)}" if smell.schema else _quote(smell.table)
    return f"CREATE INDEX ON {table} ({columns})"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
