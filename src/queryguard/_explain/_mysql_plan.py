"""Reading a MySQL or MariaDB JSON plan: the smells of its tables (full scans, unindexed joins, functions
on indexed columns, filesorts and temporary tables, misestimates of ``ANALYZE``).

Printed conditions (``attached_condition``, ``sort_key``) are read with :mod:`._lex`, the optimizer's
annotations left out.
"""

from __future__ import annotations

import re
from typing import Any, Final

from . import _lex, _plan
from ._plan import Smell, TableInfo


def find_smells(plan: Any, facts: _plan.Facts, info: _plan.InfoLookup, *, analyzed: bool) -> list[Smell]:
    """Every smell of a MySQL/MariaDB JSON plan, plus a large OFFSET."""
    smells: list[Smell] = []
    sorts: list[tuple[str, Any]] = []
    _walk(plan, False, facts, info, analyzed, smells, sorts)
    if sorts:
        smells.extend(_temp(sorts[0], facts, info))
    first = next((s.table for s in smells), None)
    main = next(iter(facts.aliases.values()), (None,))[-1]
    return smells + _plan.large_offset(facts, first or main)


def _walk(
    node: Any,
    inner: bool,
    facts: _plan.Facts,
    info: _plan.InfoLookup,
    analyzed: bool,
    out: list[Smell],
    sorts: list[tuple[str, Any]],
) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, inner, facts, info, analyzed, out, sorts)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "table" and isinstance(value, dict):
            out.extend(_table(value, inner, facts, info, analyzed))
        if key == "nested_loop" and isinstance(value, list):
            for index, item in enumerate(value):
                _walk(item, inner or index > 0, facts, info, analyzed, out, sorts)
            continue
        if key in ("filesort", "temporary_table") or (
            key in ("using_filesort", "using_temporary_table") and value is True
        ):
            sorts.append((key, value))
        _walk(value, inner or key in ("block-nl-join", "bka-join"), facts, info, analyzed, out, sorts)


def _table(
    node: dict[str, Any], inner: bool, facts: _plan.Facts, info: _plan.InfoLookup, analyzed: bool
) -> list[Smell]:
    alias = str(node.get("table_name") or "")
    if not alias or alias.lower() not in facts.aliases:
        return []  # a derived table or subquery result, not a table of the schema
    schema, table = facts.table(alias)
    rows = node.get("rows") or node.get("rows_examined_per_scan")
    rows = float(rows) if isinstance(rows, (int, float)) else None
    found = _misestimate(node, table, rows) if analyzed else []
    if node.get("access_type") in ("ALL", "index"):
        found += _scan(node, alias, schema, table, rows, inner, facts, info(table, schema))
    return found


#: The optimizer's annotations in a printed condition: ``<cache>(...)``, ``<in_optimizer>``,
#: ``<expr_cache><`t`.`a`>(...)``. Comparisons are printed with spaces around ``<`` and ``>``.
_ANNOTATION: Final = re.compile(r"<[^<>\s()']+>")


def _condition_refs(condition: str) -> list[_lex.Ref]:
    """The columns a printed ``attached_condition`` reads (not the optimizer's ``<cache>`` and such)."""
    return _lex.column_refs(_lex.tokenize(_ANNOTATION.sub(" ", condition), vendor="mysql"))


def _scan(
    node: dict[str, Any], alias: str, schema: str | None, table: str, rows: float | None, inner: bool,
    facts: _plan.Facts, table_info: TableInfo,
) -> list[Smell]:  # fmt: skip
    """A full table (or index) scan: a function on an indexed column, an unindexed join, or filter."""
    condition = node.get("attached_condition")
    refs = _condition_refs(condition) if isinstance(condition, str) else []
    refs = [r for r in refs if facts.mine(r.qualifier, alias)] or facts.filters(alias)
    filters = [r for r in refs if r.other is None]
    summary = f"type={node.get('access_type')} on {table}"
    searched = _plan.pattern_searched(filters, facts)
    filters = [ref for ref in filters if ref.column not in searched]  # no B-tree index serves them
    wrapped = _plan.wrapped_indexed(filters, table_info)
    if wrapped or not _plan.worth_indexing(rows):
        return [_function(ref, table, summary, node, rows, schema) for ref in wrapped]
    joined = [r for r in refs if r.other is not None] or facts.joins(alias)
    joins = _plan.index_columns(joined, table_info, limit=1)
    columns = _plan.index_columns(filters, table_info)
    if inner and joins:
        smell = Smell("unindexed_join", table, joins, f"{summary} inside a join", node, rows, schema=schema)
        smell.details["foreign_key"] = joins[0] in table_info.foreign_keys
        return [smell]
    if columns or searched:
        return [_plan.scan_smell(table, columns, searched, summary, node, table_info, rows, schema=schema)]
    return []


def _function(ref: Any, table: str, summary: str, node: Any, rows: float | None, schema: str | None) -> Smell:
    smell = Smell("function_on_column", table, (ref.column,), summary, node, rows, schema=schema)
    smell.details["wrapper"] = ref.wrapper
    return smell


def _misestimate(node: dict[str, Any], table: str, rows: float | None) -> list[Smell]:
    actual = node.get("r_rows")
    if rows is None or not isinstance(actual, (int, float)):
        return []
    if not _plan.misestimated(rows, float(actual)):
        return []
    ratio = max(rows, actual) / max(min(rows, actual), 1.0)
    smell = Smell(
        "misestimate", table, (), f"type={node.get('access_type')} on {table}", node, float(actual), rows
    )
    smell.details.update(estimated=rows, actual=actual, ratio=round(ratio, 1))
    return [smell]


def _temp(found: tuple[str, Any], facts: _plan.Facts, info: _plan.InfoLookup) -> list[Smell]:
    key, value = found
    listed = facts.order or facts.group
    sort_key = value.get("sort_key") if isinstance(value, dict) else None
    if isinstance(sort_key, str):
        tokens = _lex.tokenize(sort_key, vendor="mysql")
        refs = [r for r in _lex.column_refs(tokens) if r.wrapper is None]
        listed = [(r.qualifier, r.column, "desc" in sort_key.lower()) for r in refs] or listed
    names = {q for q, _, _ in listed}
    owner = next(iter(names)) if len(names) == 1 else None
    tables = {parts[-1] for parts in facts.aliases.values()}
    name = owner or (next(iter(tables)) if len(tables) == 1 else None)
    if not listed or name is None:
        return []
    schema, table = facts.table(name)
    if not _plan.worth_indexing(info(table, schema).rows):
        return []
    what = "Using filesort" if "filesort" in key else "Using temporary"
    smell = Smell(
        "temp_sort", table, tuple(c for _, c, _ in listed)[:3], f"{what} on {table}", value, schema=schema
    )
    smell.details["descending"] = tuple(d for _, _, d in listed)[:3]
    return [smell]
