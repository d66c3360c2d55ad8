"""The HTML report as a browser renders it: Debian's headless Chromium, driven by selenium.

Selenium is pointed at the system's ``chromedriver`` and ``chromium`` and never fetches a browser of its own.
Without them the tests skip and say why, except in CI, where they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from queryguard._report import Report, UnitReport

from ._reports import make_event, make_finding
from .test_report_html import HOSTILE, timed_report

DRIVER = Path("/usr/bin/chromedriver")
BROWSER = Path("/usr/bin/chromium")


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -r requirements-test.txt)"
    absent = [str(path) for path in (DRIVER, BROWSER) if not shutil.which(str(path))]
    if absent:
        return f"{' and '.join(absent)} missing (apt-get install chromium chromium-driver)"
    return None


def _browser(*, javascript: bool = True) -> Any:
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(BROWSER)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(service=Service(str(DRIVER)), options=options)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module's tests."""
    driver = _browser()
    yield driver
    driver.quit()


@pytest.fixture
def show(browser: Any, tmp_path: Path) -> Iterator[Any]:
    """Load a report into the browser; afterwards the console must hold no error."""

    def load(report: Report) -> Any:
        page = tmp_path / "report.html"
        page.write_text(report.to_html(), encoding="utf-8")
        browser.get(page.as_uri())
        return browser

    yield load
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []


def box(element: Any) -> dict[str, float]:
    script = "return arguments[0].getBoundingClientRect().toJSON()"
    return dict(element.parent.execute_script(script, element))


def test_bars_are_placed_and_sized_by_time(show: Any) -> None:
    """Each bar's left edge and width are proportional to its statement's start and duration."""
    driver = show(timed_report())
    bars = driver.find_elements("css selector", ".bar")
    assert len(bars) == 6
    track = box(driver.find_element("css selector", ".track"))
    boxes = {bar.get_attribute("href").rpartition("#")[2]: box(bar) for bar in bars}
    scale = track["width"] / 105  # the span of the unit, in ms
    expected = {1: (0, 10), 2: (10, 10), 3: (30, 20), 4: (50, 40), 5: (90, 5), 6: (100, 5)}
    for n, (start, ms) in expected.items():
        placed = boxes[f"u1-s{n}"]
        assert placed["left"] - track["left"] == pytest.approx(start * scale, abs=1)
        assert placed["width"] == pytest.approx(ms * scale, abs=1)
    n_plus_one = [bar for bar in bars if bar.get_attribute("data-f") == "f1"]
    assert len({bar.value_of_css_property("background-color") for bar in n_plus_one}) == 1
    other = driver.find_element("css selector", ".bar[href$='#u1-s1']")
    assert other.value_of_css_property("background-color") not in {
        bar.value_of_css_property("background-color") for bar in n_plus_one
    }


def test_chips_filter_findings_and_light_their_bars(show: Any) -> None:
    """A kind's chip shows only its findings and lights their bars; pressing it again shows all."""
    driver = show(timed_report())
    findings = {f.get_attribute("id"): f for f in driver.find_elements("css selector", "article.finding")}
    chip = driver.find_element("css selector", "button.chip[data-kind='duplicate_query']")
    chip.click()
    assert chip.get_attribute("aria-pressed") == "true"
    assert not findings["f1"].is_displayed() and findings["f2"].is_displayed()
    lit = [bar.get_attribute("href")[-5:] for bar in driver.find_elements("css selector", ".bar.hit")]
    assert lit == ["u1-s5", "u1-s6"]
    assert driver.find_element("id", "filter-status").text == "Showing only: duplicate"
    dimmed = driver.find_element("css selector", ".bar:not(.hit)")
    assert float(dimmed.value_of_css_property("opacity")) < 0.5
    chip.click()
    assert findings["f1"].is_displayed() and findings["f2"].is_displayed()
    assert driver.find_elements("css selector", ".bar.hit") == []


def test_bar_leads_to_its_statement(show: Any) -> None:
    """Clicking a bar opens the statements and shows its row."""
    driver = show(timed_report())
    driver.find_element("css selector", ".bar[href$='#u1-s4']").click()
    row = driver.find_element("id", "u1-s4")
    assert row.is_displayed() and "shop_author" in row.text


def test_hostile_values_are_text(show: Any) -> None:
    """Markup in a statement, call site, kind or unit name is shown as text: no element, no script runs."""
    finding = make_finding(sql=f"SELECT '{HOSTILE}'", callsite=HOSTILE, kind=HOSTILE, message=HOSTILE)
    statement = make_event(f"SELECT 1 /* {HOSTILE} */", callsite=HOSTILE, started=1000.0)
    driver = show(Report([UnitReport(HOSTILE, [finding], statements=[statement])], show_params=True))
    assert driver.find_elements("css selector", "img") == []
    assert driver.execute_script("return document.scripts.length") == 1
    assert driver.find_element("css selector", "h2").text == HOSTILE
    site = driver.find_element("xpath", "//article//dt[text()='Call site']/following-sibling::dd[1]")
    assert site.text == HOSTILE
    chip = driver.find_element("css selector", "button.chip:not(.chip-all)")
    assert chip.get_attribute("data-kind") == HOSTILE
    chip.click()  # the kind reaches the script as data, and the filter still works
    assert driver.find_element("css selector", "article.finding").is_displayed()
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018


def test_plan_tree_collapses(show: Any) -> None:
    """A plan shows as a tree whose nodes fold away, with the raw plan closed below it."""
    plan = {"Plan": {"Node Type": "Sort", "Plans": [{"Node Type": "Seq Scan", "Relation Name": "review"}]}}
    driver = show(Report([UnitReport("GET /", [make_finding(plan=plan)])]))
    scan = driver.find_element("xpath", "//span[@class='node-title'][text()='Seq Scan on review']")
    assert scan.is_displayed()
    driver.find_element("xpath", "//summary[span[text()='Sort']]").click()
    assert not scan.is_displayed()
    assert not driver.find_element("css selector", "details.raw pre").is_displayed()


def test_essential_content_without_javascript(tmp_path: Path) -> None:
    """With JavaScript off the findings, the timeline and its caption are all there."""
    driver = _browser(javascript=False)
    try:
        page = tmp_path / "report.html"
        page.write_text(timed_report().to_html(), encoding="utf-8")
        driver.get(page.as_uri())
        findings = driver.find_elements("css selector", "article.finding")
        assert len(findings) == 2 and all(f.is_displayed() for f in findings)
        assert "Book.author" in findings[0].text and "Fix:" in findings[0].text
        assert len(driver.find_elements("css selector", ".bar")) == 6
        assert "Timeline of 6 statements" in driver.find_element("css selector", "figcaption").text
        assert not driver.find_element("css selector", ".chip-all").is_displayed()
        assert "js" not in (driver.find_element("tag name", "html").get_attribute("class") or "")
    finally:
        driver.quit()
