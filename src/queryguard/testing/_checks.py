"""The checks: each returns the failure message, or None when the statements are as expected.

The assertions and the pytest plugin both judge through them.
"""

from __future__ import annotations

import contextlib
import itertools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._capture import suppressed
from .._config import KINDS, Config
from .._errors import ConfigurationError
from .._events import Finding
from .._plural import plural
from .._sql import analyze
from .._unit import Capture
from ._counting import REPEATS, STATEMENT_KINDS, count_queries, events
from ._messages import failure_message, short_shape, statement_lines, tally


def _on(using: str | None) -> str:
    return f' on "{using}"' if using is not None else ""


def valid_count(name: str, value: object) -> int:
    """``value`` if it is an integer >= 0, else a :class:`ConfigurationError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"{name} must be an integer >= 0, got {value!r}")
    return value


def valid_kinds(kinds: Sequence[str]) -> None:
    """A :class:`ConfigurationError` naming the first of ``kinds`` that is no finding kind."""
    for kind in kinds:
        if kind not in KINDS:
            raise ConfigurationError(f"unknown finding kind {kind!r}; valid kinds: {', '.join(KINDS)}")


def quiet_config(config: Config | None, settings: dict[str, Any] | None = None) -> Config:
    """``config`` (or the default) with ``settings`` and no action: the assertion is the judge."""
    # The configured action (log, warn, raise) must not fire as well.
    return (config or Config()).replace(**{**(settings or {}), "action": "none"})


def _repeats(cap: Capture) -> list[Finding]:
    return [f for f in cap.findings if f.kind in REPEATS]


def check_max_queries(
    cap: Capture, n: int, *, using: str | None = None, unit: str = "block", verbose: bool = False
) -> str | None:
    """The failure message when ``cap`` ran more than ``n`` queries (on alias ``using``), else None."""
    total = count_queries(cap, using=using)["total"]
    if total <= valid_count("n", n):
        return None
    headline = f"{unit} ran {plural(total, 'query', 'queries')}{_on(using)} (at most {n} allowed)"
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
        if value is not None and counts[kind] != valid_count("n" if kind == "total" else kind, value):
            word = ("query", "queries") if kind == "total" else (kind.upper(), kind.upper() + "s")
            wrong.append(f"{plural(counts[kind], *word)} ({value} expected)")
    if limit is not None and counts["total"] > valid_count("max", limit):
        wrong.append(f"{plural(counts['total'], 'query', 'queries')} (at most {limit} allowed)")
    if not wrong:
        return None
    headline = f"{unit} ran {', '.join(wrong)}{_on(using)}"
    return failure_message(headline, _repeats(cap), cap, verbose=verbose, using=using)


def check_no_findings(
    cap: Capture, kinds: Sequence[str] = (), *, unit: str = "block", verbose: bool = False
) -> str | None:
    """The failure message when ``cap`` has findings of ``kinds`` (every kind when empty), else None."""
    valid_kinds(kinds)
    found = [f for f in cap.findings if not kinds or f.kind in kinds]
    if not found:
        return None
    total = count_queries(cap)["total"]
    headline = f"{unit} ran {plural(total, 'query', 'queries')} with {tally(found)} (none allowed)"
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
    """Run ``populate(n)`` (recorded by no capture) then ``func()`` once for each scale; the failure message
    if ``func``'s count grows.

    ``populate(n)`` is given the total the data should reach, not an increment: what earlier scales (and the
    test's own setup) created stays. The captures around the check (the test's, with ``--queryguard``) see
    ``func``'s statements at the largest scale only: the smaller runs are measurements, and the same
    statements run again would look like duplicates there.
    """
    values = _scales(scales)
    runs: list[tuple[int, Capture]] = []
    for n in values:
        with suppressed():  # filling the tables is setup: no capture, not even the test's, sees it
            populate(n)
        runs.append((n, _measure(func, config, unit, alone=n != values[-1])))
    counts = [count_queries(cap)["total"] for _, cap in runs]
    if all(later <= earlier for earlier, later in itertools.pairwise(counts)):
        return None
    measured = ", ".join(
        f"{plural(c, 'query', 'queries')} at n={n}" for c, (n, _) in zip(counts, runs, strict=True)
    )
    headline = f"{unit} ran {measured} (the same number expected at every scale)"
    lines = [failure_message(headline, [], None), *_growth(runs)]
    if verbose:
        lines.extend(statement_lines(runs[-1][1]))
    return "\n".join(lines)


def _measure(func: Callable[[], object], config: Config | None, unit: str, *, alone: bool) -> Capture:
    # ``alone``: no other capture sees this run (the suppression ends with the block, the capture before it).
    with suppressed() if alone else contextlib.nullcontext():
        cap = Capture(quiet_config(config), name=unit).start()
        try:
            func()
        finally:
            cap.stop(act=False)
    return cap


def _growth(runs: list[tuple[int, Capture]]) -> list[str]:
    def shapes(cap: Capture) -> Counter[tuple[str, str]]:
        found: Counter[tuple[str, str]] = Counter()
        for event, n in events(cap):
            stmt = analyze(event.sql)
            if stmt.kind != "transaction":
                found[(stmt.fingerprint, event.callsite)] += n
        return found

    (small_n, small), (big_n, big) = runs[0], runs[-1]
    before, after = shapes(small), shapes(big)
    fixes = {(f.fingerprint, f.callsite): f.suggestion for f in big.findings if f.kind in REPEATS}
    examples = {(analyze(e.sql).fingerprint, e.callsite): e.sql for e, _ in events(big)}
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
