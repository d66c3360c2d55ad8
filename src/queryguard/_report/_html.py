"""The HTML report: one self-contained page (inline style and script, no external asset).

It renders the already redacted data of :meth:`Report.to_dict`; every value goes through
:func:`~._html_markup.esc`. Each unit shows its statements as a timeline (:mod:`._html_timeline`), its
findings with their plans as trees (:mod:`._html_plan`), and its statements as a table; the summary's chips
filter the findings by kind. Everything but the filtering works with JavaScript off.
"""

from __future__ import annotations

import json
from typing import Any

from ._html_assets import CSS, POLICY, SCRIPT
from ._html_markup import esc, noun_of, path_text, plural
from ._html_plan import plan_html
from ._html_timeline import colours, owners, swatches, timeline
from ._model import headline, label
from ._redact import shorten

_PRETTY_MAX = 20_000  # longer statements are shown as they are: formatting them would take too long


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
    title = f"queryguard report: {plural(summary['findings'], 'finding')}"
    numbering = _Numbering()
    body = "\n".join(
        [
            "<header>",
            f"<h1>{title}</h1>",
            _summary(summary),
            "</header>",
            "<main>",
            *(_unit(unit, index, numbering) for index, unit in enumerate(data["units"], 1)),
            "</main>",
            _footer(data, show_params),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n"
        f"<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


class _Numbering:
    """Ids of the findings, unique on the page: ``f1``, ``f2``, ..."""

    def __init__(self) -> None:
        self.count = 0

    def take(self, findings: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
        start, self.count = self.count, self.count + len(findings)
        return [(f"f{start + n}", finding) for n, finding in enumerate(findings, 1)]


def _summary(summary: dict[str, Any]) -> str:
    facts = [("unit", "", summary["units"]), ("query", "queries", summary["queries"])]
    facts.append(("finding", "", summary["findings"]))
    if summary.get("suppressed"):
        facts.append(("suppressed", "suppressed", summary["suppressed"]))
    parts = [
        f"<div><b>{esc(n)}</b> <span class='muted'>{noun_of(n, one, many)}</span></div>"
        for one, many, n in facts
    ]
    if not summary["by_kind"]:
        return f"<div class='summary'>{''.join(parts)}</div>"
    chips = [
        "<button type='button' class='chip chip-all' data-kind='' aria-pressed='true'>All findings "
        f"<b>{esc(summary['findings'])}</b></button>"
    ]
    for kind, n in summary["by_kind"].items():
        name = label(kind)
        chips.append(
            f"<button type='button' class='chip' data-kind='{esc(kind)}' data-label='{esc(name)}' "
            f"aria-pressed='false'>{esc(name)} <b>{esc(n)}</b></button>"
        )
    status = "<span id='filter-status' class='muted' role='status'></span>"
    toolbar = f"<div class='kinds' role='toolbar' aria-label='Findings by kind'>{''.join(chips)}"
    toolbar += f"{status}</div>"
    return f"<div class='summary'>{''.join(parts)}</div>{toolbar}"


def _unit(unit: dict[str, Any], index: int, numbering: _Numbering) -> str:
    findings = numbering.take(unit["findings"])
    prefix = f"u{index}"
    owned = owners(findings, unit["statements"])
    colour = colours(findings, owned)
    swatch = swatches(colour, owned)
    meta = (
        f"{plural(unit['query_count'], 'query', 'queries')} &middot; "
        f"{unit['db_time_ms'] or 0:.1f} ms &middot; "
        f"{plural(len(findings), 'finding')}"
    )
    if unit["truncated"]:
        meta += f" &middot; {plural(unit['truncated'], 'statement')} aggregated by shape"
    parts = [
        f"<section class='unit' id='{prefix}'>",
        f"<header><h2>{esc(unit['unit'] or '(unnamed unit)')}</h2><div class='muted'>{meta}</div></header>",
        timeline(unit, prefix, findings, owned),
        *(_finding(ident, finding, swatch.get(ident)) for ident, finding in findings),
    ]
    if not findings:
        parts.append("<p class='empty muted'>No findings.</p>")
    parts.append(_statements(unit, prefix, [colour.get(found[0], "") if found else "" for found in owned]))
    parts.append("</section>")
    return "\n".join(parts)


def _finding(ident: str, finding: dict[str, Any], colour: str | None) -> str:
    severity = finding["severity"] if finding["severity"] in ("error", "warning", "info") else "info"
    swatch = f"<span class='swatch {colour}' title='its bars in the timeline'></span>" if colour else ""
    head = (
        f"<div>{swatch}<span class='badge {severity}' title='{esc(finding['severity'])}'>"
        f"{esc(label(str(finding['kind'])))}</span>"
        f"<span class='message'>{esc(headline(finding))}</span></div>"
    )
    parts = [
        f"<article class='finding {severity}' id='{ident}' data-kind='{esc(finding['kind'])}'>",
        head,
        _facts(finding),
    ]
    if finding["suggestion"]:
        parts.append(f"<p class='fix'><b>Fix:</b> {esc(finding['suggestion'])}</p>")
    if finding["sql"]:
        parts.append(f"<pre class='sql'>{esc(pretty_sql(finding['sql']))}</pre>")
    if finding["plan"] is not None:
        parts.append("<details class='plan-box' open><summary>Query plan</summary>")
        parts.append(f"{plan_html(finding['plan'])}</details>")
    parts.append("</article>")
    return "\n".join(parts)


def _facts(finding: dict[str, Any]) -> str:
    total = finding["total_duration_ms"]
    count = plural(finding["count"], "time") + (f", {total:.1f} ms in total" if total is not None else "")
    rows = [
        ("Severity", esc(finding["severity"])),
        ("Call site", path_text(finding["callsite"])),
        ("Parent call site", path_text(finding["parent_callsite"])),
        ("Relation", esc(finding["relation"])),
        ("Table", esc(finding["table"])),
        ("Columns", esc(", ".join(map(str, finding["columns"] or ())))),
        ("Count", count),
        ("Database", esc(" / ".join(str(x) for x in (finding["vendor"], finding["alias"]) if x))),
    ]
    if "params" in finding:
        rows.append(("Parameters", esc(json.dumps(finding["params"], ensure_ascii=False))))
    items = [f"<dt>{name}</dt><dd><code class='site'>{value}</code></dd>" for name, value in rows if value]
    return f"<dl>{''.join(items)}</dl>"


def _statements(unit: dict[str, Any], prefix: str, colour: list[str]) -> str:
    statements = unit["statements"]
    if not statements:
        return ""
    shown = str(len(statements))
    if isinstance(unit["query_count"], int) and len(statements) < unit["query_count"]:
        shown = f"first {len(statements)} of {unit['query_count']}"
    params = any("params" in statement for statement in statements)
    header = "<tr><th>#</th><th>at ms</th><th>ms</th><th>Alias</th><th>Call site</th><th>SQL</th>"
    header += "<th>Parameters</th></tr>" if params else "</tr>"
    rows = [
        _statement_row(number, statement, params, f"{prefix}-s{number}", colour[number - 1])
        for number, statement in enumerate(statements, 1)
    ]
    return (
        f"<details class='statements'><summary>Statements ({shown})</summary>"
        f"<table><thead>{header}</thead><tbody>{''.join(rows)}</tbody></table></details>"
    )


def _statement_row(number: int, statement: dict[str, Any], params: bool, ident: str, colour: str) -> str:
    ms, start = statement["duration_ms"], statement.get("start_ms")
    sql = str(statement["sql"])
    short = shorten(sql, 400)
    title = f" title='{esc(sql)}'" if short != " ".join(sql.split()) else ""
    error = ""
    if statement["error"]:
        error = f"<br><span class='badge error'>error</span> {esc(statement['error'])}"
    cells = [
        f"<td class='num'><span class='swatch {colour}'></span>{number}</td>",
        f"<td class='num'>{'' if start is None else f'{start:.2f}'}</td>",
        f"<td class='num'>{'' if ms is None else f'{ms:.2f}'}</td>",
        f"<td>{esc(statement['alias'])}</td>",
        f"<td><code class='site'>{path_text(statement['callsite'])}</code></td>",
        f"<td><code{title}>{esc(short)}</code>{error}</td>",
    ]
    if params:
        cells.append(f"<td><code>{esc(json.dumps(statement.get('params'), ensure_ascii=False))}</code></td>")
    return f"<tr id='{ident}'>{''.join(cells)}</tr>"


def _footer(data: dict[str, Any], show_params: bool) -> str:
    privacy = (
        "Parameter values are shown (show_params is on)."
        if show_params
        else "Parameter values and literals are redacted; statements are shown by shape."
    )
    return (
        f"<footer class='muted'>Generated by queryguard &middot; report schema {esc(data['schema'])} "
        f"v{esc(data['version'])} &middot; {privacy}</footer>"
    )
