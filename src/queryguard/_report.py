"""Reports: the findings and statements of units of work, as text, JSON, HTML or SARIF.

Every format renders from :meth:`Report.to_dict`, the one place where parameter values and literals are
redacted, so no format can show what another hides.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ._config import KINDS
from ._errors import ConfigurationError
from ._events import Finding, QueryEvent

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
}

_FORMATS = {
    ".json": "json",
    ".html": "html",
    ".htm": "html",
    ".sarif": "sarif",
    ".sarif.json": "sarif",
    ".txt": "text",
}
_SQL_WIDTH = 100
_MAX_DEPTH = 40


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


def label(kind: str) -> str:
    """The short label of a finding kind (``n_plus_one`` -> ``N+1``)."""
    return LABELS.get(kind, kind)


# -- call sites -------------------------------------------------------------------------------------

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


# -- redaction --------------------------------------------------------------------------------------

# A dollar-quoted string that never closes runs to the end, like an unterminated quote: the search for its
# end then happens once, not again from every later tag.
_QUOTED = re.compile(r"'(?:[^'\\]|\\.|'')*(?:'|$)|\$(\w*)\$(?:.*?\$\1\$|.*)", re.S)
# No two ways through one run of digits or blanks: a failure after it costs one step back per character.
_NUMBER = r"[-+]?(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
# A number compared with something, or in a list: a value. Plan metrics (cost=, rows=, width=, actual
# time=, loops=) are not values and stay readable. Double quotes are left alone: PostgreSQL and SQLite
# quote identifiers with them.
_COMPARED = re.compile(
    r"(?P<op>(?:<>|!=|<=|>=|(?<!cost)(?<!rows)(?<!width)(?<!time)(?<!loops)=|<|>)\s*(?:\(\s*)?"
    r"|\b(?:between|and|or|in|like|limit|offset)\s+(?:\(\s*)?|[(,]\s*)"
    rf"(?P<num>{_NUMBER})\b",
    re.I,
)


def redact_text(text: str) -> str:
    """Replace quoted literals and compared numbers in free text (a plan line, an error) by ``?``."""
    text = _QUOTED.sub("?", text)
    return _COMPARED.sub(lambda m: m["op"] + "?", text)


@functools.lru_cache(maxsize=1024)
def redact_sql(sql: str) -> str:
    """The statement's shape: every literal and parameter replaced by ``?``."""
    try:
        from ._sql import analyze

        shape = analyze(sql).shape
    except Exception:  # the fallback below still removes every literal
        shape = sql
    return redact_text(shape if isinstance(shape, str) else sql)


def redact_plan(plan: Any) -> Any:
    """A JSON-ready copy of an EXPLAIN plan with every literal in its strings replaced by ``?``."""
    return plain(plan, redact=True)


def plain(value: Any, *, redact: bool = False, _depth: int = 0) -> Any:
    """A JSON-ready copy of ``value``: unknown objects become their repr, NaN and infinities ``None``."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return redact_text(value) if redact else value
    if _depth >= _MAX_DEPTH:
        return "..."
    if isinstance(value, dict):
        return {
            plain(str(key), redact=redact): plain(item, redact=redact, _depth=_depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(item, redact=redact, _depth=_depth + 1) for item in value]
    return plain(_repr(value), redact=redact)


def _repr(value: object) -> str:
    try:
        return repr(value)
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return round(float(value), 3)


_ERROR_VALUES = re.compile(r':\s*"[^"]*"|(?<=\)=)\([^)]*\)')


def _error(error: Any, redact: bool) -> str | None:
    if error is None:
        return None
    text = str(error)
    if not redact:
        return text
    # Later lines of a driver's message (PostgreSQL's DETAIL) show row values unquoted; PostgreSQL also
    # names a rejected value in double quotes after a colon, or as "Key (column)=(value)".
    first = text.strip().splitlines()[0] if text.strip() else ""
    return redact_text(_ERROR_VALUES.sub(lambda m: ": ?" if m[0].startswith(":") else "(?)", first))


# -- the report as plain data -------------------------------------------------------------------------


_DOUBLE_QUOTED = re.compile(r'"(?:[^"\\]|\\.|"")*(?:"|$)', re.S)


def _sql(sql: Any, redact: bool, vendor: Any = "") -> str:
    text = sql if isinstance(sql, str) else _repr(sql) if sql is not None else ""
    if not redact or not text:
        return text
    if vendor in ("mysql", "mariadb"):
        # MySQL quotes identifiers with backticks; "text" is a string literal there.
        text = _DOUBLE_QUOTED.sub("'?'", text)
    return redact_sql(text)


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
        "sql": _sql(finding.sql, redact, finding.vendor),
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


def statement_dict(event: QueryEvent, *, show_params: bool = False) -> dict[str, Any]:
    """One captured statement as JSON-ready data, redacted unless ``show_params``."""
    data: dict[str, Any] = {
        "sql": _sql(event.sql, not show_params, event.vendor),
        "duration_ms": _number(event.duration_ms),
        "vendor": plain(event.vendor),
        "alias": plain(event.alias),
        "callsite": plain(event.callsite),
        "rowcount": plain(event.rowcount),
        "executemany": bool(event.executemany),
        "error": _error(event.error, not show_params),
    }
    if show_params:
        data["params"] = plain(event.params)
    return data


def _unit_dict(unit: UnitReport, show_params: bool, limit: int | None) -> dict[str, Any]:
    statements = unit.statements if limit is None else unit.statements[:limit]
    return {
        "unit": plain(unit.unit),
        "query_count": plain(unit.query_count),
        "db_time_ms": _number(unit.db_time_ms),
        "truncated": plain(unit.truncated),
        "findings": [finding_dict(f, show_params=show_params) for f in unit.findings],
        "statements": [statement_dict(e, show_params=show_params) for e in statements],
    }


def _summary(units: list[UnitReport]) -> dict[str, Any]:
    by_kind: dict[str, int] = {}
    for unit in units:
        for finding in unit.findings:
            by_kind[str(finding.kind)] = by_kind.get(str(finding.kind), 0) + 1
    order = {kind: index for index, kind in enumerate(KINDS)}
    return {
        "units": len(units),
        "queries": sum(u.query_count for u in units if isinstance(u.query_count, int)),
        "findings": sum(by_kind.values()),
        "by_kind": dict(sorted(by_kind.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))),
    }


# -- the report ---------------------------------------------------------------------------------------


class Report:
    """Findings and statements of one or more units of work, rendered as text, JSON, HTML or SARIF.

    Parameter values and literals are redacted in every format unless ``show_params`` is True.
    """

    def __init__(
        self, units: Sequence[UnitReport], *, show_params: bool = False, max_statements: int = 500
    ) -> None:
        if isinstance(max_statements, bool) or not isinstance(max_statements, int) or max_statements < 0:
            raise ConfigurationError(f"max_statements must be an integer >= 0, got {max_statements!r}")
        self.units: list[UnitReport] = list(units)
        self.show_params = show_params is True
        self.max_statements = max_statements

    def __repr__(self) -> str:
        return f"<Report {len(self.units)} units, {len(self.findings)} findings>"

    @property
    def findings(self) -> list[Finding]:
        """The findings of every unit, in order."""
        return [finding for unit in self.units for finding in unit.findings]

    @classmethod
    def merge(cls, reports: Iterable[Report]) -> Report:
        """One report of the units of all ``reports`` (parameters shown only if every report shows them)."""
        reports = list(reports)
        return cls(
            [unit for report in reports for unit in report.units],
            show_params=bool(reports) and all(report.show_params for report in reports),
            max_statements=max((report.max_statements for report in reports), default=500),
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (the schema documented in ``docs/report-schema.md``)."""
        return self._data(self.max_statements)

    def _data(self, limit: int | None) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "version": SCHEMA_VERSION,
            "units": [_unit_dict(unit, self.show_params, limit) for unit in self.units],
            "summary": _summary(self.units),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def to_text(self, *, color: bool | None = None, verbose: bool = False) -> str:
        """A terminal summary; ``color=None`` colours only a terminal, and never when NO_COLOR is set."""
        if color is None:
            color = _stdout_is_tty() and "NO_COLOR" not in os.environ
        return render_text(self._data(None), color=color, verbose=verbose)

    def to_html(self) -> str:
        """One self-contained HTML page (no external assets, no script)."""
        from ._report_html import render_html

        return render_html(self.to_dict(), show_params=self.show_params)

    def to_sarif(self) -> str:
        """SARIF 2.1.0, for code-scanning tools."""
        from ._report_sarif import render_sarif

        return render_sarif(self.to_dict())

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the report in the format its extension names (.json .html .htm .sarif .sarif.json .txt)."""
        target = Path(path)
        name = target.name.lower()
        suffix = next((ext for ext in sorted(_FORMATS, key=len, reverse=True) if name.endswith(ext)), None)
        if suffix is None:
            raise ConfigurationError(
                f"cannot write a report to {os.fspath(path)!r}: unknown extension {target.suffix!r}; "
                f"valid extensions: {', '.join(_FORMATS)}"
            )
        renderers: dict[str, Callable[[], str]] = {
            "json": self.to_json,
            "html": self.to_html,
            "sarif": self.to_sarif,
            "text": lambda: self.to_text(color=False),
        }
        text = renderers[_FORMATS[suffix]]()
        target.parent.mkdir(parents=True, exist_ok=True)
        # Lone surrogates (undecodable bytes a driver passed through) must not make the write fail.
        text = text if text.endswith("\n") else text + "\n"
        target.write_text(text, encoding="utf-8", errors="backslashreplace")


def _stdout_is_tty() -> bool:
    try:
        return sys.stdout is not None and sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


# -- text ---------------------------------------------------------------------------------------------

_COLORS = {"error": "1;31", "warning": "33", "info": "36", "unit": "1", "dim": "2"}


def _paint(text: str, style: str, color: bool) -> str:
    return f"\x1b[{_COLORS.get(style, '0')}m{text}\x1b[0m" if color and style in _COLORS else text


def shorten(sql: str, width: int = _SQL_WIDTH) -> str:
    """``sql`` on one line, cut to ``width`` characters with ``...``."""
    line = " ".join(sql.split())
    return line if len(line) <= width else line[: width - 3].rstrip() + "..."


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


def _plural(n: Any, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else many or word + 's'}"


def _text_unit(unit: dict[str, Any], color: bool, verbose: bool) -> list[str]:
    head = (
        f"{unit['unit'] or '(unnamed unit)'}: {_plural(unit['query_count'], 'query', 'queries')}, "
        f"{unit['db_time_ms'] or 0:.1f} ms, {_plural(len(unit['findings']), 'finding')}"
    )
    lines = [_paint(head, "unit", color)]
    for finding in unit["findings"]:
        lines.extend(_text_finding(finding, color))
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
        f"total: {_plural(summary['units'], 'unit')}, {_plural(summary['queries'], 'query', 'queries')}, "
        f"{_plural(summary['findings'], 'finding')}" + (f" ({kinds})" if kinds else "")
    )
