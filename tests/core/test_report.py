"""Reports: the JSON data, redaction in every format, merging and writing files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import queryguard
from queryguard import ConfigurationError
from queryguard._report import Report, UnitReport, split_callsite

from ._helpers import shop_db
from ._reports import SECRET, make_finding, make_report, render, secret_report


def test_json_schema_keys() -> None:
    """JSON round-trips and has exactly the documented keys."""
    data = json.loads(make_report(make_finding(plan={"Node Type": "Seq Scan"})).to_json())
    assert set(data) == {"schema", "version", "units", "summary"}
    assert (data["schema"], data["version"]) == ("queryguard-report", 1)
    unit = data["units"][0]
    assert set(unit) == {
        "unit",
        "query_count",
        "db_time_ms",
        "truncated",
        "suppressed",
        "findings",
        "statements",
    }
    assert set(unit["findings"][0]) == {
        "kind", "severity", "message", "count", "total_duration_ms", "fingerprint", "sql", "callsite",
        "relation", "suggestion", "plan", "vendor", "alias", "parent_callsite", "table", "columns", "details",
    }  # fmt: skip
    assert set(unit["statements"][0]) == {
        "sql", "fingerprint", "start_ms", "duration_ms", "vendor", "alias", "callsite", "rowcount",
        "executemany", "error",
    }  # fmt: skip
    assert data["summary"] == {
        "units": 1,
        "queries": 103,
        "findings": 1,
        "suppressed": 0,
        "suppressed_by_rule": {},
        "by_kind": {"n_plus_one": 1},
    }


def test_json_non_serialisable_values() -> None:
    """Objects become their repr, NaN and infinity null: the output is always valid JSON."""
    plan = {"rows": float("nan"), "node": object(), "keys": {1, 2}, 3: (b"x", None)}
    finding = make_finding(
        plan=plan,
        details={"when": float("inf"), "seen": [object()]},
        total_duration_ms=float("nan"),
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
            conn.execute(
                f"SELECT name FROM author WHERE name <> '{SECRET}' AND id = ?",
                (author_id,),
            )
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
    ("callsite", "expected"),
    [
        ("shop/views.py:42 in book_list", ("shop/views.py", 42, "book_list")),
        (
            r"C:\proj\shop\views.py:7 in <module>",
            (r"C:\proj\shop\views.py", 7, "<module>"),
        ),
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


def test_merge() -> None:
    """Merging keeps every unit in order; parameters show only if every report shows them."""
    first = make_report(show_params=True)
    second = Report([UnitReport("other", [make_finding(kind="select_star")])])
    merged = Report.merge([first, second])
    assert [unit.unit for unit in merged.units] == ["GET /books/", "other"]
    assert [f.kind for f in merged.findings] == [
        "n_plus_one",
        "select_star",
    ] and not merged.show_params
    assert Report.merge(iter([first])).show_params and Report.merge([]).units == []


@pytest.mark.parametrize(
    ("name", "check"),
    [
        (
            "out/report.json",
            lambda text: json.loads(text)["schema"] == "queryguard-report",
        ),
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
