"""Reading a PostgreSQL JSON plan: the smells of its nodes (full scans, unindexed joins, sorts, misestimates).

Condition texts (``Filter``, ``Join Filter``, ``Sort Key``) are read with :mod:`._lex`; the statement's own
facts and the tables' catalog facts come from :mod:`._plan`.
"""

from __future__ import annotations

from typing import Any

from . import _lex, _plan
from ._plan import Smell, TableInfo


def find_smells(plan: Any, facts: _plan.Facts, info: _plan.InfoLookup, *, analyzed: bool) -> list[Smell]:
    """Every smell of a PostgreSQL JSON plan, worst first within each node, plus a large OFFSET."""
    smells: list[Smell] = []
    root = plan.get("Plan") if isinstance(plan, dict) else None
    if isinstance(root, dict):
        _walk(root, [], facts, info, analyzed, smells)
    first = next((s.table for s in smells), None)
    return smells + _plan.large_offset(facts, first or _first_relation(root))


def _walk(
    node: dict[str, Any],
    parents: list[dict[str, Any]],
    facts: _plan.Facts,
    info: _plan.InfoLookup,
    analyzed: bool,
    out: list[Smell],
) -> None:
    kind = node.get("Node Type")
    if kind == "Seq Scan" and node.get("Relation Name"):
        out.extend(_seq_scan(node, parents, facts, info, analyzed))
    elif kind == "Sort":
        out.extend(_sort(node, parents, facts, info, analyzed))
    elif kind == "Nested Loop":
        out.extend(_nested_loop(node, facts, info))
    if analyzed:
        out.extend(_misestimate(node))
    for child in node.get("Plans") or ():
        if isinstance(child, dict):
            _walk(child, [*parents, node], facts, info, analyzed, out)


def _rows(node: dict[str, Any], analyzed: bool) -> float:
    if analyzed and "Actual Rows" in node:
        return float(node["Actual Rows"]) * float(node.get("Actual Loops") or 1)
    return float(node.get("Plan Rows") or 0)


def _seq_scan(
    node: dict[str, Any],
    parents: list[dict[str, Any]],
    statement: _plan.Facts,
    info: _plan.InfoLookup,
    analyzed: bool,
) -> list[Smell]:
    condition = node.get("Filter")
    if not isinstance(condition, str):
        return []
    table, alias = str(node["Relation Name"]), str(node.get("Alias") or node["Relation Name"])
    refs = [
        r
        for r in _lex.column_refs(_lex.tokenize(condition, vendor="postgresql"))
        if r.qualifier in (None, alias)
    ]
    facts = info(table, node.get("Schema"))
    loop = next((p for p in reversed(parents) if p.get("Node Type") == "Nested Loop"), None)
    joins = _plan.index_columns([r for r in refs if r.other is not None], facts, limit=1)
    if loop is not None and joins and _plan.worth_indexing(facts.rows):
        return [_join_smell(table, joins, node, loop, facts, analyzed)]
    filters = [r for r in refs if r.other is None]
    searched = _plan.pattern_searched(filters, statement)
    filters = [ref for ref in filters if ref.column not in searched]  # no B-tree index serves them
    kept = _rows(node, analyzed)
    removed = float(node.get("Rows Removed by Filter") or 0) * float(node.get("Actual Loops") or 1)
    read = max(facts.rows or 0.0, kept + removed) or None
    found = [_function_smell(table, ref, node, read, kept) for ref in _plan.wrapped_indexed(filters, facts)]
    columns = _plan.index_columns(filters, facts)
    # The planner's estimate for a pattern that starts with a wildcard is a fixed guess, not a measure.
    selective = read is None or kept <= read * 0.1 or (bool(searched) and not columns and not analyzed)
    if (columns or searched) and _plan.worth_indexing(read) and selective and not found:
        smell = _plan.scan_smell(table, columns, searched, f"Seq Scan on {table}", node, facts, read)
        smell.kept = kept
        found.append(smell)
    return found


def _join_smell(
    table: str,
    columns: tuple[str, ...],
    node: dict[str, Any],
    loop: dict[str, Any],
    facts: TableInfo,
    analyzed: bool,
) -> Smell:
    smell = Smell(
        "unindexed_join", table, columns, f"Nested Loop over a Seq Scan on {table}", node, facts.rows
    )
    smell.details["foreign_key"] = columns[0] in facts.foreign_keys
    outer = (loop.get("Plans") or [{}])[0]
    smell.details["loops"] = float(node.get("Actual Loops") or 0) if analyzed else _rows(outer, False)
    return smell


def _function_smell(table: str, ref: _lex.Ref, node: Any, read: float | None, kept: float) -> Smell:
    smell = Smell("function_on_column", table, (ref.column,), f"Seq Scan on {table}", node, read, kept)
    smell.details["wrapper"] = ref.wrapper
    return smell


def _sort(
    node: dict[str, Any],
    parents: list[dict[str, Any]],
    facts: _plan.Facts,
    info: _plan.InfoLookup,
    analyzed: bool,
) -> list[Smell]:
    keys = [k for k in node.get("Sort Key") or () if isinstance(k, str)]
    table = _first_relation(node)
    if not keys or table is None:
        return []
    columns, desc = _sort_columns(keys)
    child = (node.get("Plans") or [node])[0]
    rows = _rows(child if isinstance(child, dict) else node, analyzed)
    if node.get("Sort Space Type") == "Disk":
        smell = Smell("sort_spill", table, columns, f"Sort on {table} spilled to disk", node, rows)
        smell.details.update(
            disk_kb=node.get("Sort Space Used"), method=node.get("Sort Method"), descending=desc
        )
        return [smell]
    limited = any(p.get("Node Type") == "Limit" for p in parents)
    if limited and rows >= _plan.MIN_ROWS and columns and not set(columns) & info(table, None).indexed:
        smell = Smell("temp_sort", table, columns, f"Sort of {rows:,.0f} rows of {table}", node, rows)
        smell.details["descending"] = desc
        return [smell]
    return []


def _sort_columns(keys: list[str]) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    columns: list[str] = []
    desc: list[bool] = []
    for key in keys:
        tokens = _lex.tokenize(key, vendor="postgresql")
        refs = [r for r in _lex.column_refs(tokens) if r.wrapper is None]
        if len(refs) != 1:
            break  # an expression: the index would be an expression index, named in the plan
        columns.append(refs[0].column)
        desc.append(any(t.value == "desc" for t in tokens))
    return tuple(columns), tuple(desc)


def _nested_loop(node: dict[str, Any], facts: _plan.Facts, info: _plan.InfoLookup) -> list[Smell]:
    """A join condition kept on the loop (``Join Filter``) over a full scan of the inner table."""
    condition = node.get("Join Filter")
    inner = next((c for c in node.get("Plans") or () if c.get("Parent Relationship") == "Inner"), None)
    while isinstance(inner, dict) and inner.get("Node Type") in ("Materialize", "Memoize"):
        inner = (inner.get("Plans") or [None])[0]
    if not isinstance(condition, str) or not isinstance(inner, dict) or inner.get("Node Type") != "Seq Scan":
        return []
    table, alias = str(inner["Relation Name"]), str(inner.get("Alias") or inner["Relation Name"])
    refs = [
        r for r in _lex.column_refs(_lex.tokenize(condition, vendor="postgresql")) if r.qualifier == alias
    ]
    table_info = info(table, inner.get("Schema"))
    columns = _plan.index_columns(refs, table_info, limit=1)
    if not columns or not _plan.worth_indexing(table_info.rows):
        return []
    return [_join_smell(table, columns, inner, node, table_info, False)]


def _misestimate(node: dict[str, Any]) -> list[Smell]:
    table = node.get("Relation Name")
    if not table or "Actual Rows" not in node:
        return []
    estimated, actual = float(node.get("Plan Rows") or 0), float(node["Actual Rows"])
    if not _plan.misestimated(estimated, actual):
        return []
    condition = node.get("Filter") or node.get("Index Cond") or ""
    refs = [
        r for r in _lex.column_refs(_lex.tokenize(str(condition), vendor="postgresql")) if r.other is None
    ]
    columns = tuple(dict.fromkeys(r.column for r in refs))
    smell = Smell(
        "misestimate", str(table), columns, f"{node.get('Node Type')} on {table}", node, actual, estimated
    )
    ratio = max(estimated, actual) / max(min(estimated, actual), 1.0)
    smell.details.update(
        estimated=estimated,
        actual=actual,
        ratio=round(ratio, 1),
        expressions=sorted(
            {f"{r.wrapper}({r.column})" for r in refs if r.wrapper and not r.wrapper.startswith("::")}
        ),
    )
    return [smell]


def _first_relation(node: Any) -> str | None:
    if not isinstance(node, dict):
        return None
    if node.get("Relation Name"):
        return str(node["Relation Name"])
    for child in node.get("Plans") or ():
        found = _first_relation(child)
        if found:
            return found
    return None
