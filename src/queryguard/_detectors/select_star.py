"""``select_star``: a ``*`` in a select list, once per statement shape."""

from __future__ import annotations

from .. import _suggest
from .._config import Config
from .._events import Finding
from ._finding import of_group, table_label
from ._index import Index


def find(index: Index, config: Config) -> list[Finding]:
    """A finding per shape with ``*`` in its select list, at the first call site not explained otherwise."""
    done: set[str] = set()
    found = []
    for key, group in index.groups.items():
        stmt = group.stmt
        if not stmt.select_star or key in index.explained or stmt.fingerprint in done:
            continue
        done.add(stmt.fingerprint)
        fix = _suggest.select_star(group.orm)
        message = f"SELECT * from {table_label(stmt)} at {group.site}; {fix}"
        found.append(of_group(group, "select_star", "info", message, fix))
    return found
