"""``write_loop``: one single-row INSERT, UPDATE or DELETE repeated from one call site."""

from __future__ import annotations

from .. import _suggest
from .._config import Config
from .._events import Finding
from .._plural import plural
from ._finding import of_group, table_label
from ._index import Index


def find(index: Index, config: Config) -> list[Finding]:
    """A finding per group of single-row writes that ran ``write_loop_threshold`` times or more, one by one.

    An ``executemany`` is a batch already; so is one ORM call that chose to send its rows one at a time (a
    SQLAlchemy flush on SQLite reads each new row's key back): the user's code made one call.
    """
    found = []
    for group in index.groups.values():
        stmt = group.stmt
        if (
            stmt.is_single_row_write
            and group.stack  # a loop is a place in your code: statements with none are not one
            and not group.executemany
            and not group.one_orm_call
            and group.count >= config.write_loop_threshold
        ):
            verb, table = stmt.kind, table_label(stmt)
            fix = _suggest.write_loop(group.orm, verb, table, group)
            writes = plural(group.count, f"single-row {verb.upper()}")
            message = f"write loop: {writes} into {table} from {group.site}; {fix}"
            found.append(of_group(group, "write_loop", "warning", message, fix))
    return found
