"""How a detector makes a finding: about one statement, or about every statement of a group."""

from __future__ import annotations

from typing import Any

from .._events import Finding, QueryEvent
from .._sql import Statement
from ._index import Group


def table_label(stmt: Statement) -> str:
    """The first table the statement names, or ``"?"``."""
    return stmt.tables[0] if stmt.tables else "?"


def of_event(
    event: QueryEvent, stmt: Statement, kind: str, severity: str, message: str, fix: str, **fields: Any
) -> Finding:
    """A finding about ``event`` (``stmt`` is its analysis); ``fields`` replace the one-statement defaults
    (count, time, call site, relation) and add others."""
    facts: dict[str, Any] = {
        "count": 1,
        "total_duration_ms": event.duration_ms,
        "relation": event.relation,
        **fields,
    }
    if "callsite" not in facts:  # described only when no caller gives it
        facts["callsite"] = event.callsite
    return Finding(
        kind=kind,
        severity=severity,
        message=message,
        fingerprint=stmt.fingerprint,
        sql=event.sql,
        suggestion=fix,
        params=event.params,
        vendor=event.vendor,
        alias=event.alias,
        table=stmt.tables[0] if stmt.tables else None,
        event=event,
        **facts,
    )


def of_group(group: Group, kind: str, severity: str, message: str, fix: str, **fields: Any) -> Finding:
    """A finding about every statement of ``group``, with its example's SQL and database."""
    return of_event(
        group.example,
        group.stmt,
        kind,
        severity,
        message,
        fix,
        count=group.count,
        total_duration_ms=group.total_ms,
        callsite=group.site,
        relation=group.relation,
        **fields,
    )
