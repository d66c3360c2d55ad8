"""A unit's statements as a picture: each statement a bar at its start and for its duration.

Bars lie in one lane per finding (a loop of 100 statements is a comb of 100 bars in one colour) and one lane
for the statements no finding is about. The bars are plain elements placed in percentages of the unit's
span, so the picture needs no script; past :data:`MAX_BARS` statements the rest are left out, and the
caption says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._html_assets import PALETTE_SIZE
from ._html_markup import esc, noun_of
from ._model import label
from ._redact import shorten

#: At most this many bars per unit: enough to see every pattern, few enough for a quick page.
MAX_BARS = 2_000
_TITLE_SQL = 160
_TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)

Findings = Sequence[tuple[str, dict[str, Any]]]


def owners(findings: Findings, statements: Sequence[dict[str, Any]]) -> list[tuple[str, ...]]:
    """For each statement, the ids of the findings about it, in the findings' order.

    A finding is about a statement of its fingerprint from its call site; when no statement comes from
    that call site (it was described past ``callsite_ignore``), about every statement of its fingerprint.
    """
    pairs = {(s.get("fingerprint"), s.get("callsite")) for s in statements}
    by_print: dict[Any, list[tuple[str, Any]]] = {}
    for ident, finding in findings:
        fingerprint = finding.get("fingerprint")
        if fingerprint:
            site = finding.get("callsite") if (fingerprint, finding.get("callsite")) in pairs else None
            by_print.setdefault(fingerprint, []).append((ident, site))
    result: list[tuple[str, ...]] = []
    for statement in statements:
        candidates = by_print.get(statement.get("fingerprint"), ())
        site = statement.get("callsite")
        result.append(tuple(ident for ident, wanted in candidates if wanted is None or wanted == site))
    return result


def colours(findings: Findings, owned: Sequence[tuple[str, ...]]) -> dict[str, str]:
    """The colour class of each finding that is first about some statement, in the findings' order."""
    leading = {found[0] for found in owned if found}
    shown = [ident for ident, _ in findings if ident in leading]
    return {ident: f"c{index % PALETTE_SIZE}" for index, ident in enumerate(shown)}


def swatches(colour: dict[str, str], owned: Sequence[tuple[str, ...]]) -> dict[str, str]:
    """The colour of the bars each finding is about: its own lane's, or that of the finding whose lane they
    are drawn in (a plan smell's bar is its slow statement's)."""
    found: dict[str, str] = {}
    for idents in owned:
        for ident in idents:
            found.setdefault(ident, colour[idents[0]])
    return found


def timeline(unit: dict[str, Any], prefix: str, findings: Findings, owned: Sequence[tuple[str, ...]]) -> str:
    """The timeline figure of ``unit`` (``""`` when no statement has a start); rows are ``{prefix}-s{n}``."""
    statements = unit["statements"]
    drawn = [n for n, s in enumerate(statements[:MAX_BARS]) if _is_number(s.get("start_ms"))]
    if not drawn:
        return ""
    ends = [statements[n]["start_ms"] + _duration(statements[n]) for n in drawn]
    span = max(max(ends), 0.0) or 1.0
    colour = colours(findings, owned)
    lanes: dict[str, list[str]] = {ident: [] for ident, _ in findings if ident in colour}
    lanes[""] = []
    for n in drawn:
        lead = owned[n][0] if owned[n] else ""
        lanes[lead].append(_bar(statements[n], n, prefix, span, owned[n], colour.get(lead, "")))
    about = dict(findings)
    rows = [_lane(about.get(ident), bars, colour.get(ident, "")) for ident, bars in lanes.items() if bars]
    axis = "".join(f"<span style='left:{tick * 100:g}%'>{_ms(span * tick, span)}</span>" for tick in _TICKS)
    return (
        f"<figure class='timeline' id='{prefix}-timeline'>"
        f"<figcaption class='muted'>{_caption(unit, len(drawn), span)}</figcaption>"
        f"{''.join(rows)}<div class='axis' aria-hidden='true'>{axis}</div></figure>"
    )


def _caption(unit: dict[str, Any], drawn: int, span: float) -> str:
    text = (
        f"Timeline of {drawn:,} {noun_of(drawn, 'statement')} over {_ms(span, span)}: each bar is one "
        "statement, from its start and as long as it took, in the lane and colour of the finding about it."
    )
    count = unit["query_count"]
    total = max(count if isinstance(count, int) else 0, len(unit["statements"]))
    if drawn < total:
        text += f" <b>Only the first {drawn:,} of {total:,} statements are drawn.</b>"
    return text


def _lane(finding: dict[str, Any] | None, bars: list[str], colour: str) -> str:
    if finding is None:
        name, title = f"other statements &times; {len(bars):,}", "Statements no finding is about"
    else:
        sql = shorten(str(finding.get("sql") or ""), 40)
        subject = finding.get("relation") or finding.get("table") or sql
        name = f"{esc(label(str(finding['kind'])))} {esc(subject)} &times; {len(bars):,}"
        title = esc(finding.get("message"))
    return (
        f"<div class='lane'><div class='lane-label' title='{title}'><span class='swatch {colour}'></span>"
        f"{name}</div><div class='track'>{''.join(bars)}</div></div>"
    )


def _bar(
    statement: dict[str, Any], n: int, prefix: str, span: float, owned: tuple[str, ...], colour: str
) -> str:
    start, duration = float(statement["start_ms"]), _duration(statement)
    where = f" · {statement['callsite']}" if statement.get("callsite") else ""
    sql = shorten(str(statement["sql"]), _TITLE_SQL)
    title = f"#{n + 1} · at {start:.2f} ms · {duration:.2f} ms{where}\n{sql}"
    found = f" data-f='{' '.join(owned)}'" if owned else ""
    return (
        f"<a class='bar {colour}' href='#{prefix}-s{n + 1}'{found} title='{esc(title)}' "
        f"style='left:{start / span * 100:.3f}%;width:{duration / span * 100:.3f}%'></a>"
    )


def _ms(value: float, span: float) -> str:
    """Milliseconds with as many decimals as the span needs to tell its ticks apart."""
    return f"{value:.{2 if span < 10 else 1 if span < 1000 else 0}f} ms"


def _duration(statement: dict[str, Any]) -> float:
    value = statement.get("duration_ms")
    return max(float(value), 0.0) if isinstance(value, (int, float)) else 0.0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
