"""Detectors: pure functions from a capture's statements to findings.

Statements are grouped once per (shape, call site). Each detector reads the groups; a statement already
explained by one kind (an N+1 loop, a write loop) is not reported again as a duplicate or a ``SELECT *``.
"""

from __future__ import annotations

import dataclasses
import operator
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from . import _callsite, _suggest
from ._config import Config
from ._events import Finding, QueryEvent
from ._sql import Statement, analyze, params_keys, rough_kind

if TYPE_CHECKING:
    from ._capture import Capture, Overflow

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
_DURATION = operator.attrgetter("duration_ms")
_EXECUTEMANY = operator.attrgetter("executemany")
_ROWCOUNT = operator.attrgetter("rowcount")
_PARAMS = operator.attrgetter("params")
_BLOCKING = operator.attrgetter("blocking")
_NOT_NEGATIVE = (-1).__lt__  # for row counts: -1 means unknown


@dataclasses.dataclass
class Group:
    """Every statement of one shape from one call site."""

    stmt: Statement
    site: str
    example: QueryEvent
    first_index: int | None
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
        if self.relation is None or self.orm is None:
            for event in events:
                self.add_facts(event)
                if self.relation is not None and self.orm is not None:
                    break

    @property
    def distinct(self) -> int:
        """How many distinct (text, parameters) ran, at least: the values of a loop, bound or literal."""
        return max(len(self.params), len(self.texts))

    @property
    def mean_rows(self) -> float | None:
        return self.rows / self.rows_known if self.rows_known else None


def detect(cap: Capture) -> list[Finding]:
    """All findings for the statements of ``cap``, most severe and most costly first."""
    config = cap.config
    overflow = [entry for entry in cap.overflow.values() if not entry.other]
    others = [entry for entry in cap.overflow.values() if entry.other]
    groups, runs = build_groups(cap.queries, overflow, config)
    explained: set[int] = set()
    findings: list[Finding] = []
    findings += loops(groups, cap.queries, config, explained)
    findings += duplicates(runs, overflow, groups, explained, config)
    findings += select_star(groups, explained)
    findings += slow_queries(cap.queries, groups, explained, config)
    findings += budget(groups, config, others)
    findings += blocking(cap.queries, config)
    findings = [f for f in findings if f.kind not in config.ignore_kinds]
    findings.sort(key=lambda f: (_SEVERITY_ORDER.get(f.severity, 3), -f.total_duration_ms, -f.count))
    return findings


#: The stored statements of one SQL text from one raw call site, in order: their group and parameter keys.
Run = tuple[Group, list[QueryEvent], list[Any]]


def build_groups(
    events: list[QueryEvent], overflow: Iterable[Overflow], config: Config
) -> tuple[dict[tuple[str, str], Group], list[Run]]:
    """Group statements by (fingerprint, call site); transaction control is left out.

    The stored statements are first gathered by SQL text and raw call site (a loop repeats both): a shape is
    analysed and a call site described once per such run, and the run's totals are summed in C. The runs
    are returned too, for the duplicate detector, with the parameter key of each statement. ``overflow``
    holds entries of one shape each (not the ``other`` ones).
    """
    groups: dict[tuple[str, str], Group] = {}
    sites: dict[int, str] = {}
    ignore = config.callsite_ignore

    def group_of(event: QueryEvent, index: int | None) -> Group | None:
        stmt = analyze(event.sql)
        if stmt.kind == "transaction":
            return None
        raw = event._site
        site = sites.get(id(raw))  # by id: the events keep every raw site alive while this runs
        if site is None:
            site = sites[id(raw)] = _callsite.describe(raw, ignore)
        key = (stmt.fingerprint, site)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(stmt, site, event, index)
        return group

    gathered: dict[tuple[str, int], list[int]] = {}
    last_sql: str | None = None
    last_site: object = None
    indices: list[int] = []
    for index, event in enumerate(events):
        sql, site = event.sql, event._site
        if site is last_site and sql == last_sql:  # the next statement of a loop: no key to build
            indices.append(index)
            continue
        text_key = (sql, id(site))
        indices = gathered.get(text_key) or gathered.setdefault(text_key, [])
        indices.append(index)
        last_sql, last_site = sql, site
    runs: list[Run] = []
    for indices in gathered.values():  # in the order of their first statements
        group = group_of(events[indices[0]], indices[0])
        if group is not None:
            members = list(map(events.__getitem__, indices))
            keys = params_keys(list(map(_PARAMS, members)))
            group.add_all(members, keys)
            group.texts.add(hash(members[0].sql))
            runs.append((group, members, keys))
    for entry in overflow:
        group = group_of(entry.example, None)
        if group is not None:
            group.add_overflow(entry)
    return groups, runs


def _is_batch(group: Group, config: Config) -> bool:
    # Pages and batches fetch many rows per call: a loop over them is not an N+1.
    if group.relation is not None:
        return False
    stmt = group.stmt
    mean = group.mean_rows
    return (
        (mean is not None and mean >= config.batch_rows) or stmt.in_list_max >= 10 or "OFFSET" in stmt.shape
    )


def loops(
    groups: dict[tuple[str, str], Group], events: list[QueryEvent], config: Config, explained: set[int]
) -> list[Finding]:
    """``n_plus_one`` and ``write_loop``: one shape repeated from one call site with other parameters."""
    found = []
    for group in groups.values():
        stmt = group.stmt
        if stmt.kind == "select" and group.count >= config.n_plus_one_threshold:
            if group.distinct >= 2 and not _is_batch(group, config):
                found.append(_n_plus_one(group, events))
                explained.add(id(group))
        elif (
            stmt.is_single_row_write and not group.executemany and group.count >= config.write_loop_threshold
        ):
            found.append(_write_loop(group))
            explained.add(id(group))
    return found


def _table_label(stmt: Statement) -> str:
    return stmt.tables[0] if stmt.tables else "?"


def _n_plus_one(group: Group, events: list[QueryEvent]) -> Finding:
    what = group.relation or f"{_table_label(group.stmt)} rows"
    fix = _suggest.n_plus_one(group)
    parent = _parent_site(group, events)
    where = f"; parent rows loaded at {parent}" if parent else ""
    return _finding(
        group,
        "n_plus_one",
        "warning",
        f"N+1: {what} loaded {group.count} times from {group.site}; {fix}{where}",
        fix,
        parent_callsite=parent,
        details={"distinct_params": group.distinct, "relation_kind": group.relation_kind},
    )


def _parent_site(group: Group, events: list[QueryEvent]) -> str | None:
    """Call site of the rows the loop walks: the last SELECT before it that returned about as many rows."""
    if group.first_index is None:
        return None
    example = group.example
    # A many-to-one load runs once per distinct parent (the ORM's identity map): fewer loads than rows.
    most = float("inf") if group.relation_kind == "many_to_one" else group.count * 2
    for event in reversed(events[max(0, group.first_index - 200) : group.first_index]):
        if event.alias != example.alias or event.rowcount < 1:
            continue
        if group.count / 2 <= event.rowcount <= most and analyze(event.sql).kind == "select":
            return event.callsite or None
    return None


def _write_loop(group: Group) -> Finding:
    verb = group.stmt.kind
    table = _table_label(group.stmt)
    fix = _suggest.write_loop(group.orm, verb, table)
    return _finding(
        group,
        "write_loop",
        "warning",
        f"write loop: {group.count} single-row {verb.upper()}s into {table} from {group.site}; {fix}",
        fix,
    )


def duplicates(
    runs: list[Run],
    overflow: Iterable[Overflow],
    groups: dict[tuple[str, str], Group],
    explained: set[int],
    config: Config,
) -> list[Finding]:
    """``duplicate_query``: the identical statement with identical parameters, more than once."""
    skip = {group.stmt.fingerprint for group in groups.values() if id(group) in explained}
    aggregated = list(overflow)
    also_aggregated = {text for agg in aggregated for text, _ in agg.keys}
    by_text: dict[str, list[Run]] = {}
    for run in runs:
        by_text.setdefault(run[1][0].sql, []).append(run)
    # keyed by (hash of the text, parameter key), as the aggregated statements are
    seen: dict[tuple[int, Any], list[Any]] = {}
    for text, same_text in by_text.items():
        if same_text[0][0].stmt.fingerprint in skip:
            continue
        counts: Counter[Any] = Counter()
        for _, _, keys in same_text:
            counts.update(keys)
        text_hash = hash(text)
        if max(counts.values()) < config.duplicate_threshold and text_hash not in also_aggregated:
            continue  # every parameter set ran fewer times than a duplicate needs (a loop's usual case)
        for group, members, keys in same_text:
            for event, key in zip(members, keys, strict=True):
                entry = seen.setdefault((text_hash, key), [0, 0.0, event, set()])
                entry[0] += 1
                entry[1] += event.duration_ms
                entry[3].add(group.site)
    kept = [agg for agg in aggregated if _duplicable(analyze(agg.example.sql), skip)]
    runs_of: Counter[tuple[int, Any]] = Counter()
    for agg in kept:
        runs_of.update(agg.keys)
    # Only keys that ran often enough, stored and aggregated together, get an entry: the aggregated
    # statements of a loop hold hundreds of keys that ran once.
    repeated = {
        key
        for key, n in runs_of.items()
        if n + (seen[key][0] if key in seen else 0) >= config.duplicate_threshold
    }
    for agg in kept:
        site = _callsite.describe(agg.example._site, config.callsite_ignore)
        for key, n in agg.keys.items():
            if key not in repeated:
                continue
            entry = seen.setdefault(key, [0, 0.0, agg.examples.get(key, agg.example), set()])
            entry[0] += n
            entry[1] += agg.total_ms * n / max(agg.count, 1)
            entry[3].add(site)
    found = []
    for count, total, event, sites in seen.values():
        if count >= config.duplicate_threshold:
            found.append(_duplicate(event, count, total, sorted(sites), groups, config))
    return found


def _duplicable(stmt: Statement, skip: set[str]) -> bool:
    return stmt.kind != "transaction" and stmt.fingerprint not in skip


def _duplicate(
    event: QueryEvent,
    count: int,
    total: float,
    sites: list[str],
    groups: dict[tuple[str, str], Group],
    config: Config,
) -> Finding:
    stmt = analyze(event.sql)
    site = _callsite.describe(event._site, config.callsite_ignore)
    group = groups.get((stmt.fingerprint, site))
    fix = _suggest.duplicate(event.orm)
    also = f" (also from {', '.join(s for s in sites if s != site)})" if len(sites) > 1 else ""
    return Finding(
        kind="duplicate_query",
        severity="warning",
        message=f"duplicate: the same {stmt.kind.upper()} on {_table_label(stmt)} ran {count} times "
        f"with identical parameters from {site}{also}; {fix}",
        count=count,
        total_duration_ms=total,
        fingerprint=stmt.fingerprint,
        sql=event.sql,
        callsite=site,
        relation=group.relation if group else event.relation,
        suggestion=fix,
        params=event.params,
        vendor=event.vendor,
        alias=event.alias,
        table=stmt.tables[0] if stmt.tables else None,
        details={"callsites": sites},
        event=event,
    )


def select_star(groups: dict[tuple[str, str], Group], explained: set[int]) -> list[Finding]:
    """``select_star``: ``*`` in a select list, once per shape."""
    done: set[str] = set()
    found = []
    for group in groups.values():
        stmt = group.stmt
        if not stmt.select_star or id(group) in explained or stmt.fingerprint in done:
            continue
        done.add(stmt.fingerprint)
        fix = _suggest.select_star(group.orm)
        message = f"SELECT * from {_table_label(stmt)} at {group.site}; {fix}"
        found.append(_finding(group, "select_star", "info", message, fix))
    return found


def slow_queries(
    events: list[QueryEvent], groups: dict[tuple[str, str], Group], explained: set[int], config: Config
) -> list[Finding]:
    """``slow_query``: statements slower than ``slow_query_ms``, once per shape and call site."""
    slow: dict[tuple[str, str], list[QueryEvent]] = {}
    if max(map(_DURATION, events), default=0.0) < config.slow_query_ms:
        events = []  # the usual case, found without a loop in Python
    for event in events:
        if event.duration_ms >= config.slow_query_ms and event.duration_ms > 0:
            stmt = analyze(event.sql)
            if stmt.kind != "transaction":
                site = _callsite.describe(event._site, config.callsite_ignore)
                slow.setdefault((stmt.fingerprint, site), []).append(event)
    found = []
    for key, items in slow.items():
        group = groups.get(key)
        if group is not None and id(group) in explained:
            continue
        worst = max(items, key=lambda e: e.duration_ms)
        stmt = analyze(worst.sql)
        fix = _suggest.slow(stmt.tables[0] if stmt.tables else None)
        message = (
            f"slow query: {stmt.kind.upper()} on {_table_label(stmt)} took {worst.duration_ms:.1f} ms "
            f"(limit {config.slow_query_ms:g} ms) at {key[1]}; {fix}"
        )
        finding = _event_finding(worst, stmt, "slow_query", "warning", message, fix)
        finding.callsite = key[1]
        finding.count = len(items)
        finding.total_duration_ms = sum(e.duration_ms for e in items)
        found.append(finding)
    return found


def budget(
    groups: dict[tuple[str, str], Group], config: Config, others: Iterable[Overflow] = ()
) -> list[Finding]:
    """``query_budget``: more statements or more database time than the unit may use.

    ``others``: statements of shapes past the overflow cap, counted and timed though not grouped.
    """
    others = [entry for entry in others if rough_kind(entry.example.sql) != "transaction"]
    count = sum(g.count for g in groups.values()) + sum(entry.count for entry in others)
    total = sum(g.total_ms for g in groups.values()) + sum(entry.total_ms for entry in others)
    top = sorted(groups.values(), key=lambda g: -g.count)[:3]
    worst = ", ".join(f"{g.count}x {_table_label(g.stmt)} from {g.site}" for g in top)
    found = []
    if config.max_queries is not None and count > config.max_queries:
        found.append((f"ran {count} queries (at most {config.max_queries} allowed)", "fewer statements"))
    if config.max_db_time_ms is not None and total > config.max_db_time_ms:
        found.append(
            (f"spent {total:.1f} ms in the database (at most {config.max_db_time_ms:g} ms)", "less time")
        )
    return [
        Finding(
            kind="query_budget",
            severity="error",
            message=f"budget: {what}; most frequent: {worst}",
            count=count,
            total_duration_ms=total,
            callsite=top[0].site if top else "",
            suggestion=f"fix the N+1 and duplicate findings first; the unit needs {need}",
            details={"max_queries": config.max_queries, "max_db_time_ms": config.max_db_time_ms},
        )
        for what, need in found
    ]


def blocking(events: list[QueryEvent], config: Config) -> list[Finding]:
    """``blocking_query``: synchronous statements run on the thread of a running event loop."""
    by_site: dict[str, list[QueryEvent]] = {}
    if not any(map(_BLOCKING, events)):
        return []
    for event in events:
        if event.blocking:
            by_site.setdefault(_callsite.describe(event._site, config.callsite_ignore), []).append(event)
    found = []
    for site, items in by_site.items():
        first = items[0]
        fix = _suggest.blocking(first.orm)
        message = (
            f"blocking: {len(items)} synchronous database call(s) on the event loop's thread from {site}; "
            "every other request waits meanwhile; " + fix
        )
        finding = _event_finding(first, analyze(first.sql), "blocking_query", "error", message, fix)
        finding.callsite = site
        finding.count = len(items)
        finding.total_duration_ms = sum(e.duration_ms for e in items)
        found.append(finding)
    return found


def _finding(group: Group, kind: str, severity: str, message: str, fix: str, **extra: Any) -> Finding:
    example = group.example
    return Finding(
        kind=kind,
        severity=severity,
        message=message,
        count=group.count,
        total_duration_ms=group.total_ms,
        fingerprint=group.stmt.fingerprint,
        sql=example.sql,
        callsite=group.site,
        relation=group.relation,
        suggestion=fix,
        params=example.params,
        vendor=example.vendor,
        alias=example.alias,
        table=group.stmt.tables[0] if group.stmt.tables else None,
        event=example,
        **extra,
    )


def _event_finding(
    event: QueryEvent, stmt: Statement, kind: str, severity: str, message: str, fix: str
) -> Finding:
    return Finding(
        kind=kind,
        severity=severity,
        message=message,
        count=1,
        total_duration_ms=event.duration_ms,
        fingerprint=stmt.fingerprint,
        sql=event.sql,
        callsite=event.callsite,
        relation=event.relation,
        suggestion=fix,
        params=event.params,
        vendor=event.vendor,
        alias=event.alias,
        table=stmt.tables[0] if stmt.tables else None,
        event=event,
    )
