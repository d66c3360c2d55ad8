"""Reports: text, JSON, HTML and SARIF rendering, redaction, merging and writing files."""

from __future__ import annotations

import importlib.metadata
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import queryguard
from queryguard import ConfigurationError
from queryguard._events import Finding, QueryEvent
from queryguard._report import Report, UnitReport, split_callsite
from queryguard._report._redact import redact_plan, redact_text

from ._helpers import shop_db

SECRET = "hunter2"
FIX = 'add .select_related("author") to the queryset'
PLAN_LINES = (  # plan metrics and identifiers that redaction must leave alone
    "Seq Scan on book  (cost=0.00..35.50 rows=2550 width=4)",
    "(actual time=0.01..0.02 rows=1 loops=1)",
    "SEARCH t1 USING INDEX ix_t1 (a=?)",
)


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
        plan={"Plan": {"Filter": f"(password = '{SECRET}'::text)", "Index Cond": "(id = 314159)"}},
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


def test_text_header_and_finding() -> None:
    """The text format has a header per unit and the kind, severity, message, statement and fix."""
    lines = make_report().to_text(color=False).splitlines()
    assert lines[0] == "GET /books/: 103 queries, 45.2 ms, 1 finding"
    assert lines[1] == "  N+1 [warning] Book.author loaded 100 times from shop/views.py:42 in book_list"
    assert "shop_author" in lines[2] and "?" in lines[2] and "7" not in lines[2]
    assert lines[3] == f"      fix: {FIX}"


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("n_plus_one", "N+1"),
        ("duplicate_query", "duplicate"),
        ("write_loop", "write loop"),
        ("select_star", "SELECT *"),
        ("slow_query", "slow"),
        ("query_budget", "budget"),
        ("blocking_query", "blocking"),
        ("full_scan", "full_scan"),
    ],
)
def test_text_kind_labels(kind: str, label: str) -> None:
    """Each kind is shown by its short label."""
    text = make_report(make_finding(kind=kind, message="something")).to_text(color=False)
    assert f"  {label} [warning] something" in text


def test_text_long_statement_is_shortened() -> None:
    """A long statement is cut to about 100 characters with an ellipsis."""
    sql = "SELECT " + ", ".join(f"column_{n}" for n in range(60)) + " FROM shop_book"
    line = make_report(make_finding(sql=sql)).to_text(color=False).splitlines()[2].strip()
    assert line.endswith("...") and len(line) <= 100


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("color", "tty", "no_color", "expected"),
    [
        (False, True, False, False),
        (True, False, True, True),
        (None, True, False, True),
        (None, True, True, False),
        (None, False, False, False),
    ],
)
def test_text_color(
    monkeypatch: pytest.MonkeyPatch, color: bool | None, tty: bool, no_color: bool, expected: bool
) -> None:
    """ANSI colour when asked, or automatically on a terminal unless NO_COLOR is set."""
    monkeypatch.setattr(sys, "stdout", _Terminal() if tty else io.StringIO())
    monkeypatch.delenv("NO_COLOR", raising=False)
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    text = make_report().to_text(color=color)
    assert ("\x1b[33mN+1\x1b[0m" in text) is expected and ("\x1b[" in text) is expected


def test_text_verbose_lists_every_statement() -> None:
    """Verbose text lists each stored statement with its duration and call site, in order."""
    events = [make_event(f"SELECT {n} FROM t", duration_ms=n + 0.5) for n in range(3)]
    report = make_report(statements=events, max_statements=1)
    assert "shop/views.py:40" not in report.to_text(color=False)
    text = report.to_text(color=False, verbose=True)
    assert re.search(r"1\s+0\.50 ms  shop/views.py:40 in book_list\n.*SELECT.*\n.*2\s+1\.50 ms", text)
    assert text.count("shop/views.py:40 in book_list") == 3


def test_text_empty_report() -> None:
    """A report without units says so."""
    assert "no unit" in Report([]).to_text(color=False)


def test_json_schema_keys() -> None:
    """JSON round-trips and has exactly the documented keys."""
    data = json.loads(make_report(make_finding(plan={"Node Type": "Seq Scan"})).to_json())
    assert set(data) == {"schema", "version", "units", "summary"}
    assert (data["schema"], data["version"]) == ("queryguard-report", 1)
    unit = data["units"][0]
    assert set(unit) == {"unit", "query_count", "db_time_ms", "truncated", "findings", "statements"}
    assert set(unit["findings"][0]) == {
        "kind", "severity", "message", "count", "total_duration_ms", "fingerprint", "sql", "callsite",
        "relation", "suggestion", "plan", "vendor", "alias", "parent_callsite", "table", "columns", "details",
    }  # fmt: skip
    assert set(unit["statements"][0]) == {
        "sql", "duration_ms", "vendor", "alias", "callsite", "rowcount", "executemany", "error",
    }  # fmt: skip
    assert data["summary"] == {"units": 1, "queries": 103, "findings": 1, "by_kind": {"n_plus_one": 1}}


def test_json_non_serialisable_values() -> None:
    """Objects become their repr, NaN and infinity null: the output is always valid JSON."""
    plan = {"rows": float("nan"), "node": object(), "keys": {1, 2}, 3: (b"x", None)}
    finding = make_finding(
        plan=plan, details={"when": float("inf"), "seen": [object()]}, total_duration_ms=float("nan")
    )
    data = json.loads(make_report(finding).to_json(indent=None))
    dumped = data["units"][0]["findings"][0]
    assert dumped["plan"]["rows"] is None and dumped["plan"]["node"].startswith("<object object")
    assert dumped["plan"]["3"] == ["b?", None]
    assert dumped["details"]["when"] is None and dumped["total_duration_ms"] is None


@pytest.mark.parametrize("fmt", ["text", "json", "html", "sarif"])
def test_redacted_by_default(fmt: str) -> None:
    """Parameters, inline literals, plan literals and error values appear in no format by default."""
    output = render(secret_report(), fmt)
    assert SECRET not in output and "314159" not in output


@pytest.mark.parametrize("fmt", ["text", "json", "html", "sarif"])
def test_real_capture_is_redacted(fmt: str) -> None:
    """A report of real statements (an N+1 loop with an inline secret) hides the secret in every format."""
    conn = shop_db()
    with queryguard.capture(explain=False, action="none") as cap:
        for author_id in range(1, 6):
            conn.execute(f"SELECT name FROM author WHERE name <> '{SECRET}' AND id = ?", (author_id,))
    report = cap.report
    assert [f.kind for f in report.findings] == ["n_plus_one"]
    output = render(report, fmt)
    assert SECRET not in output and "test_report.py" in output


@pytest.mark.parametrize(("vendor", "shown"), [("mysql", "?"), ("postgresql", "secret_col")])
def test_mysql_double_quoted_strings(vendor: str, shown: str) -> None:
    """MySQL's double-quoted strings are literals; elsewhere double quotes name identifiers."""
    finding = make_finding(sql='SELECT id FROM t WHERE "secret_col" = 1', vendor=vendor)
    sql = json.loads(make_report(finding).to_json())["units"][0]["findings"][0]["sql"]
    assert sql.startswith(f"SELECT id FROM t WHERE {shown}")


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_show_params(fmt: str) -> None:
    """With show_params, parameters and literals are shown."""
    output = render(secret_report(show_params=True), fmt)
    assert SECRET in output and "314159" in output


def test_show_params_json_keys() -> None:
    """``params`` is a key of findings and statements only with show_params."""
    hidden = json.loads(secret_report().to_json())["units"][0]
    shown = json.loads(secret_report(show_params=True).to_json())["units"][0]
    assert "params" not in hidden["findings"][0] and "params" not in hidden["statements"][0]
    assert shown["findings"][0]["params"] == {"password": SECRET}
    assert shown["statements"][0]["params"] == [SECRET]


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


@pytest.mark.parametrize(
    ("callsite", "expected"),
    [
        ("shop/views.py:42 in book_list", ("shop/views.py", 42, "book_list")),
        (r"C:\proj\shop\views.py:7 in <module>", (r"C:\proj\shop\views.py", 7, "<module>")),
        ("my project/views.py:3 in View.get", ("my project/views.py", 3, "View.get")),
        ("templates/shop/list.html:12", ("templates/shop/list.html", 12, "")),
        ("shop/views.py", ("shop/views.py", None, "")),
        ("", ("", None, "")),
        (None, ("", None, "")),
    ],
)
def test_split_callsite(callsite: str | None, expected: tuple[str, int | None, str]) -> None:
    """Call sites split into path, line and function, whatever is missing."""
    assert split_callsite(callsite) == expected


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


@pytest.mark.parametrize(
    ("severity", "level"), [("error", "error"), ("warning", "warning"), ("info", "note")]
)
def test_sarif_structure(severity: str, level: str) -> None:
    """SARIF 2.1.0 with rules for every result, levels, relative URIs, integer start lines."""
    finding = make_finding(severity=severity, callsite=r"shop\views.py:42 in f")
    sarif = json.loads(make_report(finding).to_sarif())
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    (run,) = sarif["runs"]
    assert run["tool"]["driver"]["name"] == "queryguard" and run["tool"]["driver"]["informationUri"]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    (result,) = run["results"]
    assert result["ruleId"] in rule_ids and rule_ids[result["ruleIndex"]] == result["ruleId"]
    assert result["level"] == level and result["message"]["text"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "shop/views.py" and location["region"]["startLine"] == 42
    assert result["partialFingerprints"]["queryguard/v1"] == "n_plus_one:f1:shop/views.py"


def test_sarif_names_the_installed_version() -> None:
    """The SARIF driver's version is queryguard's, as the installed distribution states it."""
    driver = json.loads(make_report().to_sarif())["runs"][0]["tool"]["driver"]
    assert driver["version"] == queryguard.__version__ == importlib.metadata.version("queryguard-perf")


def test_sarif_without_callsite_and_shared_findings() -> None:
    """No location without a call site; a finding several units share is one result."""
    shared = make_finding()
    units = [UnitReport(f"test_{n}", [shared]) for n in range(2)]
    units.append(UnitReport("GET /", [make_finding(kind="query_budget", callsite="", severity="error")]))
    results = json.loads(Report(units).to_sarif())["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["n_plus_one", "query_budget"]
    assert results[0]["properties"]["units"] == ["test_0", "test_1"] and "locations" not in results[1]


def test_merge() -> None:
    """Merging keeps every unit in order; parameters show only if every report shows them."""
    first = make_report(show_params=True)
    second = Report([UnitReport("other", [make_finding(kind="select_star")])])
    merged = Report.merge([first, second])
    assert [unit.unit for unit in merged.units] == ["GET /books/", "other"]
    assert [f.kind for f in merged.findings] == ["n_plus_one", "select_star"] and not merged.show_params
    assert Report.merge(iter([first])).show_params and Report.merge([]).units == []


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("out/report.json", lambda text: json.loads(text)["schema"] == "queryguard-report"),
        ("report.HTML", lambda text: text.startswith("<!DOCTYPE html>")),
        ("report.htm", lambda text: text.startswith("<!DOCTYPE html>")),
        ("report.sarif", lambda text: json.loads(text)["version"] == "2.1.0"),
        ("report.sarif.json", lambda text: json.loads(text)["version"] == "2.1.0"),
        ("report.txt", lambda text: text.startswith("GET /books/: 103 queries")),
    ],
)
def test_write_by_extension(tmp_path: Path, name: str, check: Any) -> None:
    """write() picks the format from the file name's extension."""
    make_report().write(tmp_path / name)
    assert check((tmp_path / name).read_text(encoding="utf-8"))


def test_write_unknown_extension(tmp_path: Path) -> None:
    """An unknown extension is a configuration error naming it and the valid ones."""
    with pytest.raises(ConfigurationError, match=r"'\.csv'.*\.json, \.html.*\.sarif.*\.txt"):
        make_report().write(str(tmp_path / "report.csv"))


def test_import_loads_no_renderer() -> None:
    """`import queryguard` loads no report module; `queryguard.Report` loads them on first use."""
    code = (
        "import sys, queryguard;"
        "loaded = lambda: any(m.startswith('queryguard._report') for m in sys.modules);"
        "before = loaded(); queryguard.Report; print(before, loaded())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_max_statements_validated() -> None:
    """max_statements must be a non-negative integer."""
    with pytest.raises(ConfigurationError, match="max_statements"):
        Report([], max_statements=-1)
