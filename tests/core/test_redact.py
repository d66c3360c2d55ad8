"""Redaction: literals leave free text and plans; plan metrics and identifiers stay readable."""

from __future__ import annotations

import pytest

from queryguard._report._redact import redact_plan, redact_text

PLAN_LINES = (  # plan metrics and identifiers that redaction must leave alone
    "Seq Scan on book  (cost=0.00..35.50 rows=2550 width=4)",
    "(actual time=0.01..0.02 rows=1 loops=1)",
    "SEARCH t1 USING INDEX ix_t1 (a=?)",
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(email = 'bob@x.org'::text)", "(email = ?::text)"),
        ("(name = 'it''s')", "(name = ?)"),
        ("(id = 42) AND (price >= -1.5e3)", "(id = ?) AND (price >= ?)"),
        ("(id IN (1, 2, 3))", "(id IN (?, ?, ?))"),
        ("x BETWEEN 1 AND 9 LIMIT 10", "x BETWEEN ? AND ? LIMIT ?"),
        *((same, same) for same in PLAN_LINES),
        ("name = 'unterminated", "name = ?"),
    ],
)
def test_redact_text(text: str, expected: str) -> None:
    """Literals are replaced; plan metrics and identifiers stay readable."""
    assert redact_text(text) == expected


def test_redact_plan_walks_nested_values() -> None:
    """Every string of a nested plan is redacted; numbers and keys of the plan stay."""
    plan = [{"Plan": {"Filter": "(a = 'x')", "Plans": [("(b > 5)",)], "Plan Rows": 5}}]
    assert redact_plan(plan) == [{"Plan": {"Filter": "(a = ?)", "Plans": [["(b > ?)"]], "Plan Rows": 5}}]
