"""The HTML report: one self-contained page (inline CSS, no script, no external asset).

It renders the already redacted data of :meth:`Report.to_dict`; every value goes through ``html.escape``.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from ._model import headline, label
from ._redact import shorten

_PRETTY_MAX = 20_000  # longer statements are shown as they are: formatting them would take too long

_CSS = """
:root { --fg: #1f2328; --muted: #656d76; --bg: #ffffff; --panel: #f6f8fa; --line: #d0d7de;
  --error: #cf222e; --warning: #9a6700; --info: #0969da; --code: #f6f8fa; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #8d96a0; --bg: #0d1117; --panel: #161b22; --line: #30363d;
    --error: #ff7b72; --warning: #d29922; --info: #58a6ff; --code: #161b22; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 1.5rem; color: var(--fg); background: var(--bg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 0; overflow-wrap: anywhere; }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--code); border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem;
  overflow-x: auto; margin: .5rem 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.summary { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; margin: .5rem 0 1.5rem; }
.summary b { font-size: 1.2rem; }
.kinds { display: flex; flex-wrap: wrap; gap: .4rem; list-style: none; padding: 0; margin: 0 0 1.5rem; }
.unit { border: 1px solid var(--line); border-radius: 8px; margin: 0 0 1.25rem; overflow: hidden; }
.unit > header { background: var(--panel); padding: .6rem 1rem; border-bottom: 1px solid var(--line); }
.finding { padding: .75rem 1rem; border-bottom: 1px solid var(--line); border-left: 4px solid var(--info); }
.finding.error { border-left-color: var(--error); }
.finding.warning { border-left-color: var(--warning); }
.badge { display: inline-block; border-radius: 999px; padding: 0 .6rem; font-size: .8rem; font-weight: 600;
  color: #fff; background: var(--info); white-space: nowrap; }
.badge.error { background: var(--error); }
.badge.warning { background: var(--warning); }
.badge.plain { color: var(--fg); background: var(--panel); border: 1px solid var(--line); }
.message { font-weight: 600; margin-left: .35rem; overflow-wrap: anywhere; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .5rem 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.fix { margin: .5rem 0; }
details > summary { cursor: pointer; color: var(--muted); }
.statements { padding: .6rem 1rem; }
table { border-collapse: collapse; width: 100%; margin-top: .5rem; }
th, td { text-align: left; vertical-align: top; padding: .25rem .5rem; border-top: 1px solid var(--line); }
td.num { text-align: right; white-space: nowrap; }
td code { white-space: pre-wrap; overflow-wrap: anywhere; }
.empty { padding: .6rem 1rem; margin: 0; }
footer { margin-top: 2rem; font-size: .85rem; }
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def pretty_sql(sql: str) -> str:
    """``sql`` re-indented with upper-case keywords, or as it is when formatting fails."""
    if not sql or len(sql) > _PRETTY_MAX:
        return sql
    try:
        import sqlparse

        text = sqlparse.format(sql, reindent=True, keyword_case="upper")
    except Exception:  # formatting is cosmetic: the statement as captured is always good enough
        return sql
    return text.strip() if isinstance(text, str) and text.strip() else sql


def render_html(data: dict[str, Any], *, show_params: bool = False) -> str:
    """The HTML page of a report's data (see :meth:`Report.to_dict`)."""
    summary = data["summary"]
    title = f"queryguard report: {summary['findings']} finding{'' if summary['findings'] == 1 else 's'}"
    body = "\n".join(
        [
            "<header>",
            f"<h1>{_e(title)}</h1>",
            _summary(summary),
            "</header>",
            "<main>",
            *(_unit(unit, index) for index, unit in enumerate(data["units"], 1)),
            "</main>",
            _footer(data, show_params),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _summary(summary: dict[str, Any]) -> str:
    facts = (("units", summary["units"]), ("queries", summary["queries"]), ("findings", summary["findings"]))
    parts = [f"<div><b>{_e(n)}</b> <span class='muted'>{name}</span></div>" for name, n in facts]
    kinds = [
        f"<li><span class='badge plain'>{_e(label(kind))} &times; {_e(n)}</span></li>"
        for kind, n in summary["by_kind"].items()
    ]
    listing = f"<ul class='kinds'>{''.join(kinds)}</ul>" if kinds else ""
    return f"<div class='summary'>{''.join(parts)}</div>{listing}"


def _unit(unit: dict[str, Any], index: int) -> str:
    findings = unit["findings"]
    meta = (
        f"{_e(unit['query_count'])} queries &middot; {unit['db_time_ms'] or 0:.1f} ms &middot; "
        f"{len(findings)} finding{'' if len(findings) == 1 else 's'}"
    )
    if unit["truncated"]:
        meta += f" &middot; {_e(unit['truncated'])} statements aggregated by shape"
    parts = [
        f"<section class='unit' id='unit-{index}'>",
        f"<header><h2>{_e(unit['unit'] or '(unnamed unit)')}</h2><div class='muted'>{meta}</div></header>",
        *(_finding(finding) for finding in findings),
    ]
    if not findings:
        parts.append("<p class='empty muted'>No findings.</p>")
    parts.append(_statements(unit))
    parts.append("</section>")
    return "\n".join(parts)


def _finding(finding: dict[str, Any]) -> str:
    severity = finding["severity"] if finding["severity"] in ("error", "warning", "info") else "info"
    head = (
        f"<div><span class='badge {severity}' title='{_e(finding['severity'])}'>"
        f"{_e(label(str(finding['kind'])))}</span><span class='message'>{_e(headline(finding))}</span></div>"
    )
    parts = [f"<article class='finding {severity}'>", head, _facts(finding)]
    if finding["suggestion"]:
        parts.append(f"<p class='fix'><b>Fix:</b> {_e(finding['suggestion'])}</p>")
    if finding["sql"]:
        parts.append(f"<pre class='sql'>{_e(pretty_sql(finding['sql']))}</pre>")
    if finding["plan"] is not None:
        plan = json.dumps(finding["plan"], indent=2, ensure_ascii=False)
        parts.append(f"<details><summary>Query plan</summary><pre>{_e(plan)}</pre></details>")
    parts.append("</article>")
    return "\n".join(parts)


def _facts(finding: dict[str, Any]) -> str:
    total = finding["total_duration_ms"]
    rows = [
        ("Severity", finding["severity"]),
        ("Call site", finding["callsite"]),
        ("Parent call site", finding["parent_callsite"]),
        ("Relation", finding["relation"]),
        ("Table", finding["table"]),
        ("Columns", ", ".join(map(str, finding["columns"] or ()))),
        ("Count", f"{finding['count']} times" + (f", {total:.1f} ms in total" if total is not None else "")),
        ("Database", " / ".join(str(x) for x in (finding["vendor"], finding["alias"]) if x)),
    ]
    if "params" in finding:
        rows.append(("Parameters", json.dumps(finding["params"], ensure_ascii=False)))
    items = [f"<dt>{name}</dt><dd><code>{_e(value)}</code></dd>" for name, value in rows if value]
    return f"<dl>{''.join(items)}</dl>"


def _statements(unit: dict[str, Any]) -> str:
    statements = unit["statements"]
    if not statements:
        return ""
    shown = str(len(statements))
    if isinstance(unit["query_count"], int) and len(statements) < unit["query_count"]:
        shown = f"first {len(statements)} of {unit['query_count']}"
    params = any("params" in statement for statement in statements)
    header = "<tr><th>#</th><th>ms</th><th>Alias</th><th>Call site</th><th>SQL</th>"
    header += "<th>Parameters</th></tr>" if params else "</tr>"
    rows = [_statement_row(number, statement, params) for number, statement in enumerate(statements, 1)]
    return (
        f"<details class='statements'><summary>Statements ({shown})</summary>"
        f"<table><thead>{header}</thead><tbody>{''.join(rows)}</tbody></table></details>"
    )


def _statement_row(number: int, statement: dict[str, Any], params: bool) -> str:
    ms = statement["duration_ms"]
    sql = str(statement["sql"])
    short = shorten(sql, 400)
    title = f" title='{_e(sql)}'" if short != " ".join(sql.split()) else ""
    error = ""
    if statement["error"]:
        error = f"<br><span class='badge error'>error</span> {_e(statement['error'])}"
    cells = [
        f"<td class='num'>{number}</td>",
        f"<td class='num'>{'' if ms is None else f'{ms:.2f}'}</td>",
        f"<td>{_e(statement['alias'])}</td>",
        f"<td><code>{_e(statement['callsite'])}</code></td>",
        f"<td><code{title}>{_e(short)}</code>{error}</td>",
    ]
    if params:
        cells.append(f"<td><code>{_e(json.dumps(statement.get('params'), ensure_ascii=False))}</code></td>")
    return f"<tr>{''.join(cells)}</tr>"


def _footer(data: dict[str, Any], show_params: bool) -> str:
    privacy = (
        "Parameter values are shown (show_params is on)."
        if show_params
        else "Parameter values and literals are redacted; statements are shown by shape."
    )
    return (
        f"<footer class='muted'>Generated by queryguard &middot; report schema {_e(data['schema'])} "
        f"v{_e(data['version'])} &middot; {privacy}</footer>"
    )
