"""The sinks of a unit's findings: log, warn, raise, or a user callback.

They know nothing of how findings are made: :mod:`._pipeline` calls them once detection and EXPLAIN ran.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._config import Config
from ._errors import QueryGuardViolation
from ._events import Finding
from ._guard import internal_error
from ._plural import plural
from ._warning import warn

if TYPE_CHECKING:
    from ._unit import Capture

logger = logging.getLogger("queryguard")
_RANK = {"info": 0, "warning": 1, "error": 2}


def act(
    config: Config,
    findings: Sequence[Finding],
    *,
    unit: str = "",
    query_count: int = 0,
    db_time_ms: float = 0.0,
    capture: Capture | None = None,
    failed: bool = False,
) -> None:
    """Apply ``config.action`` and ``config.callback`` to the findings at or above the configured severity.

    With ``failed`` (the unit raised) the unit's exception wins over every action: "raise" does not
    raise, and neither a warning turned into an error nor a callback's violation escapes. The findings
    are still computed, logged by "log", warned by "warn" where warnings stay warnings.
    """
    selected = [f for f in findings if _RANK[f.severity] >= _RANK[config.action_min_severity]]
    if config.callback is not None and capture is not None:
        try:
            config.callback(capture)
        except QueryGuardViolation:
            if not failed:
                raise
        except Exception as exc:
            internal_error("callback", exc)
    if not selected or config.action == "none" or (failed and config.action == "raise"):
        return
    summary = summarize(unit, query_count, db_time_ms, len(selected))
    if config.action == "raise":
        raise QueryGuardViolation(
            summary + "\n" + "\n".join(f"  {f.message}" for f in selected), tuple(selected)
        )
    if config.action == "warn":
        for finding in selected:
            try:
                warn(finding)
            except Exception:  # a filter made it an error: the unit's own exception wins over it
                if not failed:
                    raise
                return
        return
    try:
        log(summary, selected, unit)
    except Exception as exc:
        internal_error("logging", exc)


def summarize(unit: str, query_count: int, db_time_ms: float, n_findings: int) -> str:
    """One line: ``queryguard: GET /books/ ran 103 queries in 45.2 ms: 3 findings``."""
    label = f"{unit} " if unit else ""
    queries, findings = plural(query_count, "query", "queries"), plural(n_findings, "finding")
    return f"queryguard: {label}ran {queries} in {db_time_ms:.1f} ms: {findings}"


def log(summary: str, findings: Sequence[Finding], unit: str) -> None:
    """Log one record for the unit: the summary line, then a line per finding, at the worst one's level.

    One record, so that the lines of concurrent units never interleave; its ``extra`` fields carry the
    unit and each finding's facts (``queryguard_findings``) for structured handlers.
    """
    worst = max(findings, key=lambda f: _RANK[f.severity]).severity
    logger.log(
        logging.ERROR if worst == "error" else logging.WARNING,
        "%s",
        "\n".join([summary, *(f"  {finding.message}" for finding in findings)]),
        extra={
            "queryguard_unit": unit,
            "queryguard_findings": [
                {
                    "kind": finding.kind,
                    "severity": finding.severity,
                    "count": finding.count,
                    "callsite": finding.callsite,
                    "relation": finding.relation,
                    "fingerprint": finding.fingerprint,
                    "suggestion": finding.suggestion,
                    "duration_ms": round(finding.total_duration_ms, 3),
                    "message": finding.message,
                }
                for finding in findings
            ],
        },
    )


def log_added(config: Config, added: Sequence[Finding], *, unit: str = "") -> None:
    """Log the findings that EXPLAIN added after the action ran (on the worker), as the "log" action would.

    Nothing is logged with the action ``"none"`` or below ``action_min_severity``; a failure of logging is
    logged as an internal error and swallowed.
    """
    selected = [f for f in added if _RANK.get(f.severity, 0) >= _RANK[config.action_min_severity]]
    if not selected or config.action == "none":
        return
    label = f"{unit} " if unit else ""
    try:
        log(f"queryguard: {label}EXPLAIN added {plural(len(selected), 'finding')}", selected, unit)
    except Exception as exc:
        internal_error("logging", exc)
