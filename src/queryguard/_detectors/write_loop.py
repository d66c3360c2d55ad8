"""``write_loop``: one single-row INSERT, UPDATE or DELETE repeated from one call site."""

from __future__ import annotations

from .. import _suggest
from .._config import Config
from .._events import Finding
from ._finding import of_group, table_label
from ._index import Index


def find(index: Index, config: Config) -> list[Finding]:
    """A finding per group of single-row writes that ran ``write_loop_threshold`` times or more, one by one
    (an ``executemany`` is a batch already)."""
    found = []
    for group in index.groups.values():
        stmt = group.stmt
        if stmt.is_single_row_write and not group.executemany and group.count >= config.write_loop_threshold:
            verb, table = stmt.kind, table_label(stmt)
            fix = _suggest.write_loop(group.orm, verb, table, group)
            message = (
                f"write loop: {group.count} single-row {verb.upper()}s into {table} from {group.site}; {fix}"
            )
            found.append(of_group(group, "write_loop", "warning", message, fix))
    return found
