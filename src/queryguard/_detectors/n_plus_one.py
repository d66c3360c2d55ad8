"""``n_plus_one``: one SELECT shape repeated from one place in the program (a loop).

A group (see :mod:`._index`) is one place: one shape, one database, one user-code stack. It is an N+1 when
it ran ``n_plus_one_threshold`` times or more and either

* the ORM named what each statement loaded (a relation, a deferred or expired column): the ORM's word wins
  over parameter equality, so twenty loads of one author by twenty books are an N+1 of ``Book.author``; or
* its statements differ in their values, bound or written into the text,

unless it is a page loop (:func:`is_page_loop`) or fetches in batches (many rows or a long IN list per call).
"""

from __future__ import annotations

import re

from .. import _suggest
from .._config import Config
from .._events import Finding
from .._sql._page import page_of
from ._finding import of_group, table_label
from ._index import Group, Index

#: A keyset page asks for at least this many rows.
PAGE_ROWS = 10


def find(index: Index, config: Config) -> list[Finding]:
    """A finding per group of SELECTs that ran ``n_plus_one_threshold`` times or more, as described above."""
    found = []
    places: dict[tuple[str, str], int] = {}  # (fingerprint, site) -> how many groups: callers then tell apart
    for group in index.groups.values():
        places[group.key] = places.get(group.key, 0) + 1
    for group in index.groups.values():
        if (
            group.stmt.kind == "select"
            and group.stack  # a loop is a place in your code: statements with none are not one
            and group.count >= config.n_plus_one_threshold
            and (group.relation is not None or group.distinct >= 2)
            and not _is_batch(group, config)
        ):
            found.append(_finding(group, index, show_caller=places[group.key] > 1))
    return found


def _is_batch(group: Group, config: Config) -> bool:
    # Pages and batches fetch many rows per call: a loop over them is not an N+1.
    if group.relation is not None:
        return False
    mean = group.mean_rows
    return (
        (mean is not None and mean >= config.batch_rows)
        or group.stmt.in_list_max >= 10
        or is_page_loop(group)
    )


def is_page_loop(group: Group) -> bool:
    """Whether each statement of ``group`` asks for a window of many rows of one ordered result.

    That is a LIMIT above one with an OFFSET that moves from call to call, or (keyset pagination) a LIMIT of
    at least :data:`PAGE_ROWS` with a range condition on a value (``WHERE id > ?``); and, where the driver
    counts rows, more than one row per call. Any other LIMIT caps a query per parent (Django's ``get()``
    guard of 21, ``[:5]`` per author) and ``LIMIT 1`` (``first()``, ``last()``, ``[:1]``) asks for one row:
    such a loop is an N+1, whatever its OFFSET.
    """
    if not group.stmt.has_limit:
        return False
    example = group.example
    limit, offset = page_of(example.sql, example.params, example.vendor)
    if limit is None or limit <= 1:
        return False
    mean = group.mean_rows
    if mean is not None and mean <= 1:
        return False  # asked for many, got one (or none) each time: a lookup per parent
    if limit >= PAGE_ROWS and _RANGE_RE.search(group.stmt.shape):
        return True
    last = group.last
    if last is None or last is example:
        return False
    return page_of(last.sql, last.params, last.vendor)[1] != offset


#: A value compared by range in a shape: the bound a keyset page moves.
_RANGE_RE = re.compile(r"(?:[<>]=?) \?|\? (?:[<>]=?)|BETWEEN \?")


def _finding(group: Group, index: Index, *, show_caller: bool) -> Finding:
    what = group.relation or f"{table_label(group.stmt)} rows"
    fix = _suggest.n_plus_one(group)
    parent = index.parent_site(group)
    caller = group.caller if show_caller else None
    via = f" (called from {caller})" if caller else ""
    where = f"; parent rows loaded at {parent}" if parent else ""
    return of_group(
        group,
        "n_plus_one",
        "warning",
        f"N+1: {what} loaded {group.count} times from {group.site}{via}; {fix}{where}",
        fix,
        parent_callsite=parent,
        details={
            "distinct_params": group.distinct,
            "relation_kind": group.relation_kind,
            "stack": list(group.stack),
        },
    )
