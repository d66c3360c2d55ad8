"""The report model: findings and statements of units of work as versioned, JSON-ready, redacted data.

Every format renders from this data (:func:`report_dict`), the one place where parameter values and
literals are redacted, so no format can show what another hides.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import TYPE_CHECKING, Any

from .._config import KINDS
from .._sql import analyze
from ._redact import error_text, plain, statement_text

if TYPE_CHECKING:
    from .._events import Finding, QueryEvent

SCHEMA = "queryguard-report"
SCHEMA_VERSION = 1

#: Short labels of the kinds in text and HTML; other kinds show as themselves.
LABELS = {
    "n_plus_one": "N+1",
    "duplicate_query": "duplicate",
    "write_loop": "write loop",
    "select_star": "SELECT *",
    "slow_query": "slow",
    "query_budget": "budget",
    "blocking_query": "blocking",
    "unused_eager_load": "unused eager load",
    "loop_stall": "loop stall",
    "sequential_awaits": "sequential awaits",
}


@dataclasses.dataclass
class UnitReport:
    """The findings and statements of one unit of work (a request, a test)."""

    unit: str
    findings: list[Finding]
    query_count: int = 0
    db_time_ms: float = 0.0
    statements: list[QueryEvent] = dataclasses.field(default_factory=list)
    #: Statements aggregated per shape instead of stored one by one (memory cap).
    truncated: int = 0
    #: Findings a suppression silenced, by the rule's label (``# queryguard: ignore[...] at path:line``).
    suppressed: dict[str, int] = dataclasses.field(default_factory=dict)


def label(kind: str) -> str:
    """The short label of a finding kind (``n_plus_one`` -> ``N+1``)."""
    return LABELS.get(kind, kind)


def headline(finding: dict[str, Any]) -> str:
    """The message without the kind prefix and the fix that a report shows next to it anyway."""
    message, suggestion = str(finding["message"] or ""), str(finding["suggestion"] or "")
    if suggestion:
        message = message.replace(f"; {suggestion}", "")
    head, sep, rest = message.partition(": ")
    return rest if sep and rest and _names_kind(head, str(finding["kind"])) else message


def _names_kind(head: str, kind: str) -> bool:
    # "N+1", "slow query", "write loop", "full scan": the detectors' own prefix for the kind.
    norm, short = head.lower().replace("_", " "), label(kind).lower()
    return norm in (short, kind.replace("_", " ")) or (norm.startswith(short) and len(head) <= 20)


_CALLSITE = re.compile(r"^(?P<path>.*?)(?::(?P<line>\d+))?(?: in (?P<function>\S+))?$", re.S)


def split_callsite(callsite: str | None) -> tuple[str, int | None, str]:
    """``"shop/views.py:42 in book_list"`` -> ``("shop/views.py", 42, "book_list")``.

    Missing parts come back as ``None`` (line) or ``""``; a Windows drive letter stays in the path.
    """
    match = _CALLSITE.match((callsite or "").strip())
    if match is None:  # pragma: no cover - the pattern matches every string
        return "", None, ""
    line = match["line"]
    return match["path"].strip(), int(line) if line else None, match["function"] or ""


# -- the report as plain data -------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return round(float(value), 3)


def finding_dict(finding: Finding, *, show_params: bool = False) -> dict[str, Any]:
    """One finding as JSON-ready data, redacted unless ``show_params``."""
    redact = not show_params
    data: dict[str, Any] = {
        "kind": plain(finding.kind),
        "severity": plain(finding.severity),
        "message": plain(finding.message),
        "count": plain(finding.count),
        "total_duration_ms": _number(finding.total_duration_ms),
        "fingerprint": plain(finding.fingerprint),
        "sql": statement_text(finding.sql, redact, finding.vendor),
        "callsite": plain(finding.callsite),
        "relation": plain(finding.relation),
        "suggestion": plain(finding.suggestion),
        "plan": plain(finding.plan, redact=redact),
        "vendor": plain(finding.vendor),
        "alias": plain(finding.alias),
        "parent_callsite": plain(finding.parent_callsite),
        "table": plain(finding.table),
        "columns": plain(finding.columns),
        "details": plain(finding.details),
    }
    if show_params:
        data["params"] = plain(finding.params)
    return data


def statement_dict(
    event: QueryEvent, *, show_params: bool = False, origin: float | None = None
) -> dict[str, Any]:
    """One captured statement as JSON-ready data, redacted unless ``show_params``; its start is given in ms
    after ``origin`` (a ``started`` clock reading of its unit), or as None without one."""
    started = _number(event.started)
    data: dict[str, Any] = {
        "sql": statement_text(event.sql, not show_params, event.vendor),
        "fingerprint": analyze(event.sql).fingerprint if isinstance(event.sql, (str, bytes)) else "",
        "start_ms": None if started is None or origin is None else _number((event.started - origin) * 1000),
        "duration_ms": _number(event.duration_ms),
        "vendor": plain(event.vendor),
        "alias": plain(event.alias),
        "callsite": plain(event.callsite),
        "rowcount": plain(event.rowcount),
        "executemany": bool(event.executemany),
        "error": error_text(event.error, not show_params),
    }
    if show_params:
        data["params"] = plain(event.params)
    return data


def _unit_dict(unit: UnitReport, show_params: bool, limit: int | None) -> dict[str, Any]:
    statements = unit.statements if limit is None else unit.statements[:limit]
    origin = min((e.started for e in statements if _number(e.started) is not None), default=None)
    return {
        "unit": plain(unit.unit),
        "query_count": plain(unit.query_count),
        "db_time_ms": _number(unit.db_time_ms),
        "truncated": plain(unit.truncated),
        "suppressed": {str(rule): int(n) for rule, n in unit.suppressed.items()},
        "findings": [finding_dict(f, show_params=show_params) for f in unit.findings],
        "statements": [statement_dict(e, show_params=show_params, origin=origin) for e in statements],
    }


def _summary(units: list[UnitReport]) -> dict[str, Any]:
    by_kind: dict[str, int] = {}
    for unit in units:
        for finding in unit.findings:
            by_kind[str(finding.kind)] = by_kind.get(str(finding.kind), 0) + 1
    order = {kind: index for index, kind in enumerate(KINDS)}
    by_rule: dict[str, int] = {}
    for unit in units:
        for rule, n in unit.suppressed.items():
            by_rule[str(rule)] = by_rule.get(str(rule), 0) + int(n)
    return {
        "units": len(units),
        "queries": sum(u.query_count for u in units if isinstance(u.query_count, int)),
        "findings": sum(by_kind.values()),
        "suppressed": sum(by_rule.values()),
        "suppressed_by_rule": by_rule,
        "by_kind": dict(sorted(by_kind.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))),
    }


def report_dict(units: list[UnitReport], *, show_params: bool, limit: int | None) -> dict[str, Any]:
    """The versioned data of a report (the schema in ``docs/report-schema.md``); ``limit`` caps the
    statements shown per unit (None: all of them)."""
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "units": [_unit_dict(unit, show_params, limit) for unit in units],
        "summary": _summary(units),
    }
