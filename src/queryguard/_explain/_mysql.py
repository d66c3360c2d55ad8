"""MySQL and MariaDB (PyMySQL, mysqlclient): ``EXPLAIN FORMAT=JSON`` and its smells.

A write is never analysed. Every EXPLAIN runs inside a transaction of its own that is always rolled back
(``START TRANSACTION READ ONLY`` for a SELECT; MariaDB refuses to explain a write in one), except inside
the user's open transaction (a ``START TRANSACTION`` would commit it): there a savepoint, rolled back.
MariaDB's EXPLAIN runs the stored functions and sequences it meets, so the safety check (only built-in
functions) is the wall that matters; :func:`_prove` extends it to the views a statement reads. MariaDB's
``ANALYZE FORMAT=JSON`` of a proven read-only SELECT runs only on a new connection. MariaDB bounds the
EXPLAIN with ``SET STATEMENT max_statement_time=..., lock_wait_timeout=... FOR``; MySQL with session
variables that are put back afterwards.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any, Final

from . import _lex, _plan, _safety
from ._plan import Outcome, Request, Smell, TableInfo
from ._safety import Refused

VENDOR: Final = "mysql"
_SAVEPOINT: Final = "queryguard_explain"
_IN_TRANS: Final = 1  # SERVER_STATUS_IN_TRANS
_TABLE_SQL: Final = """
SELECT 'i', COLUMN_NAME FROM information_schema.STATISTICS
 WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s AND SEQ_IN_INDEX = 1
UNION ALL SELECT 'f', COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
 WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s
   AND REFERENCED_TABLE_NAME IS NOT NULL AND ORDINAL_POSITION = 1
UNION ALL SELECT 'r', CAST(TABLE_ROWS AS CHAR) FROM information_schema.TABLES
 WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s
"""
_VIEW_SQL: Final = """
SELECT VIEW_DEFINITION FROM information_schema.VIEWS
 WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s
"""
_VIEW_DEPTH: Final = 8
_MYSQL_LIMITS: Final = ("max_execution_time", "lock_wait_timeout", "innodb_lock_wait_timeout")


def run(conn: Any, req: Request) -> Outcome:
    """Explain ``req.sql`` on ``conn`` and find the smells of its plan; the connection's state is kept."""
    mariadb = _is_mariadb(conn)
    analyze = req.analyze and mariadb and not req.session
    with _scope(conn, req, mariadb=mariadb) as cur:
        _prove(cur, req.facts.aliases.values())
        prefix = "ANALYZE FORMAT=JSON " if analyze else "EXPLAIN FORMAT=JSON "
        if mariadb:
            seconds = max(int(req.timeout_ms) // 2000, 1)  # lock waits end first, and say so
            prefix = (
                f"SET STATEMENT max_statement_time={req.timeout_ms / 1000.0:g}, lock_wait_timeout={seconds}, "
                f"innodb_lock_wait_timeout={seconds} FOR {prefix}"
            )
        cur.execute(prefix + req.sql, req.params)
        plan = json.loads(cur.fetchone()[0])
        infos: dict[str, TableInfo] = {}

        def info(table: str, schema: str | None) -> TableInfo:
            key = f"{schema}.{table}"
            if key not in infos:
                infos[key] = _table_info(cur, table, schema)
            return infos[key]

        smells = find_smells(plan, req.facts, info, analyzed=analyze)
    return Outcome("mysql", plan, analyze, smells, "session" if req.session else "new")


def _is_mariadb(conn: Any) -> bool:
    server = getattr(conn, "get_server_info", None)
    version = server() if callable(server) else ""
    if isinstance(version, bytes):
        version = version.decode(errors="replace")
    return "mariadb" in str(version).lower()


def _in_transaction(conn: Any, cur: Any, mariadb: bool) -> bool | None:
    if mariadb:  # PyMySQL's server_status misses the transaction a SELECT opens
        cur.execute("SELECT @@in_transaction")
        return bool(cur.fetchone()[0])
    status = getattr(conn, "server_status", None)
    return bool(status & _IN_TRANS) if isinstance(status, int) else None


@contextlib.contextmanager
def _scope(conn: Any, req: Request, *, mariadb: bool) -> Iterator[Any]:
    cur = conn.cursor()
    before = _in_transaction(conn, cur, mariadb) if req.session else False
    saved: list[Any] | None = None
    try:
        if req.session and before:
            cur.execute(f"SAVEPOINT {_SAVEPOINT}")  # START TRANSACTION would commit the user's transaction
        else:  # MariaDB refuses to EXPLAIN a write inside a read-only transaction
            cur.execute("START TRANSACTION READ ONLY" if _safety.is_select(req.sql) else "START TRANSACTION")
        try:
            if not mariadb:
                saved = _limit_session(cur, req.timeout_ms)
            yield cur
        finally:
            if saved is not None:
                cur.execute(
                    "SET SESSION max_execution_time = %s, lock_wait_timeout = %s, "
                    "innodb_lock_wait_timeout = %s",
                    saved,
                )
            if req.session and before:
                cur.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
                cur.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
            else:
                conn.rollback()  # the read-only transaction of our own
    finally:
        cur.close()


def _prove(cur: Any, tables: Iterable[tuple[str, ...]], depth: int = 0) -> None:
    """Refuse a statement that reads a view whose definition the safety check would refuse.

    MariaDB's EXPLAIN evaluates a view's stored functions and sequences as it would the statement's own.
    """
    for parts in tables:
        cur.execute(_VIEW_SQL, (parts[-2] if len(parts) > 1 else None, parts[-1]))
        row = cur.fetchone()
        if row is None:
            continue
        definition = row[0].decode() if isinstance(row[0], bytes) else str(row[0])
        if depth >= _VIEW_DEPTH:
            raise Refused(f"not explained: reads views nested more than {_VIEW_DEPTH} deep")
        try:
            _safety.check(definition, VENDOR)
        except Refused as exc:
            raise Refused(f"{exc} (in the view {parts[-1]})") from None
        _prove(cur, _lex.aliases(_lex.tokenize(definition, vendor=VENDOR)).values(), depth + 1)


def _limit_session(cur: Any, timeout_ms: int) -> list[Any]:
    cur.execute("SELECT " + ", ".join(f"@@SESSION.{name}" for name in _MYSQL_LIMITS))
    saved = list(cur.fetchone())
    seconds = max(int(timeout_ms) // 2000, 1)
    cur.execute(
        "SET SESSION max_execution_time = %s, lock_wait_timeout = %s, innodb_lock_wait_timeout = %s",
        (int(timeout_ms), seconds, seconds),
    )
    return saved


def _table_info(cur: Any, table: str, schema: str | None) -> TableInfo:
    cur.execute(_TABLE_SQL, (schema, table) * 3)
    indexed, fks, rows = set(), set(), None
    for tag, value in cur.fetchall():
        tag = tag.decode() if isinstance(tag, bytes) else tag
        value = value.decode() if isinstance(value, bytes) else value
        if tag == "i":
            indexed.add(value)
        elif tag == "f":
            fks.add(value)
        elif value is not None:
            rows = float(value)
    return TableInfo(rows, frozenset(indexed), frozenset(fks))


# -- smells ---------------------------------------------------------------------------------------------


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
