"""The terminal summary of a run: findings grouped by kind and call site, then the totals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from queryguard import KINDS
from queryguard._report import headline, label
from queryguard.testing import short_shape

from ._options import Settings

_SHOWN_TESTS = 5


def _status(status: str, settings: Settings) -> str:
    if status == "forbidden" or (status == "new" and not settings.update_baseline):
        return "failing"
    return "in test code" if status == "test_code" else status


def _groups(
    records: Mapping[str, Mapping[str, Any]], settings: Settings
) -> dict[tuple[str, str, str], dict[str, Any]]:
    # One group per statement: two INSERTs from one line (a row and its parent) are two groups.
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for nodeid, data in records.items():
        for finding in data["findings"]:
            if finding["status"] == "known":
                continue
            group = groups.setdefault(
                (finding["kind"], finding["callsite"] or "", finding["fingerprint"] or ""),
                {
                    "count": 0,
                    "sql": finding["sql"],
                    "fix": finding["suggestion"],
                    "message": headline(finding),
                    "tests": {},
                },
            )
            group["count"] += int(finding["count"] or 0)
            tests = group["tests"].setdefault(_status(finding["status"], settings), [])
            if nodeid not in tests:
                tests.append(nodeid)
    return groups


def _group_lines(kind: str, site: str, group: dict[str, Any], settings: Settings) -> list[str]:
    what = f"{group['count']}x {short_shape(group['sql'])}" if group["sql"] else group["message"]
    lines = [f"  {site}: {what}" if site and group["sql"] else f"  {what}"]
    if group["fix"]:
        lines.append(f"      fix: {group['fix']}")
    for status, tests in sorted(group["tests"].items()):
        shown = tests if settings.verbose else tests[:_SHOWN_TESTS]
        more = f" and {len(tests) - len(shown)} more" if len(tests) > len(shown) else ""
        lines.append(f"      {status}: {', '.join(shown)}{more}")
    return lines


def summary_lines(records: Mapping[str, Mapping[str, Any]], settings: Settings) -> list[str]:
    """The lines of the ``queryguard`` section of the terminal summary."""
    groups = _groups(records, settings)
    order = {kind: index for index, kind in enumerate(KINDS)}
    lines: list[str] = []
    for kind in sorted({kind for kind, _, _ in groups}, key=lambda k: (order.get(k, len(order)), k)):
        sites = sorted(
            ((site, g) for (k, site, _), g in groups.items() if k == kind), key=lambda item: -item[1]["count"]
        )
        tests = {nodeid for _, group in sites for names in group["tests"].values() for nodeid in names}
        lines.append(f"{label(kind)} ({len(tests)} test{'s' if len(tests) != 1 else ''})")
        for site, group in sites:
            lines.extend(_group_lines(kind, site, group, settings))
    lines.append(_totals(records, settings))
    in_test_code = sum(f["status"] == "test_code" for data in records.values() for f in data["findings"])
    if in_test_code:
        lines.append(_test_code_note(in_test_code))
    if records and not any(int(data["queries"]) for data in records.values()):
        lines.append(NOTHING_CAPTURED)
    return lines


def _test_code_note(n: int) -> str:
    these = "1 finding" if n == 1 else f"{n} findings"
    fail, enter = ("fails", "enters") if n == 1 else ("fail", "enter")
    return (
        f"queryguard: {these} in test code (setUp, fixtures, test modules, conftest.py) {fail} no test and "
        f"{enter} no baseline; --queryguard-include-test-code counts them"
    )


#: Shown when tests ran but no statement reached queryguard: it records only what an integration hands it.
NOTHING_CAPTURED = (
    "queryguard: no SQL statement was captured. It sees what an integration records: add "
    '"queryguard_django" to INSTALLED_APPS, call queryguard_sqlalchemy.instrument(engine), or wrap a DB-API '
    "connection with queryguard.dbapi.instrument(conn)"
)


def _totals(records: Mapping[str, Mapping[str, Any]], settings: Settings) -> str:
    statuses = [_status(f["status"], settings) for data in records.values() for f in data["findings"]]
    queries = sum(int(data["queries"]) for data in records.values())
    parts = [
        f"{statuses.count(name)} {name}"
        for name in ("failing", "new", "reported", "known", "in test code")
        if name in statuses
    ]
    detail = f" ({', '.join(parts)})" if parts else ""
    tests, findings = len(records), len(statuses)
    # A test counts once however many findings failed it, as in pytest's own count of failed tests.
    failed = sum(bool(data.get("failed")) for data in records.values())
    by_us = f" ({failed} failed by queryguard)" if failed else ""
    suppressed = sum(sum((data.get("suppressed") or {}).values()) for data in records.values())
    return (
        f"queryguard: {tests} test{'s' * (tests != 1)} analysed{by_us}, "
        f"{queries} quer{'ies' if queries != 1 else 'y'}, {findings} finding{'s' * (findings != 1)}{detail}"
        + (f", {suppressed} suppressed" if suppressed else "")
    )
