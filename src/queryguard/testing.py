"""Assertions on the statements of a block, for unittest and Django ``TestCase`` (pytest has a fixture).

    with queryguard.testing.assert_max_queries(5):
        client.get("/books/")

Each helper raises :class:`queryguard.QueryGuardViolation` whose message says what was measured against what
was expected, then the statements that explain it (the repeated shape, its count, call site and fix).
Transaction control (BEGIN, COMMIT, SAVEPOINT...) is not counted as a query. The ``check_*`` functions and
:func:`failure_message` are the same checks returning the message; the pytest plugin uses them.
"""

from __future__ import annotations

import contextlib
import itertools
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from ._capture import suppressed
from ._config import KINDS, Config
from ._errors import ConfigurationError, QueryGuardViolation
from ._events import Finding, QueryEvent
from ._report import label
from ._report._redact import shorten
from ._sql import analyze
from ._unit import Capture

__all__ = [
    "assert_constant_queries",
    "assert_max_queries",
    "assert_no_findings",
    "assert_no_n_plus_one",
    "assert_queries",
    "check_constant_queries",
    "check_max_queries",
    "check_no_findings",
    "check_queries",
    "count_queries",
    "failure_message",
    "finding_lines",
    "short_shape",
    "statement_lines",
    "tally",
]

F = TypeVar("F", bound=Callable[..., Any])
STATEMENT_KINDS = ("select", "insert", "update", "delete")
#: Findings that explain a high statement count.
REPEATS = ("n_plus_one", "write_loop", "duplicate_query")
_MAX_LISTED = 200
_SELECT_LIST = 30  # characters of a select list shown as they are
_NOUNS = {
    "n_plus_one": "N+1 loop",
    "duplicate_query": "duplicate query",
    "select_star": "SELECT *",
    "query_budget": "budget overrun",
}


# -- counting ---------------------------------------------------------------------------------------


def _events(cap: Capture, using: str | None = None) -> Iterator[tuple[QueryEvent, int]]:
    for event in cap.queries:
        if using is None or event.alias == using:
            yield event, 1
    for entry in cap.overflow.values():
        if using is None or entry.example.alias == using:
            yield entry.example, entry.count


def count_queries(cap: Capture, *, using: str | None = None) -> Counter[str]:
    """Statements of ``cap`` per kind (``"select"``, ``"insert"``...) and in all (``"total"``).

    ``using`` keeps one database alias. Transaction control is left out.
    """
    counts: Counter[str] = Counter()
    for event, n in _events(cap, using):
        kind = analyze(event.sql).kind
        if kind != "transaction":
            counts[kind] += n
            counts["total"] += n
    return counts


# -- messages ---------------------------------------------------------------------------------------


def short_shape(sql: str, width: int = 90) -> str:
    """The statement's shape on one line (never a parameter value), a long select list shown as ``...``."""
    shape = analyze(sql).shape if sql else ""
    if shape[:7].upper() == "SELECT ":
        depth = 0
        for index in range(7, len(shape) - 6):
            depth += (shape[index] == "(") - (shape[index] == ")")
            if depth == 0 and shape[index : index + 6].upper() == " FROM ":
                shape = "SELECT ..." + shape[index:] if index > _SELECT_LIST else shape
                break
    return shorten(shape, width)


def finding_lines(finding: Finding) -> list[str]:
    """``  N+1: 100x SELECT ... FROM author WHERE id = ?   shop/views.py:42 in book_list`` and its fix."""
    name = label(finding.kind)
    what = f"{finding.count}x {short_shape(finding.sql)}" if finding.sql else finding.message
    if finding.kind == "slow_query":
        what = f"{finding.total_duration_ms:.1f} ms, {what}"
    head = f"  {name}: {what}"
    lines = [f"{head}   {finding.callsite}" if finding.callsite and finding.sql else head]
    if finding.suggestion:
        lines.append(" " * (len(name) + 4) + f"fix: {finding.suggestion}")
    return lines


def _frequent(cap: Capture, using: str | None) -> list[str]:
    counts: Counter[tuple[str, str]] = Counter()
    for event, n in _events(cap, using):
        if analyze(event.sql).kind != "transaction":
            counts[(short_shape(event.sql), event.callsite)] += n
    return [f"  {n}x {shape}   {site}".rstrip() for (shape, site), n in counts.most_common(3)]


def statement_lines(cap: Capture, using: str | None = None) -> list[str]:
    """Every statement of ``cap`` in order: number, shape and call site (the ``-v`` part of a message)."""
    events = [event for event in cap.queries if using is None or event.alias == using]
    lines = [f"  statements in order ({len(events)}):"] if events else []
    for number, event in enumerate(events[:_MAX_LISTED], 1):
        alias = f" [{event.alias}]" if event.alias not in ("default", "") else ""
        lines.append(f"    {number:>3}  {short_shape(event.sql)}{alias}   {event.callsite}".rstrip())
    if len(events) > _MAX_LISTED:
        lines.append(f"    ... {len(events) - _MAX_LISTED} more")
    aggregated = sum(entry.count for entry in cap.overflow.values())
    if aggregated:
        lines.append(f"    ... {aggregated} more aggregated by shape (max_events reached)")
    return lines


def failure_message(
    headline: str,
    findings: Sequence[Finding],
    cap: Capture | None = None,
    *,
    verbose: bool = False,
    using: str | None = None,
) -> str:
    """``queryguard: <headline>``, then the explaining findings (or the most frequent statements)."""
    lines = [f"queryguard: {headline}"]
    for finding in findings:
        if finding.kind != "query_budget":
            lines.extend(finding_lines(finding))
    if len(lines) == 1 and cap is not None:
        lines.extend(_frequent(cap, using))
    if verbose and cap is not None:
        lines.extend(statement_lines(cap, using))
    return "\n".join(lines)


def _plural(n: int, word: str, many: str = "") -> str:
    return f"{n} {word if n == 1 else many or word + 's'}"


def _noun(kind: str, n: int) -> str:
    word = _NOUNS.get(kind, kind.replace("_", " "))
    return f"{n} {word}" if n == 1 or word.endswith("*") else f"{n} {word}s"


def tally(findings: Sequence[Finding]) -> str:
    """``1 N+1 loop``, ``2 write loops``, ``3 findings (1 N+1 loop, 2 duplicate queries)``."""
    by_kind = Counter(f.kind for f in findings)
    if len(by_kind) == 1:
        return _noun(*by_kind.popitem())
    return f"{_plural(len(findings), 'finding')} ({', '.join(_noun(k, n) for k, n in by_kind.items())})"


# -- checks: a failure message, or None -------------------------------------------------------------


def _on(using: str | None) -> str:
    return f' on "{using}"' if using is not None else ""


def _limit(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"{name} must be an integer >= 0, got {value!r}")
    return value


def _repeats(cap: Capture) -> list[Finding]:
    return [f for f in cap.findings if f.kind in REPEATS]


def check_max_queries(
    cap: Capture, n: int, *, using: str | None = None, unit: str = "block", verbose: bool = False
) -> str | None:
    """The failure message when ``cap`` ran more than ``n`` queries (on alias ``using``), else None."""
    total = count_queries(cap, using=using)["total"]
    if total <= _limit("n", n):
        return None
    headline = f"{unit} ran {_plural(total, 'query', 'queries')}{_on(using)} (at most {n} allowed)"
    return failure_message(headline, _repeats(cap), cap, verbose=verbose, using=using)


def check_queries(
    cap: Capture,
    expected: Mapping[str, int | None],
    *,
    using: str | None = None,
    unit: str = "block",
    verbose: bool = False,
) -> str | None:
    """The failure message when a count differs from ``expected`` (keys ``n`` for the total, ``max``,
    ``select``, ``insert``, ``update``, ``delete``; None values are not checked), else None."""
    unknown = sorted(set(expected) - {"n", "max", *STATEMENT_KINDS})
    if unknown:
        raise ConfigurationError(f"unknown count {unknown[0]!r}; valid: n, max, {', '.join(STATEMENT_KINDS)}")
    wanted = {"total" if k == "n" else k: v for k, v in expected.items() if k != "max"}
    limit = expected.get("max")
    if limit is None and all(v is None for v in wanted.values()):
        raise ConfigurationError("assert_queries needs a count: n, max, select, insert, update or delete")
    counts = count_queries(cap, using=using)
    wrong = []
    for kind, value in wanted.items():
        if value is not None and counts[kind] != _limit("n" if kind == "total" else kind, value):
            word = ("query", "queries") if kind == "total" else (kind.upper(), kind.upper() + "s")
            wrong.append(f"{_plural(counts[kind], *word)} ({value} expected)")
    if limit is not None and counts["total"] > _limit("max", limit):
        wrong.append(f"{_plural(counts['total'], 'query', 'queries')} (at most {limit} allowed)")
    if not wrong:
        return None
    headline = f"{unit} ran {', '.join(wrong)}{_on(using)}"
    return failure_message(headline, _repeats(cap), cap, verbose=verbose, using=using)


def _kinds(kinds: Sequence[str]) -> None:
    for kind in kinds:
        if kind not in KINDS:
            raise ConfigurationError(f"unknown finding kind {kind!r}; valid kinds: {', '.join(KINDS)}")


def check_no_findings(
    cap: Capture, kinds: Sequence[str] = (), *, unit: str = "block", verbose: bool = False
) -> str | None:
    """The failure message when ``cap`` has findings of ``kinds`` (every kind when empty), else None."""
    _kinds(kinds)
    found = [f for f in cap.findings if not kinds or f.kind in kinds]
    if not found:
        return None
    total = count_queries(cap)["total"]
    headline = f"{unit} ran {_plural(total, 'query', 'queries')} with {tally(found)} (none allowed)"
    return failure_message(headline, found, cap, verbose=verbose)


def _scales(scales: Sequence[int]) -> list[int]:
    values = list(scales) if not isinstance(scales, (str, bytes)) else []
    if len(values) < 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise ConfigurationError(f"scales must be two or more integers >= 0, got {scales!r}")
    if values != sorted(set(values)):
        raise ConfigurationError(f"scales must be distinct and increasing, got {scales!r}")
    return values


def check_constant_queries(
    func: Callable[[], object],
    populate: Callable[[int], object],
    *,
    scales: Sequence[int] = (2, 10),
    config: Config | None = None,
    unit: str = "block",
    verbose: bool = False,
) -> str | None:
    """Run ``populate(n)`` (recorded by no capture) then ``func()`` for each scale; the failure message if
    ``func``'s count grows."""
    runs: list[tuple[int, Capture]] = []
    for n in _scales(scales):
        with suppressed():  # filling the tables is setup: no capture, not even the test's, sees it
            populate(n)
        cap = Capture(_quiet(config), name=unit).start()
        try:
            func()
        finally:
            cap.stop(act=False)
        runs.append((n, cap))
    counts = [count_queries(cap)["total"] for _, cap in runs]
    if all(later <= earlier for earlier, later in itertools.pairwise(counts)):
        return None
    measured = ", ".join(
        f"{_plural(c, 'query', 'queries')} at n={n}" for c, (n, _) in zip(counts, runs, strict=True)
    )
    headline = f"{unit} ran {measured} (the same number expected at every scale)"
    lines = [failure_message(headline, [], None), *_growth(runs)]
    if verbose:
        lines.extend(statement_lines(runs[-1][1]))
    return "\n".join(lines)


def _growth(runs: list[tuple[int, Capture]]) -> list[str]:
    def shapes(cap: Capture) -> Counter[tuple[str, str]]:
        found: Counter[tuple[str, str]] = Counter()
        for event, n in _events(cap):
            stmt = analyze(event.sql)
            if stmt.kind != "transaction":
                found[(stmt.fingerprint, event.callsite)] += n
        return found

    (small_n, small), (big_n, big) = runs[0], runs[-1]
    before, after = shapes(small), shapes(big)
    fixes = {(f.fingerprint, f.callsite): f.suggestion for f in big.findings if f.kind in REPEATS}
    examples = {(analyze(e.sql).fingerprint, e.callsite): e.sql for e, _ in _events(big)}
    lines = []
    for key, count in after.most_common():
        if count > before[key]:
            shape = short_shape(examples[key])
            lines.append(
                f"  grows with n: {before[key]}x at n={small_n}, {count}x at n={big_n}: {shape}   {key[1]}"
            )
            if fixes.get(key):
                lines.append(f"      fix: {fixes[key]}")
    return [line.rstrip() for line in lines]


# -- context managers -------------------------------------------------------------------------------


def _quiet(config: Config | None, settings: dict[str, Any] | None = None) -> Config:
    # The assertion is the judge: the configured action (log, warn, raise) must not fire as well.
    return (config or Config()).replace(**{**(settings or {}), "action": "none"})


def _caller(depth: int = 2) -> str:
    name = sys._getframe(depth).f_code.co_name
    return "block" if name.startswith("<") else name


class Assertion(contextlib.ContextDecorator):
    """A capture that runs a check when its block ends and raises :class:`QueryGuardViolation` on failure.

    ``with`` returns the :class:`Capture`; as a decorator, each call of the function is checked.
    """

    def __init__(self, check: Callable[[Capture, str], str | None], settings: dict[str, Any], unit: str):
        self._check = check
        self._config = _quiet(None, settings)
        self._unit = unit
        self._captures: list[Capture] = []

    def __enter__(self) -> Capture:
        cap = Capture(self._config, name=self._unit).start()
        self._captures.append(cap)
        return cap

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        __tracebackhide__ = True  # pytest shows the user's ``with`` line, not this frame
        cap = self._captures.pop()
        cap.stop(act=True)
        if exc_type is None:
            message = self._check(cap, self._unit)
            if message is not None:
                raise QueryGuardViolation(message, tuple(cap.findings))

    def __call__(self, func: F) -> F:
        self._unit = func.__name__
        return super().__call__(func)


def assert_max_queries(n: int, *, using: str | None = None, **settings: Any) -> Assertion:
    """Fail when the block runs more than ``n`` queries (on database alias ``using``)."""
    _limit("n", n)
    return Assertion(lambda cap, unit: check_max_queries(cap, n, using=using, unit=unit), settings, _caller())


def assert_queries(
    n: int | None = None,
    *,
    max: int | None = None,
    select: int | None = None,
    insert: int | None = None,
    update: int | None = None,
    delete: int | None = None,
    using: str | None = None,
    **settings: Any,
) -> Assertion:
    """Fail unless the block runs exactly ``n`` queries, at most ``max``, and ``select=``... of a kind."""
    counts = {"n": n, "max": max, "select": select, "insert": insert, "update": update, "delete": delete}

    def check(cap: Capture, unit: str) -> str | None:
        return check_queries(cap, counts, using=using, unit=unit)

    return Assertion(check, settings, _caller())


def assert_no_n_plus_one(**settings: Any) -> Assertion:
    """Fail when the block has an N+1 loop."""
    return Assertion(
        lambda cap, unit: check_no_findings(cap, ("n_plus_one",), unit=unit), settings, _caller()
    )


def assert_no_findings(*kinds: str, **settings: Any) -> Assertion:
    """Fail when the block has a finding of one of ``kinds`` (of any kind when none is given)."""
    _kinds(kinds)  # a mistake fails where it is made, not when the block ends
    return Assertion(lambda cap, unit: check_no_findings(cap, kinds, unit=unit), settings, _caller())


def assert_constant_queries(
    func: Callable[[], object],
    populate: Callable[[int], object],
    *,
    scales: Sequence[int] = (2, 10),
    **settings: Any,
) -> None:
    """Run ``populate(n)`` then ``func()`` for each of ``scales``; fail if ``func``'s queries grow with n.

    This finds the N+1 that a two-row fixture hides. ``populate(n)`` should bring the data to ``n`` items.
    """
    __tracebackhide__ = True
    message = check_constant_queries(
        func, populate, scales=scales, config=_quiet(None, settings), unit=_caller()
    )
    if message is not None:
        raise QueryGuardViolation(message)
