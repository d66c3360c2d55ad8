"""The SARIF 2.1.0 report, for code-scanning tools (GitHub code scanning, editors).

It renders the already redacted data of :meth:`Report.to_dict`. A finding that several units share (the
same N+1 loop hit by ten tests) is one result that lists its units.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any
from urllib.parse import quote

from .._version import __version__
from ._model import split_callsite

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/queryguard/"
FINGERPRINT_KEY = "queryguard/v1"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}
_DRIVE = re.compile(r"^[A-Za-z]:/")

#: kind -> (short description, help)
_RULES = {
    "n_plus_one": (
        "The same statement runs once per row of an earlier query (N+1).",
        "Load the related rows with the first query: select_related/prefetch_related in Django, "
        "selectinload/joinedload in SQLAlchemy.",
    ),
    "duplicate_query": (
        "The identical statement with identical parameters runs more than once in one unit.",
        "Reuse the first result, or cache it.",
    ),
    "write_loop": (
        "The same single-row INSERT, UPDATE or DELETE runs in a loop.",
        "Write the rows with one statement: bulk_create/bulk_update in Django, executemany or "
        "insert().values([...]) in SQLAlchemy.",
    ),
    "select_star": (
        "SELECT * loads every column of the table.",
        "Name the columns the code needs: .only()/.values() in Django, load_only() or select(columns) in "
        "SQLAlchemy.",
    ),
    "slow_query": (
        "A statement is slower than the configured limit.",
        "Read its EXPLAIN plan: add the index it needs, or load less data.",
    ),
    "query_budget": (
        "The unit ran more queries, or spent more database time, than its budget.",
        "Fix the N+1 and duplicate findings first; raise the budget only if the work needs it.",
    ),
    "blocking_query": (
        "A synchronous database call ran on the thread of a running event loop.",
        "Use the async API (an async driver, AsyncSession, sync_to_async) so other requests are not stalled.",
    ),
    "full_scan": (
        "The plan reads a whole table to find a few rows.",
        "Create an index on the filtered columns.",
    ),
    "sort_spill": ("A sort spilled to disk.", "Add an index that matches ORDER BY, or sort fewer rows."),
    "temp_sort": (
        "The plan sorts rows in a temporary structure.",
        "Add an index that returns rows in the ORDER BY or GROUP BY order.",
    ),
    "misestimate": (
        "The planner's row estimate is far from the actual row count.",
        "Refresh the table's statistics (ANALYZE); consider extended statistics for correlated columns.",
    ),
    "function_on_column": (
        "A function wraps a filtered column, so no plain index can be used.",
        "Compare the bare column, or create an expression index.",
    ),
    "large_offset": (
        "A large OFFSET reads and discards many rows.",
        "Paginate by key (WHERE id > last seen id) instead of OFFSET.",
    ),
    "unindexed_join": ("A join column has no index.", "Create an index on the join column."),
    "unused_eager_load": (
        "An eager load fetched related objects that no code read.",
        "Drop the path from select_related/prefetch_related or the loader option.",
    ),
    "loop_stall": (
        "One step of the event loop held it past loop_stall_ms: every other task waited.",
        "Await the async form (asyncio.sleep, an async client), or run the work off the loop "
        "(asyncio.to_thread, a process pool for CPU work).",
    ),
    "sequential_awaits": (
        "Independent slow reads were awaited one after another in one task.",
        "Run them concurrently (asyncio.TaskGroup or gather, one session per task), or combine the queries.",
    ),
}


def render_sarif(data: dict[str, Any]) -> str:
    """The SARIF 2.1.0 log of a report's data (see :meth:`Report.to_dict`)."""
    results = _results(data["units"])
    kinds = list(dict.fromkeys(result["ruleId"] for result in results))
    for result in results:
        result["ruleIndex"] = kinds.index(result["ruleId"])
    driver: dict[str, Any] = {
        "name": "queryguard",
        "informationUri": INFORMATION_URI,
        "rules": [_rule(kind) for kind in kinds],
    }
    driver["version"] = __version__
    run: dict[str, Any] = {"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}
    summary = data.get("summary") or {}
    # Suppressed findings are not results (a code scanning tool would show them): the run's properties
    # say how many there were and which rule silenced them.
    run["properties"] = {
        "suppressed": summary.get("suppressed", 0),
        "suppressedByRule": dict(summary.get("suppressed_by_rule") or {}),
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False)


def _rule(kind: str) -> dict[str, Any]:
    short, help_text = _RULES.get(kind, (f"queryguard finding of kind {kind}.", "See the finding's message."))
    return {
        "id": kind,
        "name": "".join(part.capitalize() for part in kind.split("_")),
        "shortDescription": {"text": short},
        "help": {"text": help_text},
        "properties": {"tags": ["performance", "database"]},
    }


def _results(units: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for unit in units:
        for finding in unit["findings"]:
            result = _result(finding)
            key = (result["ruleId"], str(finding["fingerprint"]), str(finding["callsite"]))
            first = merged.setdefault(key, result)
            if first is not result:
                first["properties"]["count"] += result["properties"]["count"]
            if unit["unit"] not in first["properties"]["units"]:
                first["properties"]["units"].append(unit["unit"])
    return list(merged.values())


def _result(finding: dict[str, Any]) -> dict[str, Any]:
    kind = str(finding["kind"])
    path, line, function = split_callsite(finding["callsite"])
    uri = artifact_uri(path) if path else ""
    result: dict[str, Any] = {
        "ruleId": kind,
        "level": _LEVELS.get(str(finding["severity"]), "warning"),
        "message": {"text": str(finding["message"] or kind)},
    }
    if uri and line is not None and line >= 1:
        location: dict[str, Any] = {
            "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line}}
        }
        if function:
            location["logicalLocations"] = [{"name": function, "kind": "function"}]
        result["locations"] = [location]
    result["partialFingerprints"] = {FINGERPRINT_KEY: f"{kind}:{finding['fingerprint']}:{uri}"}
    result["properties"] = {
        "count": finding["count"] if isinstance(finding["count"], int) else 0,
        "units": [],
        "sql": finding["sql"],
        "suggestion": finding["suggestion"],
        "relation": finding["relation"],
    }
    return result


def artifact_uri(path: str) -> str:
    """A SARIF artifact URI: relative to the working directory when under it, forward slashes."""
    path = path.replace("\\", "/")
    cwd = os.getcwd().replace("\\", "/").rstrip("/") + "/"
    if path.startswith(cwd):
        path = path[len(cwd) :]
    while path.startswith("./"):
        path = path[2:]
    if _DRIVE.match(path):
        return "file:///" + quote(path, safe="/:")
    if path.startswith("/"):
        return "file://" + quote(path, safe="/")
    return quote(path, safe="/")
