"""``n_plus_one``: one SELECT shape repeated from one call site with other parameters (a loop)."""

from __future__ import annotations

from .. import _suggest
from .._config import Config
from .._events import Finding
from ._finding import of_group, table_label
from ._index import Group, Index


def find(index: Index, config: Config) -> list[Finding]:
    """A finding per group of SELECTs that ran ``n_plus_one_threshold`` times or more with other values."""
    found = []
    for group in index.groups.values():
        if (
            group.stmt.kind == "select"
            and group.count >= config.n_plus_one_threshold
            and group.distinct >= 2
            and not _is_batch(group, config)
        ):
            found.append(_finding(group, index))
    return found


def _is_batch(group: Group, config: Config) -> bool:
    # Pages and batches fetch many rows per call: a loop over them is not an N+1.
    if group.relation is not None:
        return False
    stmt = group.stmt
    mean = group.mean_rows
    return (
        (mean is not None and mean >= config.batch_rows) or stmt.in_list_max >= 10 or "OFFSET" in stmt.shape
    )


def _finding(group: Group, index: Index) -> Finding:
    what = group.relation or f"{table_label(group.stmt)} rows"
    fix = _suggest.n_plus_one(group)
    parent = index.parent_site(group)
    where = f"; parent rows loaded at {parent}" if parent else ""
    return of_group(
        group,
        "n_plus_one",
        "warning",
        f"N+1: {what} loaded {group.count} times from {group.site}; {fix}{where}",
        fix,
        parent_callsite=parent,
        details={"distinct_params": group.distinct, "relation_kind": group.relation_kind},
    )
