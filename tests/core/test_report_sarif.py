"""Reports as SARIF 2.1.0: rules, levels, locations, fingerprints and shared findings."""

from __future__ import annotations

import importlib.metadata
import json

import pytest

import queryguard
from queryguard._report import Report, UnitReport

from ._reports import make_finding, make_report


@pytest.mark.parametrize(
    ("severity", "level"),
    [("error", "error"), ("warning", "warning"), ("info", "note")],
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
