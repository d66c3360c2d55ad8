"""``unused_eager_load``: an eager load whose objects no code read during the unit.

An ORM adapter logs each eager load (``select_related``, ``prefetch_related``, ``joinedload``,
``selectinload``...) with the user's line that asked for it and the rows it loaded, and marks it used when
any code reads the relation on any of those rows (see :mod:`queryguard._eager`). A path read on only some
rows is used. A load of no parent rows is no finding (it cost nothing). Of a nested path, the shortest
unused step is reported: ``author__publisher`` with ``author`` read and ``publisher`` not names
``publisher``; with neither read it names ``author``, whose removal drops both.

Loads of one path from one line (a queryset evaluated in a loop) are one finding, used if any was.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .. import _callsite, _suggest
from .._config import Config
from .._eager import EagerLoad
from .._events import Finding
from ._index import Index


@dataclasses.dataclass(frozen=True)
class EagerIndex(Index):
    """The index with the unit's eager loads (until :class:`Index` has a field for them)."""

    eager_loads: tuple[EagerLoad, ...] = ()


def with_loads(index: Index, loads: list[EagerLoad]) -> Index:
    """``index`` with ``loads`` for this detector to read."""
    fields = {field.name: getattr(index, field.name) for field in dataclasses.fields(index)}
    return EagerIndex(**{**fields, "eager_loads": tuple(loads)})


def _reported(load: EagerLoad) -> bool:
    if load.used or load.rows <= 0:
        return False
    parent = load.parent
    return parent is None or parent.used


def find(index: Index, config: Config) -> list[Finding]:
    """A finding per (method, path, line) whose loads no code read, in the order they ran."""
    loads: tuple[EagerLoad, ...] = getattr(index, "eager_loads", ())
    groups: dict[tuple[Any, ...], list[EagerLoad]] = {}
    for load in loads:
        site = _callsite.describe(load.site, config.callsite_ignore)
        groups.setdefault((load.orm, load.method, load.path, load.relation, site), []).append(load)
    found = []
    for (orm, method, path, relation, site), members in groups.items():
        if any(load.used for load in members) or not any(map(_reported, members)):
            continue
        rows = sum(load.rows for load in members if _reported(load))
        found.append(_finding(orm, method, path, relation, site, rows, members))
    return found


def _finding(
    orm: str, method: str, path: str, relation: str, site: str, rows: int, members: list[EagerLoad]
) -> Finding:
    asked = f'{method}("{path}")' if orm == "django" else f"{method}({path})"
    if method == "lazy=":
        asked = f"{relation} (lazy= on its relationship)"
    where = f" at {site}" if site else ""
    fix = _suggest.unused_eager_load(orm, method, path, relation)
    noun = "row" if rows == 1 else "rows"
    message = f"{asked}{where} loaded {relation} for {rows} {noun}, and no code read it; {fix}"
    return Finding(
        kind="unused_eager_load",
        severity="info",
        message=message,
        count=len(members),
        fingerprint=f"eager:{orm}:{method}:{members[0].root}:{path}",
        callsite=site,
        relation=relation,
        suggestion=fix,
        vendor="",
        details={"method": method, "path": path, "rows": rows, "root": members[0].root},
    )
