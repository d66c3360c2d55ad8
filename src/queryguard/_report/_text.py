"""The text report: a terminal summary, coloured on request.

It renders the already redacted data of :meth:`Report.to_dict`.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from .._plural import plural
from ._model import headline, label
from ._redact import shorten

_COLORS = {"error": "1;31", "warning": "33", "info": "36", "unit": "1", "dim": "2"}


def wants_color() -> bool:
    """Colour for a terminal, never when NO_COLOR is set."""
    return _stdout_is_tty() and "NO_COLOR" not in os.environ


def _stdout_is_tty() -> bool:
    try:
        return sys.stdout is not None and sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def _paint(text: str, style: str, color: bool) -> str:
    return f"\x1b[{_COLORS.get(style, '0')}m{text}\x1b[0m" if color and style in _COLORS else text


def render_text(data: dict[str, Any], *, color: bool = False, verbose: bool = False) -> str:
    """The terminal format of a report's data (see :meth:`Report.to_dict`)."""
    lines: list[str] = []
    for unit in data["units"]:
        lines.extend(_text_unit(unit, color, verbose))
    if not data["units"]:
        lines.append("queryguard: no unit of work captured")
    elif len(data["units"]) > 1:
        lines.append(_text_summary(data["summary"]))
    return "\n".join(lines) + "\n"


def _text_unit(unit: dict[str, Any], color: bool, verbose: bool) -> list[str]:
    head = (
        f"{unit['unit'] or '(unnamed unit)'}: {plural(unit['query_count'], 'query', 'queries')}, "
        f"{unit['db_time_ms'] or 0:.1f} ms, {plural(len(unit['findings']), 'finding')}"
    )
    suppressed = unit.get("suppressed") or {}
    if suppressed:
        head += f", {sum(suppressed.values())} suppressed"
    lines = [_paint(head, "unit", color)]
    for finding in unit["findings"]:
        lines.extend(_text_finding(finding, color))
    for rule, n in suppressed.items():
        lines.append(_paint(f"  suppressed {n} by {rule}", "dim", color))
    if verbose:
        lines.extend(_text_statements(unit, color))
    return lines


def _text_finding(finding: dict[str, Any], color: bool) -> list[str]:
    severity = str(finding["severity"])
    text = headline(finding)
    lines = [f"  {_paint(label(str(finding['kind'])), severity, color)} [{severity}] {text}"]
    for name, site in (("at", finding["callsite"]), ("parent rows from", finding["parent_callsite"])):
        if site and str(site) not in text:
            lines.append(f"      {name} {site}")
    if finding["sql"]:
        lines.append("      " + _paint(shorten(finding["sql"]), "dim", color))
    if finding["suggestion"]:
        lines.append(f"      fix: {finding['suggestion']}")
    return lines


def _text_statements(unit: dict[str, Any], color: bool) -> list[str]:
    statements = unit["statements"]
    aggregated = f", {unit['truncated']} more aggregated by shape" if unit["truncated"] else ""
    lines = [f"  statements ({len(statements)} stored{aggregated}):"] if statements or aggregated else []
    for number, statement in enumerate(statements, 1):
        alias = f"  [{statement['alias']}]" if statement["alias"] not in ("default", "", None) else ""
        ms = statement["duration_ms"] or 0
        lines.append(f"    {number:>4}  {ms:>8.2f} ms  {statement['callsite']}{alias}")
        error = f"  -- error: {statement['error']}" if statement["error"] else ""
        lines.append("          " + _paint(shorten(statement["sql"]), "dim", color) + error)
    return lines


def _text_summary(summary: dict[str, Any]) -> str:
    kinds = ", ".join(f"{label(kind)}: {n}" for kind, n in summary["by_kind"].items())
    return (
        f"total: {plural(summary['units'], 'unit')}, {plural(summary['queries'], 'query', 'queries')}, "
        f"{plural(summary['findings'], 'finding')}"
        + (f" ({kinds})" if kinds else "")
        + (f", {summary['suppressed']} suppressed" if summary.get("suppressed") else "")
    )
