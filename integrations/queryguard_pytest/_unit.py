"""One test's capture: started for the test body, judged against the marker, the options and the baseline."""

from __future__ import annotations

from typing import Any

import pytest

from queryguard import Capture, Config, ConfigurationError, Finding, _ignore
from queryguard._guard import internal_error
from queryguard._plural import plural
from queryguard._report import finding_dict
from queryguard.testing import REPEATS, count_queries, failure_message, tally

from . import _marker
from ._baseline import Baseline, Key, finding_key
from ._options import SETTINGS, Settings
from ._scaffolding import SCAFFOLDING

UNIT = pytest.StashKey["Unit"]()
SPEC = pytest.StashKey["_marker.Spec | None"]()
IN_CALL = pytest.StashKey[bool]()
BASELINE = pytest.StashKey[Baseline]()
#: Statuses of a finding: it fails the test whatever the baseline says, it is new, known, or only reported;
#: ``test_code``: its call site is test scaffolding (see ``_scaffolding``), listed but counted for nothing.
FAILING = ("forbidden", "new")


def spec_of(item: pytest.Item) -> _marker.Spec | None:
    """The test's marker settings, read once (a mistake in them raises ``ConfigurationError``)."""
    if SPEC not in item.stash:
        item.stash[SPEC] = _marker.read(item)
    return item.stash[SPEC]


class Unit:
    """The capture of one test and what queryguard decided about it."""

    def __init__(self, item: pytest.Item, settings: Settings, spec: _marker.Spec | None) -> None:
        self.item = item
        self.settings = settings
        self.spec = spec
        self.capture = Capture(spec.config if spec else Config(action="none"), name=item.nodeid)
        self.running = False
        self.failed = False
        self.findings: list[Finding] = []
        self.statuses: list[str] = []
        self.keys: list[Key] = []

    @classmethod
    def of(cls, item: pytest.Item) -> Unit:
        """The unit of ``item``, created on first use; it starts at once if the test body is running."""
        unit = item.stash.get(UNIT, None)
        if unit is None:
            unit = item.stash[UNIT] = cls(item, item.config.stash[SETTINGS], spec_of(item))
        if item.stash.get(IN_CALL, False):
            unit.start()
        return unit

    def start(self) -> None:
        """Start capturing (once)."""
        if not self.running and self.capture.ended is None:
            self.capture.start()
            self.running = True

    def stop(self) -> None:
        """Stop capturing and classify the findings; queryguard's own errors never fail the test."""
        if not self.running:
            return
        self.running = False
        self.capture.stop(act=True)
        try:
            self._classify()
        except Exception as exc:
            internal_error("pytest plugin", exc)
            self.findings, self.statuses, self.keys = [], [], []

    def _classify(self) -> None:
        settings, forbid = self.settings, self.spec.forbid if self.spec else frozenset()
        fail_on = settings.fail_on if settings.enabled else frozenset()
        rootdir = self.item.config.rootpath
        self.findings = list(self.capture.findings)
        self.keys = [finding_key(f.kind, f.callsite, f.fingerprint, rootdir) for f in self.findings]
        scaffolding = self.item.config.stash.get(SCAFFOLDING, None) if settings.enabled else None
        self.statuses = [
            "forbidden"
            if f.kind in forbid or f.kind == "query_budget"
            else "test_code"
            if scaffolding is not None and f.callsite in scaffolding
            else "new"
            if f.kind in fail_on
            else "reported"
            for f in self.findings
        ]
        baseline = self.item.config.stash.get(BASELINE, None)
        candidates = [index for index, status in enumerate(self.statuses) if status == "new"]
        if baseline is not None and candidates:
            known = baseline.known(self.item.nodeid, [self.keys[index] for index in candidates])
            for index, is_known in zip(candidates, known, strict=True):
                if is_known:
                    self.statuses[index] = "known"

    def failure(self) -> str | None:
        """The message that fails the test, or None."""
        failing = [
            f
            for f, status in zip(self.findings, self.statuses, strict=True)
            if status == "forbidden" or (status == "new" and not self.settings.update_baseline)
        ]
        if not failing:
            return None
        others = [f for f in failing if f.kind != "query_budget"]
        parts = self._budget_parts() if len(others) < len(failing) else []
        if others:
            total = count_queries(self.capture)["total"]
            lead = "and" if parts else f"ran {plural(total, 'query', 'queries')} with"
            parts.append(f"{lead} {tally(others)} (none allowed)")
        explain = others + [
            f
            for f, status in zip(self.findings, self.statuses, strict=True)
            if f.kind in REPEATS and f not in others and status != "test_code"
        ]
        return failure_message(
            f"{self.item.name} {' '.join(parts)}", explain, self.capture, verbose=self.settings.verbose
        )

    def _budget_parts(self) -> list[str]:
        config, parts = self.capture.config, []
        total = count_queries(self.capture)["total"]
        if config.max_queries is not None and total > config.max_queries:
            parts.append(f"ran {plural(total, 'query', 'queries')} (at most {config.max_queries} allowed)")
        if config.max_db_time_ms is not None and self.capture.db_time_ms > config.max_db_time_ms:
            limit = f"at most {config.max_db_time_ms:g} ms allowed"
            spent = f"spent {self.capture.db_time_ms:.1f} ms in the database ({limit})"
            parts.append(f"and {spent}" if parts else spent)
        return parts

    def wire(self, *, complete: bool) -> dict[str, Any]:
        """What the controller needs for the summary, the report, the baseline and the stale suppressions
        (plain data for xdist)."""
        return {
            "suppressed": _ignore.counts(self.capture.suppressed),
            "files": sorted(_ignore.files_of(self.capture)),
            "rules": _new_rules(),
            "nodeid": self.item.nodeid,
            "queries": count_queries(self.capture)["total"],
            "db_time_ms": round(self.capture.db_time_ms, 3),
            "complete": complete,
            "failed": self.failed,
            "findings": [
                {**finding_dict(f), "status": status, "key": list(key)}
                for f, status, key in zip(self.findings, self.statuses, self.keys, strict=True)
            ],
        }


_rules_sent = [0]


def _new_rules() -> list[str]:
    """The suppressions this process saw since the last test (the controller lists the stale ones)."""
    rules = _ignore.rules()
    new, _rules_sent[0] = rules[_rules_sent[0] :], len(rules)
    return [rule.label for rule in new]


def marker_error(item: pytest.Item) -> str | None:
    """The message for a mistake in the test's markers, or None."""
    try:
        spec_of(item)
    except ConfigurationError as exc:
        return f"queryguard marker of {item.name}: {exc}"
    return None
