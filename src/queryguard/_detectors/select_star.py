"""``select_star``: a ``*`` over a table's columns in a SELECT's select list, once per statement shape.

Which stars count is the rule of ``_sql/_stars.py``: not those over a subquery, a CTE, a set-returning
function or VALUES (Django's ``INSERT ... SELECT * FROM UNNEST``, its ``SELECT * FROM (...) qualify``), nor
those of a statement that returns no rows to the code (``INSERT ... SELECT *``), nor under EXISTS.
"""

from __future__ import annotations

from .. import _suggest
from .._config import Config
from .._events import Finding
from ._finding import of_group, table_label
from ._index import Index


def find(index: Index, config: Config) -> list[Finding]:
    """A finding per shape whose select list reads a table with ``*``, at its first group not explained."""
    done: set[str] = set()
    found = []
    for group in index.groups.values():
        stmt = group.stmt
        if not stmt.select_star or group.key in index.explained or stmt.fingerprint in done:
            continue
        done.add(stmt.fingerprint)
        fix = _suggest.select_star(group.orm)
        message = f"SELECT * from {table_label(stmt)} at {group.site}; {fix}"
        found.append(of_group(group, "select_star", "info", message, fix))
    return found
