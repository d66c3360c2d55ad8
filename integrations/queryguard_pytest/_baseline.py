"""The baseline: known findings that do not fail their test, so only new ones fail the run.

A finding is known by its test's node id, its kind, its call site without the line number (``path in
function``, the path relative to the root directory, so an edit elsewhere in the file does not make it new)
and the fingerprint of its statement's shape. The file is JSON with sorted keys, the same on every machine.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pytest

from queryguard._report import split_callsite

SCHEMA = "queryguard-baseline"
VERSION = 1
#: (kind, call site without line, statement fingerprint)
Key = tuple[str, str, str]


def site_key(callsite: str, rootdir: Path) -> str:
    """``shop/views.py:42 in book_list`` -> ``shop/views.py in book_list``, relative to ``rootdir``."""
    path, _line, function = split_callsite(callsite)
    if path and os.path.exists(path):
        absolute = os.path.abspath(path)
        try:
            path = os.path.relpath(absolute, rootdir)
        except ValueError:  # another drive
            path = absolute
        path = path.replace(os.sep, "/")
    return f"{path} in {function}" if function else path


def finding_key(kind: str, callsite: str, fingerprint: str, rootdir: Path) -> Key:
    """The baseline key of one finding."""
    return (kind, site_key(callsite, rootdir), fingerprint)


class Baseline:
    """Known findings per test node id, each key with the number of times it occurs in the test."""

    def __init__(self, tests: Mapping[str, Counter[Key]] | None = None, sql: Mapping[Key, str] | None = None):
        self.tests: dict[str, Counter[Key]] = {
            nodeid: Counter(keys) for nodeid, keys in (tests or {}).items()
        }
        self.sql: dict[Key, str] = dict(sql or {})

    @classmethod
    def load(cls, path: Path) -> Baseline:
        """Read ``path``; a missing file is an empty baseline, an unreadable one a usage error."""
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("schema") != SCHEMA or data.get("version") != VERSION:
                raise ValueError(f"not a {SCHEMA} version {VERSION} file")
            tests: dict[str, Counter[Key]] = {}
            sql: dict[Key, str] = {}
            for nodeid, entries in data["tests"].items():
                counts = tests.setdefault(nodeid, Counter())
                for entry in entries:
                    key = (entry["kind"], entry["callsite"], entry["fingerprint"])
                    counts[key] += int(entry.get("occurrences", 1))
                    sql[key] = str(entry.get("sql", ""))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise pytest.UsageError(f"queryguard: cannot read the baseline {path}: {exc}") from exc
        return cls(tests, sql)

    def known(self, nodeid: str, keys: Sequence[Key]) -> list[bool]:
        """For each key in order, whether the baseline still has an occurrence of it left for ``nodeid``."""
        left = Counter(self.tests.get(nodeid, Counter()))
        found = []
        for key in keys:
            found.append(left[key] > 0)
            left[key] -= 1
        return found

    def update(
        self, results: Iterable[tuple[str, Counter[Key], bool]], rootdir: Path, sql: Mapping[Key, str]
    ) -> None:
        """Apply the findings of the tests that ran: ``(nodeid, keys, complete)``.

        A complete test (it ran to its end) gets exactly its findings; an incomplete one (it failed
        early, its worker crashed) only gains new ones. Tests that did not run keep theirs, unless
        their file is gone. ``sql`` gives the shape shown next to each key.
        """
        self.sql.update(sql)
        for nodeid, keys, complete in results:
            merged = keys if complete else self.tests.get(nodeid, Counter()) | keys
            if +merged:
                self.tests[nodeid] = +merged
            else:
                self.tests.pop(nodeid, None)
        for nodeid in list(self.tests):
            if not (rootdir / nodeid.split("::")[0]).exists():
                del self.tests[nodeid]

    def to_json(self) -> str:
        """The file's text: sorted, with relative paths only, stable across runs and machines."""
        tests = {
            nodeid: [
                {
                    "kind": k,
                    "callsite": c,
                    "fingerprint": f,
                    "sql": self.sql.get((k, c, f), ""),
                    "occurrences": n,
                }
                for (k, c, f), n in sorted(counts.items())
            ]
            for nodeid, counts in sorted(self.tests.items())
        }
        return (
            json.dumps({"schema": SCHEMA, "version": VERSION, "tests": tests}, indent=2, sort_keys=True)
            + "\n"
        )

    def write(self, path: Path) -> None:
        """Write the baseline (through a temporary file, so a reader never sees half of it)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(self.to_json(), encoding="utf-8")
        os.replace(temporary, path)

    def __len__(self) -> int:
        return sum(sum(counts.values()) for counts in self.tests.values())
