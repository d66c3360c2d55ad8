"""Plan smells in words: what the plan shows, on which table and columns, and the fix in the framework's."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Final

from .._events import Finding
from .._sql import analyze as analyze_sql
from . import _fixes
from ._hypopg import INDEX_KINDS, suggests_index
from ._plan import LARGE_OFFSET, Outcome, Smell

#: ``model_fields(table, columns) -> (model name, field names) | None``, offered by an ORM's source.
ModelNamer = Callable[[str, Sequence[str]], "tuple[str, Sequence[str]] | None"]
LABEL: Final = {
    "full_scan": "full scan",
    "unindexed_join": "unindexed join",
    "function_on_column": "function on column",
    "sort_spill": "sort spill",
    "temp_sort": "temp sort",
    "misestimate": "misestimate",
    "large_offset": "large offset",
}


@dataclasses.dataclass
class Context:
    """What every finding of one plan shares: the finding that asked for it, the plan, the ORM."""

    parent: Finding
    outcome: Outcome
    orm: str | None
    show_params: bool
    namer: ModelNamer | None = None

    def target(self, smell: Smell) -> _fixes.Target:
        """The smell's table and columns, with the model and field names when the source knows them."""
        model: str | None = None
        fields: tuple[str, ...] = ()
        if self.namer is not None and smell.columns:
            try:
                named = self.namer(smell.table, smell.columns)
            except Exception:  # an ORM's registry must not break the report
                named = None
            if named is not None:
                model, fields = named[0], tuple(named[1])
        descending = tuple(smell.details.get("descending") or ())
        return _fixes.Target(
            self.outcome.vendor, self.orm, smell.table, smell.columns, model, fields, descending
        )


def _about(rows: float | None) -> str:
    return "?" if rows is None else f"~{round(rows):,}"


def describe(ctx: Context, smell: Smell) -> str:
    """What the plan shows, in words, with the measured numbers and no parameter values."""
    words = _DESCRIBE.get(smell.kind)
    return words(ctx, smell, ", ".join(smell.columns) or "?") if words else smell.summary


def _full_scan(ctx: Context, smell: Smell, columns: str) -> str:
    kept = f" to keep {_about(smell.kept)}" if smell.kept is not None else ""
    if smell.details.get("pattern_search"):
        return f"{smell.summary} reads {_about(smell.rows)} rows{kept}, matching {columns} with LIKE '%...'"
    fks = smell.details.get("foreign_keys") or ()
    fk = f" ({', '.join(fks)}: a foreign key without an index)" if fks else ""
    return f"{smell.summary} reads {_about(smell.rows)} rows{kept}, filtering on {columns} with no index{fk}"


def _unindexed_join(ctx: Context, smell: Smell, columns: str) -> str:
    fk = " (a foreign key without an index)" if smell.details.get("foreign_key") else ", which has no index"
    loops = smell.details.get("loops")
    if loops:
        reads = f"reading {_about(smell.rows)} rows for each of {_about(loops)} outer rows"
    else:
        reads = f"reading all {_about(smell.rows)} rows of {smell.table}"
    return f"{smell.summary} joins on {smell.table}.{columns}{fk}, {reads}"


def _function_on_column(ctx: Context, smell: Smell, columns: str) -> str:
    wrapped = _wrapped(str(smell.details.get("wrapper") or ""), smell.columns[0])
    where = f"in the filter on {smell.table} keeps the index on {columns} from being used"
    return f"{wrapped} {where} ({smell.summary})"


def _sort_spill(ctx: Context, smell: Smell, columns: str) -> str:
    return (
        f"{smell.summary} ({smell.details.get('disk_kb')} kB) sorting {_about(smell.rows)} rows by {columns}"
    )


def _temp_sort(ctx: Context, smell: Smell, columns: str) -> str:
    # The index leads with the equality filters when there are some: they are not what the sort orders by.
    ordering = tuple(smell.details.get("ordering") or smell.columns)
    filters = [column for column in smell.columns if column not in ordering]
    after = f" after filtering on {', '.join(filters)}" if filters else ""
    return f"{smell.summary}, ordering by {', '.join(ordering) or '?'}{after}"


def _misestimate(ctx: Context, smell: Smell, columns: str) -> str:
    rows = f"expected {_about(smell.kept)} rows and got {_about(smell.rows)}"
    return f"{smell.summary}: the planner {rows} ({smell.details.get('ratio')}x off), filtering on {columns}"


def _large_offset(ctx: Context, smell: Smell, columns: str) -> str:
    skipped = f"{smell.details['offset']:,}" if ctx.show_params else f"at least {LARGE_OFFSET:,}"
    verb = analyze_sql(ctx.parent.sql).kind.upper()
    return f"the {verb} on {smell.table} skips {skipped} rows with OFFSET"


_DESCRIBE: Final[dict[str, Callable[[Context, Smell, str], str]]] = {
    "full_scan": _full_scan,
    "unindexed_join": _unindexed_join,
    "function_on_column": _function_on_column,
    "sort_spill": _sort_spill,
    "temp_sort": _temp_sort,
    "misestimate": _misestimate,
    "large_offset": _large_offset,
}


def _wrapped(wrapper: str, column: str) -> str:
    if wrapper.startswith("::"):
        return f"a cast {column}{wrapper}"
    if wrapper == "cast":
        return f"CAST({column} AS ...)"
    return f"{wrapper}({column})" if wrapper else column


def checked(smell: Smell) -> str:
    """How sure the index suggestion is: verified with a hypothetical index, or a heuristic."""
    before, after = smell.details.get("cost_before"), smell.details.get("cost_after")
    if before is not None and after is not None:
        verdict = "verified" if after < before else "not used by the planner"
        return f" (HypoPG {verdict}: estimated cost {before:,.0f} -> {after:,.0f})"
    if suggests_index(smell):
        return " (heuristic: not verified with a hypothetical index)"
    return ""


def suggestion(ctx: Context, smell: Smell) -> tuple[str, str | None]:
    """The fix in the framework's words, and the SQL of the index when there is one."""
    target = ctx.target(smell)
    if smell.details.get("pattern_search"):
        return _fixes.pattern_search(target), None
    if smell.kind in INDEX_KINDS:
        fix, sql = _fixes.index(target)
        return (fix + ", or raise work_mem for this statement" if smell.kind == "sort_spill" else fix), sql
    if smell.kind == "function_on_column":
        return _fixes.unwrap(target, str(smell.details.get("wrapper") or "")), None
    if smell.kind == "misestimate":
        return _fixes.statistics(target, list(smell.details.get("expressions") or ())), None
    if smell.kind == "large_offset":
        return _fixes.keyset(target), None
    return "", None


__all__ = ["LABEL", "Context", "ModelNamer", "checked", "describe", "suggestion"]
