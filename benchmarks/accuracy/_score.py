"""Judge what queryguard reported against what a perfect tool reports: precision, recall, misses, false
positives.

A finding matches an expectation when their kinds are equal, the finding's call site is the expectation's
line of the case's file, and (when the expectation names relations) the finding names one of them. Each
finding matches one expectation at most. Only the kinds of ``_corpus.SCORED_KINDS`` are judged.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import _corpus

_SITE = re.compile(r"^(?P<path>.+?):(?P<line>\d+)(?: in .*)?$")
_ITEM = re.compile(r"\(item (\d)\)")
#: The defect classes of issue 13 that a case's docstring names as "(item N)".
ITEMS = {
    "1": "a loop is one place in the program",
    "2": "two writes are enough for a write loop",
    "3": "the ORM's word wins over parameter equality",
    "4": "a page is judged by what it asked for",
    "5": "literal SQL in a loop",
    "6": "the database is part of a statement's identity",
    "7": "select_star means a select list the user wrote",
    "8": "name every relation kind",
}


@dataclasses.dataclass
class Tally:
    """Counts of one slice of the results (an ORM, a database, both, or everything)."""

    matched: int = 0
    missed: int = 0
    false: int = 0
    cases: int = 0
    negatives: int = 0
    clean_negatives: int = 0

    def add(self, other: Tally) -> None:
        for field in dataclasses.fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    @property
    def precision(self) -> float | None:
        found = self.matched + self.false
        return self.matched / found if found else None

    @property
    def recall(self) -> float | None:
        expected = self.matched + self.missed
        return self.matched / expected if expected else None


@dataclasses.dataclass
class Judged:
    """One case on one database: its tally, its unmatched expectations and its unmatched findings."""

    result: dict[str, Any]
    tally: Tally
    misses: list[dict[str, Any]]
    false: list[dict[str, Any]]


def site_of(callsite: str) -> tuple[str, int] | None:
    """``(absolute path, line)`` of a finding's ``path:line in function`` call site."""
    match = _SITE.match(callsite or "")
    if match is None:
        return None
    return os.path.abspath(match["path"]), int(match["line"])


def _matches(expected: dict[str, Any], found: dict[str, Any], path: str) -> bool:
    if expected["kind"] != found["kind"] or site_of(found["callsite"]) != (path, expected["line"]):
        return False
    relations = expected["relations"]
    return not relations or found["relation"] in relations


def judge(result: dict[str, Any]) -> Judged:
    """Match one result's findings to its expectations."""
    path = os.path.abspath(result["path"])
    found = [f for f in result["found"] if f["kind"] in _corpus.SCORED_KINDS]
    # Expectations that name a relation first: an unnamed one must not take the finding a named one needs.
    expected = sorted(result["expected"], key=lambda e: e["relations"] is None)
    unmatched = list(found)
    misses = []
    for item in expected:
        hit = next((f for f in unmatched if _matches(item, f, path)), None)
        if hit is None:
            misses.append(item)
        else:
            unmatched.remove(hit)
    negative = not result["expected"]
    tally = Tally(
        matched=len(expected) - len(misses),
        missed=len(misses),
        false=len(unmatched),
        cases=1,
        negatives=int(negative),
        clean_negatives=int(negative and not unmatched and not result["error"]),
    )
    return Judged(result, tally, misses, unmatched)


def _ratio(value: float | None) -> str:
    return "   -" if value is None else f"{value:.2f}"


def table(rows: Iterable[tuple[str, Tally]], title: str) -> list[str]:
    """A Markdown table of tallies."""
    lines = [
        f"| {title} | precision | recall | expected | reported | matched | missed | false + "
        "| runs | negative runs (clean) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, t in rows:
        lines.append(
            f"| {name} | {_ratio(t.precision)} | {_ratio(t.recall)} | {t.matched + t.missed} "
            f"| {t.matched + t.false} | {t.matched} | {t.missed} | {t.false} | {t.cases} "
            f"| {t.negatives} ({t.clean_negatives}) |"
        )
    return lines


def tallies(judged: list[Judged]) -> dict[tuple[str, str], Tally]:
    """Tallies per (ORM, database), per ORM (``(orm, "")``), per database (``("", db)``) and in all."""
    out: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for item in judged:
        orm, database = item.result["orm"], item.result["database"]
        for key in ((orm, database), (orm, ""), ("", database), ("", "")):
            out[key].add(item.tally)
    return out


def _where(path: str, line: int) -> str:
    return f"{os.path.relpath(path)}:{line}"


def _expected_text(item: dict[str, Any]) -> str:
    relation = "|".join(item["relations"]) if item["relations"] else "-"
    return f"{item['kind']} {relation}"


def _found_text(item: dict[str, Any]) -> str:
    site = site_of(item["callsite"])
    where = _where(*site) if site else (item["callsite"] or "no call site")
    return f"{item['kind']} {item['relation'] or '-'} at {where} (x{item['count']})"


def listing(judged: list[Judged]) -> list[str]:
    """Every miss and every false positive, the same one on several databases listed once."""
    misses: dict[tuple[str, ...], list[str]] = defaultdict(list)
    false: dict[tuple[str, ...], list[str]] = defaultdict(list)
    errors: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for item in judged:
        result = item.result
        path, database = os.path.abspath(result["path"]), result["database"]
        label = f"{result['orm']}/{result['case']}"
        reported = [f for f in result["found"] if f["kind"] in _corpus.SCORED_KINDS]
        reported_text = "; ".join(map(_found_text, reported)) or "nothing"
        for miss in item.misses:
            key = (label, _where(path, miss["line"]), _expected_text(miss), reported_text, result["note"])
            misses[key].append(database)
        for extra in item.false:
            key = (label, _found_text(extra), extra["message"], result["note"])
            false[key].append(database)
        if result["error"]:
            errors[(label, result["error"].strip().splitlines()[-1])].append(database)
    lines = [f"### Misses ({sum(len(v) for v in misses.values())})", ""]
    for (label, where, wanted, reported, note), databases in sorted(misses.items()):
        lines.append(f"* {label} [{', '.join(databases)}] ({note})")
        lines.append(f"  expected {wanted} at {where}; reported: {reported}")
    lines += ["", f"### False positives ({sum(len(v) for v in false.values())})", ""]
    for (label, found, message, note), databases in sorted(false.items()):
        lines.append(f"* {label} [{', '.join(databases)}] ({note})")
        lines.append(f"  reported {found}: {message}")
    if errors:
        lines += ["", f"### Cases that raised ({sum(len(v) for v in errors.values())})", ""]
        for (label, error), databases in sorted(errors.items()):
            lines.append(f"* {label} [{', '.join(databases)}]: {error}")
    return lines


def by_item(judged: list[Judged]) -> list[str]:
    """Misses and false positives per defect class of issue 13 (the cases' "(item N)")."""
    rows: dict[str, Tally] = defaultdict(Tally)
    names: dict[str, set[str]] = defaultdict(set)
    for item in judged:
        match = _ITEM.search(item.result["note"])
        key = match[1] if match else "-"
        rows[key].add(item.tally)
        names[key].add(item.result["case"])
    lines = [
        "| defect class (issue 13) | cases | runs | expected | matched | missed | false + |",
        "|---|---|---|---|---|---|---|",
    ]
    for key in sorted(rows):
        t = rows[key]
        label = f"{key}. {ITEMS[key]}" if key in ITEMS else "no class named (the usual shapes)"
        lines.append(
            f"| {label} | {len(names[key])} | {t.cases} | {t.matched + t.missed} | {t.matched} "
            f"| {t.missed} | {t.false} |"
        )
    return lines
