"""The fix for each plan smell, in the words of the framework that ran the statement.

Django gets ``models.Index(fields=[...], name=...)`` (or ``db_index=True``), SQLAlchemy ``Index(...)`` in the
mapped class's ``__table_args__`` (or ``mapped_column(..., index=True)``), anything else (a table no class
maps, raw SQL) the SQL: ``CREATE INDEX CONCURRENTLY`` on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from typing import Final

_DJANGO_FUNCTIONS: Final = {
    "lower": "Lower",
    "upper": "Upper",
    "lcase": "Lower",
    "ucase": "Upper",
    "trim": "Trim",
    "length": "Length",
    "abs": "Abs",
}
_NUMERIC: Final = frozenset(("numeric", "decimal", "double", "real", "float"))


@dataclasses.dataclass(frozen=True)
class Target:
    """The table and columns a fix is about, as the database and (when known) the ORM name them."""

    vendor: str
    orm: str | None
    table: str
    columns: tuple[str, ...]
    model: str | None = None
    fields: tuple[str, ...] = ()
    descending: tuple[bool, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Field names when the ORM told them, else column names."""
        return self.fields if len(self.fields) == len(self.columns) else self.columns

    def desc(self, index: int) -> bool:
        """Whether the index should sort column ``index`` descending."""
        return index < len(self.descending) and self.descending[index]

    @property
    def meta(self) -> str:
        """Where a Django index goes."""
        return (
            f"{self.model}.Meta.indexes"
            if self.model
            else f'the Meta.indexes of the model of table "{self.table}"'
        )

    def attribute(self, name: str) -> str:
        """A SQLAlchemy column expression: ``Book.title`` or ``book.c.title``."""
        return f"{self.model}.{name}" if self.model else f"{self.table}.c.{name}"


def index_name(table: str, columns: tuple[str, ...] | list[str], *, prefix: str = "", limit: int = 30) -> str:
    """A valid index name from the table and columns: ``book_title_idx`` (30 characters at most: Django's
    limit), or ``<prefix>book_title`` (``ix_``, ``stx_``)."""
    base = prefix + "_".join([table, *columns]).replace('"', "").replace(".", "_")
    if not base[:1].isalpha():
        base = "ix_" + base
    return base[:limit].rstrip("_") if prefix else base[: limit - 4].rstrip("_") + "_idx"


def index(target: Target) -> tuple[str, str]:
    """The index to add, in the framework's words, and its SQL."""
    concurrently = " CONCURRENTLY" if target.vendor == "postgresql" else ""
    listed = ", ".join(c + (" DESC" if target.desc(i) else "") for i, c in enumerate(target.columns))
    name = index_name(target.table, target.columns)
    sql = f"CREATE INDEX{concurrently} {name} ON {target.table} ({listed});"
    single = len(target.columns) == 1 and not target.desc(0)
    if target.orm == "django":
        fields = ", ".join(f'"{"-" if target.desc(i) else ""}{f}"' for i, f in enumerate(target.names))
        fix = f'add models.Index(fields=[{fields}], name="{name}") to {target.meta}'
        if single:
            owner = f"{target.model}.{target.names[0]}" if target.model else f"the {target.names[0]} field"
            fix += f" (or db_index=True on {owner})"
        return fix, sql
    if target.orm == "sqlalchemy" and target.model:
        parts = ", ".join(
            target.attribute(f) + (".desc()" if target.desc(i) else "") for i, f in enumerate(target.names)
        )
        ix = index_name(target.table, target.columns, prefix="ix_", limit=63)
        fix = f'add Index("{ix}", {parts}) to {target.model}.__table_args__'
        if single:
            fix += f" (or mapped_column(..., index=True) on {target.attribute(target.names[0])})"
        return fix, sql
    return f"add an index: {sql}", sql


def unwrap(target: Target, wrapper: str) -> str:
    """The fix for a function or cast around an indexed column in a filter."""
    column = target.columns[0]
    if wrapper.startswith("::") or wrapper == "cast":
        hint = " (an int, not a Decimal or a float)" if wrapper[2:] in _NUMERIC else ""
        return (
            f"compare {column} with a value of its own type{hint}, so that the value is converted "
            f"instead of every row's {column} and its index is used"
        )
    name = index_name(target.table, [wrapper, column])
    field = target.names[0]
    lead = "filter on the column as stored, or index the expression: "
    if target.orm == "django":
        known = _DJANGO_FUNCTIONS.get(wrapper)
        expr = f'{known}("{field}")' if known else f'Func(F("{field}"), function="{wrapper.upper()}")'
        return f'{lead}add models.Index({expr}, name="{name}") to {target.meta}'
    if target.orm == "sqlalchemy" and target.model:
        ix = index_name(target.table, [wrapper, column], prefix="ix_", limit=63)
        return f'{lead}Index("{ix}", func.{wrapper}({target.attribute(field)}))'
    return f"{lead}CREATE INDEX {name} ON {target.table} (({wrapper}({column})));"


def pattern_search(target: Target) -> str:
    """The fix for LIKE with a pattern that starts with a wildcard: no B-tree index can serve it."""
    field = target.names[0]
    lead = f"no B-tree index serves a pattern that starts with a wildcard: search {field} by prefix"
    if target.orm == "django":
        lead += " (startswith/istartswith, with an index)"
    if target.vendor == "postgresql":
        name = index_name(target.table, [field, "trgm"])
        if target.orm == "django":
            return (
                f'{lead}, or add GinIndex(fields=["{field}"], name="{name}", opclasses=["gin_trgm_ops"]) '
                f"to {target.meta} (django.contrib.postgres, with TrigramExtension() in a migration)"
            )
        if target.orm == "sqlalchemy" and target.model:
            ix = index_name(target.table, [field, "trgm"], prefix="ix_", limit=63)
            return (
                f'{lead}, or add Index("{ix}", {target.attribute(field)}, postgresql_using="gin", '
                f'postgresql_ops={{"{field}": "gin_trgm_ops"}}) to {target.model}.__table_args__ '
                "(with CREATE EXTENSION pg_trgm in a migration)"
            )
        column = target.columns[0]
        return f"{lead}, or CREATE INDEX {name} ON {target.table} USING gin ({column} gin_trgm_ops) (pg_trgm)"
    search = "a FULLTEXT index and MATCH ... AGAINST" if target.vendor == "mysql" else "an FTS5 table"
    return f"{lead}, or use full-text search ({search})"


def statistics(target: Target, expressions: list[str]) -> str:
    """The fix for a row estimate far from the actual rows: fresh statistics, extended where it helps."""
    table = target.table
    if target.vendor == "mysql":
        return (
            f"refresh the statistics: ANALYZE TABLE {table} PERSISTENT FOR ALL (MySQL: ANALYZE TABLE {table})"
        )
    fix = f"refresh the statistics: ANALYZE {table}"
    name = index_name(table, target.columns, prefix="stx_", limit=63)
    if expressions:
        targets = ", ".join(f"({e})" for e in expressions)
        return (
            f"{fix}; the planner guesses for expressions: CREATE STATISTICS {name} ON {targets} FROM {table}"
        )
    if len(target.columns) >= 2:
        columns = ", ".join(target.columns)
        create = f"CREATE STATISTICS {name} (dependencies) ON {columns} FROM {table}"
        fix += f"; if {columns} are correlated: {create}"
    return fix


def keyset(target: Target) -> str:
    """The fix for a large OFFSET: continue after the last key seen instead of counting rows again."""
    key = target.names[0] if target.names else "id"
    if target.orm == "django":
        return (
            f'paginate by key instead of OFFSET: .filter({key}__gt=last_{key}).order_by("{key}")[:page_size]'
        )
    if target.orm == "sqlalchemy" and target.model:
        attr = target.attribute(key)
        return f"paginate by key instead of OFFSET: .where({attr} > last_{key}).order_by({attr}).limit(n)"
    return f"paginate by key instead of OFFSET: WHERE {key} > :last_{key} ORDER BY {key} LIMIT :page_size"
