"""The detectors in the order they run, and which kinds explain which.

A statement is reported once, under the kind that explains it best: a loop of 100 ``SELECT *`` lookups is
an ``n_plus_one``, not also 100 ``select_star`` and ``duplicate_query`` findings. A row's ``explains``
names the kinds that then leave the statements of its findings out; they run after it.

Adding a kind: a module with ``find(index, config) -> list[Finding]``, a row here, its tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from .._config import Config
from .._events import Finding
from . import (
    blocking_query,
    duplicate_query,
    n_plus_one,
    query_budget,
    select_star,
    sequential_awaits,
    slow_query,
    unused_eager_load,
    write_loop,
)
from ._index import Index


@dataclasses.dataclass(frozen=True)
class Detector:
    """One finding kind: the function that finds it, and the kinds its findings explain better."""

    kind: str
    find: Callable[[Index, Config], list[Finding]]
    explains: frozenset[str] = frozenset()


#: What a loop explains: each statement of it is no duplicate, no separate SELECT * or slow statement, and
#: no statement to run concurrently with the others (its parameters come from the rows it walks).
_LOOP_EXPLAINS = frozenset({"duplicate_query", "select_star", "slow_query", "sequential_awaits"})

DETECTORS: tuple[Detector, ...] = (
    Detector("n_plus_one", n_plus_one.find, explains=_LOOP_EXPLAINS),
    Detector("write_loop", write_loop.find, explains=_LOOP_EXPLAINS),
    Detector("duplicate_query", duplicate_query.find),
    Detector("select_star", select_star.find),
    Detector("slow_query", slow_query.find),
    Detector("query_budget", query_budget.find),
    Detector("blocking_query", blocking_query.find),
    Detector("sequential_awaits", sequential_awaits.find),
    Detector("unused_eager_load", unused_eager_load.find),
)


def run(index: Index, config: Config, detectors: Sequence[Detector] = DETECTORS) -> list[Finding]:
    """The findings of every detector in order; each sees in ``index.explained`` the statements (fingerprint,
    call site) that an earlier kind's findings explain for it."""
    views: dict[str, Index] = {}  # kind -> the index as its detector sees it, when not ``index`` itself
    findings: list[Finding] = []
    for detector in detectors:
        found = detector.find(views.get(detector.kind, index), config)
        findings += found
        if detector.explains and found:
            statements = frozenset((f.fingerprint, f.callsite) for f in found)
            made: dict[int, Index] = {}  # kinds that saw the same index share the next one
            for kind in detector.explains:
                before = views.get(kind, index)
                after = made.get(id(before))
                if after is None:
                    after = made[id(before)] = dataclasses.replace(
                        before, explained=before.explained | statements
                    )
                views[kind] = after
    return findings
