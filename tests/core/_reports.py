"""The findings, statements and reports that the tests of every report format render."""

from __future__ import annotations

from typing import Any

from queryguard._events import Finding, QueryEvent
from queryguard._report import Report, UnitReport

SECRET = "hunter2"
FIX = 'add .select_related("author") to the queryset'


def make_finding(**changes: Any) -> Finding:
    values: dict[str, Any] = {
        "kind": "n_plus_one",
        "severity": "warning",
        "message": f"N+1: Book.author loaded 100 times from shop/views.py:42 in book_list; {FIX}",
        "count": 100,
        "total_duration_ms": 12.5,
        "fingerprint": "f1",
        "sql": "SELECT id, name FROM shop_author WHERE id = 7",
        "callsite": "shop/views.py:42 in book_list",
        "relation": "Book.author",
        "suggestion": FIX,
        "params": (7,),
        "vendor": "sqlite",
        "alias": "default",
    }
    values.update(changes)
    return Finding(**values)


def make_event(sql: str = "SELECT id FROM shop_book WHERE id = 3", **changes: Any) -> QueryEvent:
    changes.setdefault("callsite", "shop/views.py:40 in book_list")
    return QueryEvent(sql, changes.pop("params", (3,)), changes.pop("duration_ms", 1.25), **changes)


def make_report(*findings: Finding, statements: list[QueryEvent] | None = None, **options: Any) -> Report:
    unit = UnitReport(
        unit="GET /books/",
        findings=list(findings) or [make_finding()],
        query_count=103,
        db_time_ms=45.2,
        statements=[make_event()] if statements is None else statements,
    )
    return Report([unit], **options)


def secret_report(show_params: bool = False) -> Report:
    finding = make_finding(
        sql=f"SELECT id FROM auth_user WHERE password = '{SECRET}'",
        params={"password": SECRET},
        plan={
            "Plan": {
                "Filter": f"(password = '{SECRET}'::text)",
                "Index Cond": "(id = 314159)",
            }
        },
    )
    event = make_event(
        f"UPDATE auth_user SET password = '{SECRET}' WHERE id = 314159",
        params=[SECRET],
        error=f'bad input: "{SECRET}" Key (password)=({SECRET})\nDETAIL: Key (password)=({SECRET}) exists.',
    )
    return make_report(finding, statements=[event], show_params=show_params)


def render(report: Report, fmt: str) -> str:
    if fmt == "text":
        return report.to_text(color=False, verbose=True)
    return str(getattr(report, f"to_{fmt}")())
