"""Reports as HTML: one escaped, self-contained page with a timeline, filter chips and plan trees."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import pytest

import queryguard
from queryguard._report import Report, UnitReport
from queryguard._report._html_assets import SCRIPT
from queryguard._report._html_timeline import MAX_BARS
from queryguard._sql import analyze

from ._helpers import shop_db
from ._reports import make_event, make_finding, make_report

HOSTILE = "</script><img src=x onerror=alert(1)>"
AUTHOR_SQL = "SELECT id, name FROM shop_author WHERE id = ?"
COUNT_SQL = "SELECT COUNT(*) FROM shop_review"
LIST_SQL = "SELECT id, title FROM shop_book"


def of(sql: str, **changes: Any) -> Any:
    """A finding about ``sql`` with its real fingerprint."""
    return make_finding(sql=sql, fingerprint=analyze(sql).fingerprint, **changes)


def timed_report(*, origin: float = 1000.0) -> Report:
    """A unit with known starts and durations: one list query, an N+1 of three, a duplicate of two.

    Starts (ms): list 0 (10 long), authors 10, 30, 50 (10, 20, 40 long), counts 90, 100 (5 long): span 105.
    """
    site = "shop/views.py:42 in book_list"
    timing = [(LIST_SQL, 0, 10)] + [(AUTHOR_SQL, s, d) for s, d in ((10, 10), (30, 20), (50, 40))]
    timing += [(COUNT_SQL, 90, 5), (COUNT_SQL, 100, 5)]
    events = [
        make_event(sql, params=(n,), started=origin + start / 1000, duration_ms=ms, callsite=site)
        for n, (sql, start, ms) in enumerate(timing)
    ]
    findings = [
        of(AUTHOR_SQL, callsite=site, count=3),
        of(COUNT_SQL, callsite=site, count=2, kind="duplicate_query", severity="info", relation=None,
           message="duplicate: the same SELECT ran 2 times", suggestion="reuse the result"),
    ]  # fmt: skip
    unit = UnitReport("GET /books/", findings, query_count=len(events), db_time_ms=90.0, statements=events)
    return Report([unit])


def hostile_report() -> Report:
    attack = "<script>alert(1)</script>"
    sql = f"SELECT '{attack}' FROM t WHERE a = {attack} AND b = '{HOSTILE}'"
    finding = make_finding(message=attack, sql=sql, callsite=HOSTILE, kind=HOSTILE, relation=HOSTILE)
    statement = make_event(attack + HOSTILE, callsite=HOSTILE, params=(HOSTILE,))
    unit = UnitReport('"><img src=x>', [finding], statements=[statement])
    return Report([unit], show_params=True)


def bars(page: str) -> list[str]:
    return re.findall(r"<a class='bar[^>]*>", page)


def test_html_escapes_everything() -> None:
    """Markup in messages, kinds, statements, call sites, parameters and unit names is escaped."""
    page = hostile_report().to_html()
    assert "<img" not in page and page.count("<script") == 1 and page.count("</script>") == 1
    assert page.index("<script>") > page.index("</main>")  # only the page's own script, after the content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&quot;&gt;&lt;img src=x&gt;" in page
    assert "data-kind='&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;'" in page


def test_html_is_self_contained() -> None:
    """The page loads nothing from elsewhere, and its policy lets only its own script run."""
    page = make_report(make_finding(plan={"Node Type": "Seq Scan"})).to_html()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page) and "<link" not in page
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert policy is not None and "default-src 'none'" in policy[1]
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy[1] and f"<script>{SCRIPT}</script>" in page


def test_html_content() -> None:
    """The page shows the summary, each finding with its fix, statement and plan, and the statements."""
    events = [make_event() for _ in range(3)]
    finding = make_finding(plan={"Node Type": "Seq Scan"})
    page = make_report(finding, statements=events, max_statements=2).to_html()
    assert "GET /books/" in page and "N+1" in page and "Fix:" in page
    assert "<summary>Query plan</summary>" in page and "Seq Scan" in page
    assert "Statements (first 2 of 103)" in page and len(re.findall(r"<tr id='u1-s\d+'>", page)) == 2
    assert "<pre class='sql'>SELECT id,\n       name\nFROM shop_author" in page


def test_html_plurals() -> None:
    """Counts of one are singular in the title, summary and unit header."""
    report = make_report(statements=[make_event()])
    report.units[0].query_count = 1
    page = report.to_html()
    assert "<title>queryguard report: 1 finding</title>" in page and "1 query &middot;" in page
    assert "<b>1</b> <span class='muted'>unit</span>" in page and "1 queries" not in page


def test_callsites_wrap_at_path_separators() -> None:
    """A call site may break after each / or \\ and nowhere else in a name."""
    site = r"C:\app\shop/views/books.py:42 in book_list"
    page = make_report(make_finding(callsite=site), statements=[make_event(callsite=site)]).to_html()
    wrapped = r"C:\<wbr>app\<wbr>shop/<wbr>views/<wbr>books.py:42 in book_list"
    assert page.count(f"<code class='site'>{wrapped}</code>") == 2


def test_timeline_bars_at_start_and_duration() -> None:
    """Each statement is a bar placed and sized in percent of the unit's span, linked to its row."""
    page = timed_report().to_html()
    drawn = bars(page)
    assert len(drawn) == 6
    places = dict(re.findall(r"href='#(u1-s\d+)'.*?style='(left:[\d.]+%;width:[\d.]+%)'", page, re.S))
    span = 105
    expected = {1: (0, 10), 2: (10, 10), 3: (30, 20), 4: (50, 40), 5: (90, 5), 6: (100, 5)}
    for n, (start, ms) in expected.items():
        left, width = map(float, re.findall(r"[\d.]+", places[f"u1-s{n}"]))
        assert (left, width) == pytest.approx((start / span * 100, ms / span * 100), abs=0.001)
    assert "<tr id='u1-s4'>" in page and "105.0 ms</span>" in page


def test_timeline_lanes_of_findings() -> None:
    """The bars of one finding share a lane and a colour, and name the finding; the rest are grey."""
    page = timed_report().to_html()
    lanes = re.findall(r"<div class='lane'>.*?</div></div>", page, re.S)
    assert len(lanes) == 3
    assert "N+1 Book.author &times; 3" in lanes[0] and lanes[0].count("class='bar c0'") == 3
    assert "duplicate SELECT count(*) FROM shop_review &times; 2" in lanes[1]
    assert lanes[1].count("class='bar c1' ") == 2 and lanes[1].count("data-f='f2'") == 2
    assert "other statements &times; 1" in lanes[2] and "class='bar ' " in lanes[2]
    assert "<article class='finding warning' id='f1' data-kind='n_plus_one'>" in page
    assert "<span class='swatch c0' title='its bars in the timeline'>" in page


def test_timeline_of_a_real_capture() -> None:
    """On a real SQLite capture, the N+1's statements are the bars of the N+1 finding."""
    db = shop_db()
    with queryguard.capture(explain=False) as cap:
        books = db.execute("SELECT id, author_id FROM book").fetchall()
        for _, author in books[:5]:
            db.execute("SELECT name FROM author WHERE id = ?", (author,)).fetchall()
    assert [f.kind for f in cap.findings] == ["n_plus_one"]
    page = cap.report.to_html()
    statements = json.loads(cap.report.to_json())["units"][0]["statements"]
    assert statements[0]["start_ms"] == 0.0 and all(s["start_ms"] >= 0 for s in statements)
    assert len(re.findall(r"class='bar c0' href='#u1-s[2-6]' data-f='f1'", page)) == 5
    assert "href='#u1-s1' title" in page  # the loop's parent query belongs to no finding


def test_findings_about_the_same_bars_share_their_colour() -> None:
    """A plan smell about the slow statement shows the colour of the slow statement's lane."""
    slow = of(LIST_SQL, kind="slow_query", severity="warning", callsite="shop/views.py:42 in book_list")
    scan = of(LIST_SQL, kind="full_scan", severity="warning", callsite="shop/views.py:42 in book_list")
    report = timed_report()
    report.units[0].findings[:0] = [slow, scan]
    page = report.to_html()
    assert page.count("<span class='swatch c0' title='its bars in the timeline'>") == 2
    assert "class='bar c0' href='#u1-s1' data-f='f1 f2'" in page and "slow Book.author &times; 1" in page


def test_timeline_caps_the_bars() -> None:
    """Past the cap the rest are left out and the page says so."""
    events = [make_event(started=1000 + n / 1000) for n in range(MAX_BARS + 5)]
    page = make_report(statements=events, max_statements=MAX_BARS + 5).to_html()
    assert len(bars(page)) == MAX_BARS
    assert f"<b>Only the first {MAX_BARS:,} of {MAX_BARS + 5:,} statements are drawn.</b>" in page


def test_plan_tree_postgresql() -> None:
    """A PostgreSQL plan is a tree of its nodes with rows, cost and conditions; the raw JSON is kept."""
    plan = {
        "Plan": {
            "Node Type": "Sort", "Startup Cost": 10.5, "Total Cost": 12.0, "Plan Rows": 1000,
            "Sort Key": ["created DESC"],
            "Plans": [{"Node Type": "Seq Scan", "Relation Name": "review", "Alias": "r", "Plan Rows": 990,
                       "Actual Rows": 4, "Actual Loops": 2, "Filter": "(stars > ?)"}],
        },
        "Execution Time": 3.5,
    }  # fmt: skip
    page = make_report(make_finding(plan=plan)).to_html()
    tree = re.search(r"<ul class='plan'>(.*?)</ul><details class='raw'>", page, re.S)
    assert tree is not None
    assert "<span class='node-title'>Sort</span>" in tree[1] and "cost 10.5..12" in tree[1]
    assert "sort key <code>created DESC</code>" in tree[1] and "execution time 3.5 ms" in tree[1]
    inner = tree[1].split("<ul>", 1)[1]  # the scan is a child of the sort
    assert "<span class='node-title'>Seq Scan on review r</span>" in inner
    assert "est. 990 rows" in inner and "actual 4 rows &times; 2 loops" in inner
    assert "filter <code>(stars &gt; ?)</code>" in inner
    assert "<summary>Raw plan (JSON)</summary><pre>{\n  &quot;Plan&quot;" in page


def test_plan_tree_sqlite_and_mysql() -> None:
    """SQLite's rows hang under their parents; a MySQL JSON plan is a tree of its objects."""
    sqlite_plan = [
        {"id": 2, "parent": 0, "detail": "SCAN book"},
        {"id": 5, "parent": 2, "detail": "USE TEMP B-TREE FOR ORDER BY"},
        {"id": 9, "parent": 0, "detail": "SEARCH author USING INTEGER PRIMARY KEY (rowid=?)"},
    ]
    page = make_report(make_finding(plan=sqlite_plan)).to_html()
    child = "<ul><li><div class='leaf'><span class='node-title'>USE TEMP B-TREE FOR ORDER BY</span>"
    assert f"<span class='node-title'>SCAN book</span></summary>{child}" in page
    assert "<div class='leaf'><span class='node-title'>SEARCH author" in page
    mysql_plan = {"query_block": {"select_id": 1, "cost_info": {"query_cost": "101.5"}, "nested_loop": [
        {"table": {"table_name": "book", "access_type": "ALL", "rows_examined_per_scan": 1000,
                   "attached_condition": "(`book`.`stars` > ?)"}},
    ]}}  # fmt: skip
    page = make_report(make_finding(plan=mysql_plan)).to_html()
    assert "query_block</span> <span class='node-facts'>select_id <code>1</code>" in page
    assert "cost_info <code>query_cost 101.5</code>" in page
    assert "<span class='node-title'>table book</span>" in page and "access <code>ALL</code>" in page
    assert "est. rows <code>1000</code>" in page and "filter <code>(`book`.`stars` &gt; ?)</code>" in page


def test_plan_text_stays_preformatted() -> None:
    """A plan given as text is shown as it is, escaped."""
    page = make_report(make_finding(plan="-> Table scan on <book>\n    -> Filter")).to_html()
    assert "<pre class='plan-text'>-&gt; Table scan on &lt;book&gt;\n    -&gt; Filter</pre>" in page
