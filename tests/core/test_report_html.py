"""Reports as HTML: one escaped, self-contained page."""

from __future__ import annotations

import re

from queryguard._report import Report, UnitReport

from ._reports import make_event, make_finding, make_report


def hostile_report() -> Report:
    attack = "<script>alert(1)</script>"
    sql = f"SELECT '{attack}' FROM t WHERE a = {attack}"
    finding = make_finding(message=attack, sql=sql, callsite=attack)
    unit = UnitReport('"><img src=x>', [finding], statements=[make_event(attack, callsite=attack)])
    return Report([unit], show_params=True)


def test_html_escapes_everything() -> None:
    """Markup in messages, statements, call sites and unit names is escaped."""
    page = hostile_report().to_html()
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&quot;&gt;&lt;img src=x&gt;" in page


def test_html_is_self_contained() -> None:
    """The page loads nothing from elsewhere."""
    page = make_report(make_finding(plan={"Node Type": "Seq Scan"})).to_html()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page) and "<link" not in page


def test_html_content() -> None:
    """The page shows the summary, each finding with its fix, statement and plan, and the statements."""
    events = [make_event() for _ in range(3)]
    finding = make_finding(plan={"Node Type": "Seq Scan"})
    page = make_report(finding, statements=events, max_statements=2).to_html()
    assert "GET /books/" in page and "N+1" in page and "Fix:" in page
    assert "<summary>Query plan</summary>" in page and "Seq Scan" in page
    assert "Statements (first 2 of 103)" in page and page.count("<tr><td class='num'>") == 2
    assert "<pre class='sql'>SELECT id,\n       name\nFROM shop_author" in page
