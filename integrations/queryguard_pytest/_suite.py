"""The whole run, on the controller only: gather each test's findings; summarise, report, update the baseline.

Findings travel as plain data on the ``queryguard`` attribute of each test's call report: pytest keeps extra
report attributes, and pytest-xdist serialises them from its workers to the controller, which alone writes
the report and the baseline.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from queryguard import Finding, _ignore
from queryguard._guard import internal_error

from ._baseline import Baseline, Key
from ._options import Settings
from ._summary import summary_lines

_FIELDS = {field.name for field in dataclasses.fields(Finding)} - {"event", "params"}


def decode(data: dict[str, Any]) -> Finding:
    """A finding from the plain data a worker sent."""
    values = {name: value for name, value in data.items() if name in _FIELDS}
    values["columns"] = tuple(values.get("columns") or ())
    values["details"] = dict(values.get("details") or {})
    values["total_duration_ms"] = values.get("total_duration_ms") or 0.0
    return Finding(**values)


class Suite:
    """The plugin object registered on the controller when the run is analysed (``--queryguard``)."""

    def __init__(self, config: pytest.Config, settings: Settings, baseline: Baseline | None) -> None:
        self.config = config
        self.settings = settings
        self.baseline = baseline
        self.records: dict[str, dict[str, Any]] = {}
        self.notes: list[str] = []
        self.stale: list[str] = []

    def _stale(self) -> list[str]:
        """The suppressions that silenced nothing in the whole run (every worker's tests together)."""
        used: set[str] = set()
        seen: list[str] = []
        files: set[str] = set()
        for data in self.records.values():
            used.update(data.get("suppressed") or {})
            seen.extend(data.get("rules") or ())
            files.update(data.get("files") or ())
        return _ignore.unused(files, used=used, seen=seen)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "queryguard", None)
        if report.when == "call" and isinstance(data, dict):
            self.records[report.nodeid] = data

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        try:
            self.stale = self._stale()
        except Exception as exc:
            internal_error("stale suppressions", exc)
        if self.stale and self.settings.strict_ignores and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if self.settings.report is not None:
            self._write_report(self.settings.report)
        if self.settings.update_baseline and self.baseline is not None and self.settings.baseline is not None:
            self._write_baseline(self.baseline, self.settings.baseline)

    def _write_report(self, path: Path) -> None:
        from queryguard._report import Report, UnitReport

        # The report holds the findings that count: those of test code are listed in the summary only.
        units = [
            UnitReport(
                unit=nodeid,
                findings=[decode(f) for f in data["findings"] if f["status"] != "test_code"],
                query_count=int(data["queries"]),
                db_time_ms=float(data["db_time_ms"]),
            )
            for nodeid, data in self.records.items()
            if data["queries"] or data["findings"]
        ]
        try:
            Report(units).write(path)
        except Exception as exc:
            internal_error("pytest report", exc)
            self.notes.append(f"queryguard: could not write the report {self._show(path)}: {exc}")
            return
        self.notes.append(f"queryguard: report written to {self._show(path)}")

    def _write_baseline(self, baseline: Baseline, path: Path) -> None:
        results = []
        sql: dict[Key, str] = {}
        for nodeid, data in self.records.items():
            keys: Counter[Key] = Counter()
            for finding in data["findings"]:
                if finding["status"] in ("new", "known"):
                    key = (str(finding["key"][0]), str(finding["key"][1]), str(finding["key"][2]))
                    keys[key] += 1
                    sql[key] = str(finding["sql"] or "")
            results.append((nodeid, keys, bool(data["complete"])))
        baseline.update(results, self.config.rootpath, sql)
        baseline.write(path)
        known, tests = len(baseline), len(baseline.tests)
        counts = f"{known} known finding{'s' * (known != 1)} in {tests} test{'s' * (tests != 1)}"
        self.notes.append(f"queryguard: baseline {self._show(path)} updated: {counts}")

    def _show(self, path: Path) -> str:
        try:
            return os.path.relpath(path, self.config.invocation_params.dir)
        except ValueError:
            return str(path)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        terminalreporter.write_sep("-", "queryguard")
        for line in summary_lines(self.records, self.settings):
            terminalreporter.write_line(line)
        for note in self.notes:
            terminalreporter.write_line(note)
        for line in _ignore.stale_lines(self.stale):
            terminalreporter.write_line(line)
        if self.stale and self.settings.strict_ignores:
            terminalreporter.write_line("queryguard: --queryguard-strict-ignores: the run fails on them")
