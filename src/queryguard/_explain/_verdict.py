"""One verdict per explained statement: the finding that asked for the plan is completed with it.

A slow statement is reported once. When its plan shows smells, its ``slow_query`` finding takes the kind of
the worst one (:data:`ORDER`), keeps its count, time and call site, says how slow it was against the limit,
lists every smell in its message and in ``details["smells"]``, and gives one fix: the one index that serves
the statement's filter and its order together (:func:`._plan.one_index`, checked with HypoPG where it is
installed), then the fixes an index cannot give (a wildcard pattern, a function around a column, stale
statistics, a large OFFSET). A plan with no smell leaves it a ``slow_query`` that says so. The repeated
statement of an N+1 keeps its kind: the smells and the fix are added to it.
"""

from __future__ import annotations

from typing import Any, Final

from .._events import Finding
from .._sql import analyze as analyze_sql
from . import _findings
from ._plan import Smell, one_index, suggests_index

#: Smell kinds, worst first: the kind a slow statement's finding takes is its worst smell's.
ORDER: Final = (
    "unindexed_join",
    "full_scan",
    "function_on_column",
    "sort_spill",
    "temp_sort",
    "misestimate",
    "large_offset",
)
_NO_SMELL: Final = "EXPLAIN shows no missing index; fetch fewer rows or columns, or cache the result"


def complete(ctx: _findings.Context, smells: list[Smell], *, slow_query_ms: float) -> bool:
    """Give ``ctx.parent`` the plan, its smells and the one fix; True when the plan showed a smell."""
    parent, outcome = ctx.parent, ctx.outcome
    parent.plan = outcome.plan
    parent.details = {
        **parent.details,
        "explained": True,
        "analyzed": outcome.analyzed,
        "connection": outcome.connection,
    }
    if not smells:
        if parent.kind == "slow_query" and not outcome.smells:  # (not when every smell's kind is ignored)
            _set_fix(parent, _NO_SMELL)
        return False
    smells = sorted(smells, key=lambda s: ORDER.index(s.kind) if s.kind in ORDER else len(ORDER))
    index = outcome.index if outcome.index is not None else one_index(smells)
    fixes, sql = _fixes(ctx, smells, index)
    fix = "; ".join(fixes)
    found = "; ".join(f"{_findings.LABEL.get(s.kind, s.kind)}: {_findings.describe(ctx, s)}" for s in smells)
    listed = [_smell(ctx, s) for s in smells]
    # The worst smell's own facts (wrapper, pattern_search, ratio, ...) at the top, as a finding of its own.
    details: dict[str, Any] = {**listed[0], "smells": listed}
    for key in ("kind", "table", "columns", "message"):
        del details[key]
    if index is not None:
        details.update(_index_details(index, sql))
    parent.details.update(details)
    parent.suggestion = fix
    target = index or smells[0]
    parent.table, parent.columns = target.table, target.columns
    checked = _findings.checked(index) if index is not None else ""
    if parent.kind == "slow_query":
        parent.kind = smells[0].kind
        parent.message = f"{found} at {parent.callsite}{_slowness(parent, slow_query_ms)}; {fix}{checked}"
    else:
        parent.message = f"{parent.message}; its plan shows {found}: {fix}{checked}"
    return True


def _fixes(ctx: _findings.Context, smells: list[Smell], index: Smell | None) -> tuple[list[str], str | None]:
    """The index's fix first, then each fix of a smell that the index does not serve (each once)."""
    fixes: list[str] = []
    sql = None
    if index is not None:
        fix, sql = _findings.suggestion(ctx, index)
        if any(s.kind == "sort_spill" for s in smells):
            fix += ", or raise work_mem for this statement"
        fixes.append(fix)
    for smell in smells:
        if (
            index is not None
            and suggests_index(smell)
            and (smell.schema, smell.table)
            == (
                index.schema,
                index.table,
            )
        ):
            continue
        fix, _ = _findings.suggestion(ctx, smell)
        if fix and fix not in fixes:
            fixes.append(fix)
    return fixes, sql


def _slowness(parent: Finding, limit_ms: float) -> str:
    event = parent.event
    if event is None or event.duration_ms < limit_ms:
        return ""
    verb = analyze_sql(parent.sql).kind.upper()
    return f" (the {verb} took {event.duration_ms:.1f} ms, limit {limit_ms:g} ms)"


def _smell(ctx: _findings.Context, smell: Smell) -> dict[str, Any]:
    """A smell as data: its kind, table, columns, what the plan shows, and its numbers."""
    extra = {k: v for k, v in smell.details.items() if k != "offset" or ctx.show_params}
    data: dict[str, Any] = {
        "kind": smell.kind,
        "table": smell.table,
        "columns": list(smell.columns),
        "summary": smell.summary,
        "message": f"{_findings.LABEL.get(smell.kind, smell.kind)}: {_findings.describe(ctx, smell)}",
        **extra,
    }
    if smell.rows is not None:
        data["rows"] = round(smell.rows)
    if smell.kept is not None:
        data["kept"] = round(smell.kept)
    return data


def _index_details(index: Smell, sql: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {"index_columns": list(index.columns), "heuristic": True}
    for key in ("cost_before", "cost_after", "heuristic"):
        if key in index.details:
            details[key] = index.details[key]
    if sql:
        details["index_sql"] = sql
    return details


def _set_fix(parent: Finding, new: str) -> None:
    old = parent.suggestion
    parent.suggestion = new
    if old and parent.message.endswith(old):
        parent.message = parent.message[: -len(old)] + new


__all__ = ["ORDER", "complete"]
