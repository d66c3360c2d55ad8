"""The index of a unit that every detector reads: its statements grouped once per shape, database and stack.

A group is one place in the program: the statements of one shape, sent to one database, by one user-code
stack (each user frame's line and the columns of the call it runs, innermost first, up to the unit's entry
or eight frames), in one request (two requests of one test are two places, whatever their stacks).
The same line inside a loop is one group; a helper called from two callers, or from two lines, is two, and
so are two calls written on one line.

Built once per unit (:func:`build`): the stored statements are gathered per SQL text and raw call site, so
a shape is analysed and a call site described once per run of a loop, and a run's totals are summed in C.
"""

from __future__ import annotations

import dataclasses
import operator
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .. import _callsite
from .._config import Config
from .._events import QueryEvent
from .._sql import Statement, analyze, params_keys

if TYPE_CHECKING:
    from .._capture import Overflow

_DURATION = operator.attrgetter("duration_ms")
_EXECUTEMANY = operator.attrgetter("executemany")
_ROWCOUNT = operator.attrgetter("rowcount")
_PARAMS = operator.attrgetter("params")
_BATCH = operator.attrgetter("batch")
_NOT_NEGATIVE = (-1).__lt__  # for row counts: -1 means unknown
#: How far back, in stored statements, the SELECT that loaded a loop's parent rows is looked for.
_PARENT_WINDOW = 200


@dataclasses.dataclass
class Group:
    """Every statement of one shape, on one database, from one user-code stack."""

    stmt: Statement
    #: the innermost call site outside ``callsite_ignore``: where a finding points
    site: str
    example: QueryEvent
    first_index: int | None
    #: the user-code stack, innermost first (``site`` is one of its entries)
    stack: tuple[str, ...] = ()
    #: the last statement of the group (with ``example``, what a page loop changes from call to call)
    last: QueryEvent | None = None
    #: the ORM batches (one flush each) its statements were sent in; None: one not sent by such a batch
    batches: set[int | None] = dataclasses.field(default_factory=set)
    count: int = 0
    total_ms: float = 0.0
    rows: int = 0
    rows_known: int = 0
    params: Counter[Any] = dataclasses.field(default_factory=Counter)
    #: hashes of the distinct SQL texts (literal SQL: other values, other texts)
    texts: set[int] = dataclasses.field(default_factory=set)
    executemany: bool = False
    orm: str | None = None
    relation: str | None = None
    relation_kind: str | None = None
    relation_path: str | None = None
    relation_root: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """(fingerprint, call site): the statement a finding is about."""
        return (self.stmt.fingerprint, self.site)

    @property
    def caller(self) -> str | None:
        """The first entry of the stack after ``site``: who called the code that ran the statement."""
        try:
            return self.stack[self.stack.index(self.site) + 1]
        except (ValueError, IndexError):
            return None

    def add_overflow(self, entry: Overflow) -> None:
        """Add the statements aggregated in ``entry`` past ``max_events``."""
        self.count += entry.count
        self.total_ms += entry.total_ms
        self.rows += entry.rows
        self.rows_known += entry.rows_known
        self.executemany = self.executemany or entry.example.executemany
        for (text, params), n in entry.keys.items():
            self.params[params] += n
            self.texts.add(text)
        self.batches.add(None)  # aggregated: their batches are not kept
        if self.last is None:
            self.last = entry.example
        self.add_facts(entry.example)

    def add_facts(self, event: QueryEvent) -> None:
        """Take the relation and the ORM from ``event`` unless known already."""
        if self.relation is None and event.relation is not None:
            self.relation, self.relation_kind = event.relation, event.relation_kind
            self.relation_path, self.relation_root = event.relation_path, event.relation_root
        if self.orm is None:
            self.orm = event.orm

    def add_all(self, events: list[QueryEvent], keys: list[Any]) -> None:
        """:meth:`add` for each of ``events`` (in order) with its parameter key; loops in C where it can."""
        self.count += len(events)
        self.total_ms += sum(map(_DURATION, events))
        self.executemany = self.executemany or any(map(_EXECUTEMANY, events))
        known = list(filter(_NOT_NEGATIVE, map(_ROWCOUNT, events)))
        self.rows += sum(known)
        self.rows_known += len(known)
        self.params.update(keys)
        self.batches.update(map(_BATCH, events))
        self.last = events[-1]
        if self.relation is None or self.orm is None:
            for event in events:
                self.add_facts(event)
                if self.relation is not None and self.orm is not None:
                    break

    @property
    def one_orm_call(self) -> bool:
        """Whether one ORM call (one flush) sent every statement of the group: the ORM's way, not a loop."""
        return len(self.batches) == 1 and None not in self.batches

    @property
    def distinct(self) -> int:
        """How many distinct (text, parameters) ran, at least: the values of a loop, bound or literal."""
        return max(len(self.params), len(self.texts))

    @property
    def mean_rows(self) -> float | None:
        return self.rows / self.rows_known if self.rows_known else None


#: The stored statements of one SQL text from one raw call site, in order: their group and parameter keys.
Run = tuple[Group, list[QueryEvent], list[Any]]
#: What tells groups apart: (fingerprint, database alias, user-code stack: each frame's line and columns,
#: request).
GroupKey = tuple[str, str, tuple[Any, ...], int]


@dataclasses.dataclass(frozen=True)
class Index:
    """What the detectors read about one unit. Built by :func:`build`; never changed after."""

    #: the stored statements, in the order they ran
    events: list[QueryEvent]
    #: (fingerprint, alias, stack) -> its group; transaction control is left out
    groups: dict[GroupKey, Group]
    #: the stored statements per SQL text and raw call site, in the order of their first statements
    runs: list[Run]
    #: statements aggregated past ``max_events``, one entry per (literal-free text, raw call site)
    overflow: list[Overflow]
    #: statements of shapes past the cap on overflow entries: counted and timed, not analysed
    others: list[Overflow]
    #: (fingerprint, call site) of the statements an earlier kind explained (see ``_registry``)
    explained: frozenset[tuple[str, str]] = frozenset()

    def group_of(self, event: QueryEvent) -> Group | None:
        """The group of a stored or aggregated statement (None for transaction control)."""
        place = _callsite.place_of(event._site)
        return self.groups.get((analyze(event.sql).fingerprint, event.alias, place, event.entry))

    def parent_site(self, group: Group) -> str | None:
        """Call site of the rows a loop walks: the last SELECT before it that returned about as many rows."""
        if group.first_index is None:
            return None
        example = group.example
        # A many-to-one load runs once per distinct parent (the ORM's identity map): fewer loads than rows.
        most = float("inf") if group.relation_kind == "many_to_one" else group.count * 2
        start = max(0, group.first_index - _PARENT_WINDOW)
        for event in reversed(self.events[start : group.first_index]):
            if event.alias != example.alias or event.rowcount < 1:
                continue
            if group.count / 2 <= event.rowcount <= most and analyze(event.sql).kind == "select":
                return event.callsite or None
        return None


def site_of(event: QueryEvent, config: Config) -> str:
    """``"path:line in function"`` of the statement's first frame outside ``callsite_ignore``."""
    return _callsite.describe(event._site, config.callsite_ignore)


def build(events: list[QueryEvent], overflow: Iterable[Overflow], config: Config) -> Index:
    """The index of a unit's stored statements and its entries past ``max_events``."""
    entries = list(overflow)
    shaped = [entry for entry in entries if not entry.other]
    others = [entry for entry in entries if entry.other]
    groups: dict[GroupKey, Group] = {}
    sites: dict[int, tuple[str, tuple[str, ...], tuple[Any, ...]]] = {}
    ignore = config.callsite_ignore

    def group_of(event: QueryEvent, index: int | None) -> Group | None:
        stmt = analyze(event.sql)
        if stmt.kind == "transaction":
            return None
        raw = event._site
        described = sites.get(id(raw))  # by id: the events keep every raw site alive while this runs
        if described is None:
            described = sites[id(raw)] = (
                _callsite.describe(raw, ignore),
                _callsite.describe_stack(raw),
                _callsite.place_of(raw),  # two calls on one line are two places
            )
        site, stack, place = described
        key = (stmt.fingerprint, event.alias, place, event.entry)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(stmt, site, event, index, stack)
        return group

    runs: list[Run] = []
    for indices in _gather(events).values():  # in the order of their first statements
        group = group_of(events[indices[0]], indices[0])
        if group is not None:
            members = list(map(events.__getitem__, indices))
            keys = params_keys(list(map(_PARAMS, members)))
            group.add_all(members, keys)
            group.texts.add(hash(members[0].sql))
            runs.append((group, members, keys))
    for entry in shaped:
        group = group_of(entry.example, None)
        if group is not None:
            group.add_overflow(entry)
    return Index(events, groups, runs, shaped, others)


def _gather(events: list[QueryEvent]) -> dict[tuple[str, int, int], list[int]]:
    """Where the statements of each (SQL text, raw call site, request) are: a loop repeats all three."""
    gathered: dict[tuple[str, int, int], list[int]] = {}
    last_sql: str | None = None
    last_site: object = None
    last_entry = -1
    indices: list[int] = []
    for index, event in enumerate(events):
        sql, site, entry = event.sql, event._site, event.entry
        if site is last_site and sql == last_sql and entry == last_entry:  # a loop's next statement: no key
            indices.append(index)
            continue
        text_key = (sql, id(site), entry)
        indices = gathered.get(text_key) or gathered.setdefault(text_key, [])
        indices.append(index)
        last_sql, last_site, last_entry = sql, site, entry
    return gathered
