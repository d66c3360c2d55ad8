"""Failure messages: what was measured against what was expected, then the statements that explain it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .._events import Finding
from .._plural import plural
from .._report import label
from .._report._redact import shorten
from .._sql import analyze
from .._unit import Capture
from ._counting import events

_MAX_LISTED = 200
_SELECT_LIST = 30  # characters of a select list shown as they are
_NOUNS = {
    "n_plus_one": "N+1 loop",
    "duplicate_query": "duplicate query",
    "select_star": "SELECT *",
    "query_budget": "budget overrun",
}


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
    for event, n in events(cap, using):
        if analyze(event.sql).kind != "transaction":
            counts[(short_shape(event.sql), event.callsite)] += n
    return [f"  {n}x {shape}   {site}".rstrip() for (shape, site), n in counts.most_common(3)]


def statement_lines(cap: Capture, using: str | None = None) -> list[str]:
    """Every statement of ``cap`` in order: number, shape and call site (the ``-v`` part of a message)."""
    stored = [event for event in cap.queries if using is None or event.alias == using]
    lines = [f"  statements in order ({len(stored)}):"] if stored else []
    for number, event in enumerate(stored[:_MAX_LISTED], 1):
        alias = f" [{event.alias}]" if event.alias not in ("default", "") else ""
        lines.append(f"    {number:>3}  {short_shape(event.sql)}{alias}   {event.callsite}".rstrip())
    if len(stored) > _MAX_LISTED:
        lines.append(f"    ... {len(stored) - _MAX_LISTED} more")
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


def _noun(kind: str, n: int) -> str:
    word = _NOUNS.get(kind, kind.replace("_", " "))
    return f"{n} {word}" if n == 1 or word.endswith("*") else f"{n} {word}s"


def tally(findings: Sequence[Finding]) -> str:
    """``1 N+1 loop``, ``2 write loops``, ``3 findings (1 N+1 loop, 2 duplicate queries)``."""
    by_kind = Counter(f.kind for f in findings)
    if len(by_kind) == 1:
        return _noun(*by_kind.popitem())
    return f"{plural(len(findings), 'finding')} ({', '.join(_noun(k, n) for k, n in by_kind.items())})"
