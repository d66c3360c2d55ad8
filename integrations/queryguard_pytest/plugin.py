"""The pytest plugin: fixture ``queryguard``, marker ``queryguard``, options ``--queryguard*``.

pytest loads this module through the ``pytest11`` entry point. It imports no framework, and a test that uses
neither the fixture nor the marker, in a run without ``--queryguard``, costs a few dictionary look-ups.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

from queryguard import _callsite, _ignore
from queryguard._guard import internal_error

from . import _marker, _options
from ._baseline import Baseline
from ._fixture import QueryGuardFixture
from ._scaffolding import SCAFFOLDING, Scaffolding
from ._unit import BASELINE, IN_CALL, UNIT, Unit, marker_error

_REPORT_EXTENSIONS = (".json", ".html", ".htm", ".sarif", ".txt")


def pytest_addoption(parser: pytest.Parser) -> None:
    _options.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _marker.HELP)
    settings = _options.read(config)
    config.stash[_options.SETTINGS] = settings
    if settings.report is not None and not settings.report.name.lower().endswith(_REPORT_EXTENSIONS):
        raise pytest.UsageError(
            f"--queryguard-report={settings.report.name}: unknown extension; "
            f"use one of {', '.join(_REPORT_EXTENSIONS)}"
        )
    _ignore.configure(settings.ignore, source=_options.IGNORE_SOURCE)
    # The plugin's own frames (assert_constant_queries calling the test's function) are never a call site.
    _callsite.add_library_path(os.path.dirname(os.path.abspath(__file__)))
    if settings.baseline is not None:
        config.stash[BASELINE] = Baseline.load(settings.baseline)
    if settings.enabled and not settings.include_test_code:
        config.stash[SCAFFOLDING] = Scaffolding(config.rootpath, config.getini("python_files"))
    if settings.enabled and not settings.worker:
        from ._suite import Suite

        config.pluginmanager.register(
            Suite(config, settings, config.stash.get(BASELINE, None)), "queryguard-suite"
        )


def pytest_collection_finish(session: pytest.Session) -> None:
    scaffolding = session.config.stash.get(SCAFFOLDING, None)
    if scaffolding is not None:
        scaffolding.add_modules(item.path for item in session.items)


def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest) -> None:
    scaffolding = request.config.stash.get(SCAFFOLDING, None)
    if scaffolding is not None:
        try:
            scaffolding.add_fixture(fixturedef.func)
        except Exception as exc:
            internal_error("pytest plugin", exc)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("queryguard") is not None:
        message = marker_error(item)
        if message is not None:
            pytest.fail(message, pytrace=False)


def _wanted(item: pytest.Item) -> bool:
    settings = item.config.stash[_options.SETTINGS]
    return (
        settings.enabled
        or UNIT in item.stash
        or "queryguard" in getattr(item, "fixturenames", ())
        or (item.get_closest_marker("queryguard") is not None)
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    item.stash[IN_CALL] = True  # the fixture asked for in the body starts capturing at once
    if _wanted(item):
        Unit.of(item).start()
    try:
        result = yield
    finally:
        item.stash[IN_CALL] = False
        unit = item.stash.get(UNIT, None)
        if unit is not None:
            unit.stop()
    message = _failure(unit) if unit is not None else None
    if message is not None and unit is not None:
        unit.failed = True
        pytest.fail(message, pytrace=False)
    return result


def _failure(unit: Unit) -> str | None:
    try:
        return unit.failure()
    except Exception as exc:  # queryguard's own error never fails the test
        internal_error("pytest plugin", exc)
        return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    unit = item.stash.get(UNIT, None)
    if unit is None:
        return report
    if call.when == "call" and unit.settings.enabled:
        try:
            report.queryguard = unit.wire(complete=report.passed or unit.failed)  # type: ignore[attr-defined]
        except Exception as exc:
            internal_error("pytest report", exc)
    elif call.when == "teardown":
        del item.stash[UNIT]  # items live until the session ends: their statements must not
    return report


@pytest.fixture
def queryguard(request: pytest.FixtureRequest) -> QueryGuardFixture:
    """The statements of the test body, with assertions: ``queryguard.assert_max_queries(5)``."""
    return QueryGuardFixture(Unit.of(request.node))
