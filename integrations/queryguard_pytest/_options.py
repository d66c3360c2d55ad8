"""The plugin's command-line and ini options, read once into :class:`Settings`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from queryguard import KINDS, ConfigurationError, _ignore

DEFAULT_FAIL_ON = ("n_plus_one", "write_loop", "query_budget", "blocking_query")
SETTINGS = pytest.StashKey["Settings"]()
IGNORE_SOURCE = "queryguard_ignore"


@dataclasses.dataclass(frozen=True)
class Settings:
    """What the run asks of queryguard."""

    enabled: bool = False
    fail_on: frozenset[str] = frozenset(DEFAULT_FAIL_ON)
    report: Path | None = None
    baseline: Path | None = None
    update_baseline: bool = False
    include_test_code: bool = False
    verbose: bool = False
    worker: bool = False
    #: ``queryguard_ignore`` entries: a kind and ``path:function`` or a relation, one a line.
    ignore: tuple[str, ...] = ()
    #: Stale suppressions (that silenced nothing in the run) fail it.
    strict_ignores: bool = False


def add_options(parser: pytest.Parser) -> None:
    """Register ``--queryguard*`` and their ini equivalents."""
    group = parser.getgroup("queryguard", "queryguard: find N+1 queries, duplicates and write loops")
    group.addoption(
        "--queryguard", action="store_true", default=None, help="analyse the statements of every test"
    )
    group.addoption(
        "--queryguard-fail-on",
        metavar="KINDS",
        default=None,
        help="comma-separated finding kinds that fail their test, or 'none' "
        f"(default: {','.join(DEFAULT_FAIL_ON)})",
    )
    group.addoption(
        "--queryguard-report",
        metavar="PATH",
        default=None,
        help="write every finding to PATH (.json, .html, .sarif)",
    )
    group.addoption(
        "--queryguard-baseline",
        metavar="PATH",
        default=None,
        help="known findings in PATH do not fail their test",
    )
    group.addoption(
        "--queryguard-update-baseline",
        action="store_true",
        default=False,
        help="write the findings of the tests that ran to the baseline instead of failing on them",
    )
    group.addoption(
        "--queryguard-include-test-code",
        action="store_true",
        default=None,
        help="count the findings whose call site is test code (setUp, fixtures, test modules, conftest.py) "
        "like any other; by default they are listed but fail no test and enter no baseline",
    )
    group.addoption(
        "--queryguard-strict-ignores",
        action="store_true",
        default=None,
        help="fail the run when a suppression (an inline comment, an ignore() block, a queryguard_ignore "
        "entry) silenced nothing",
    )
    parser.addini(
        "queryguard_ignore",
        "findings to suppress, one a line: a kind and path:function or a relation (n_plus_one Book.author)",
        type="linelist",
        default=[],
    )
    parser.addini(
        "queryguard_strict_ignores",
        "fail the run on stale suppressions (like --queryguard-strict-ignores)",
        type="bool",
        default=False,
    )
    parser.addini(
        "queryguard", "analyse the statements of every test (like --queryguard)", type="bool", default=False
    )
    parser.addini(
        "queryguard_fail_on", "finding kinds that fail their test (like --queryguard-fail-on)", default=""
    )
    parser.addini("queryguard_report", "report file (like --queryguard-report)", default="")
    parser.addini("queryguard_baseline", "baseline file (like --queryguard-baseline)", default="")
    parser.addini(
        "queryguard_include_test_code",
        "count findings in test code (like --queryguard-include-test-code)",
        type="bool",
        default=False,
    )


def _path(config: pytest.Config, option: str, ini: str) -> Path | None:
    value = config.getoption(option)
    if value:
        return Path(config.invocation_params.dir, value)
    value = str(config.getini(ini) or "").strip()
    if value:
        base = config.inipath.parent if config.inipath is not None else config.rootpath
        return Path(base, value)
    return None


def _fail_on(config: pytest.Config) -> frozenset[str]:
    value = config.getoption("queryguard_fail_on")
    if value is None:
        value = str(config.getini("queryguard_fail_on") or "").strip() or ",".join(DEFAULT_FAIL_ON)
    kinds = {part.strip() for part in str(value).split(",") if part.strip()}
    if kinds == {"none"}:
        return frozenset()
    unknown = sorted(kinds - set(KINDS))
    if unknown:
        raise pytest.UsageError(
            f"--queryguard-fail-on: unknown finding kind {unknown[0]!r}; "
            f"valid kinds: {', '.join(KINDS)}, or none"
        )
    return frozenset(kinds)


def read(config: pytest.Config) -> Settings:
    """The settings of this run; a bad value is a usage error that names it."""
    report = _path(config, "queryguard_report", "queryguard_report")
    baseline = _path(config, "queryguard_baseline", "queryguard_baseline")
    update = bool(config.getoption("queryguard_update_baseline"))
    if update and baseline is None:
        raise pytest.UsageError("--queryguard-update-baseline needs --queryguard-baseline=PATH")
    flag = config.getoption("queryguard")
    enabled = bool(config.getini("queryguard")) if flag is None else bool(flag)
    test_code = config.getoption("queryguard_include_test_code")
    if test_code is None:
        test_code = config.getini("queryguard_include_test_code")
    strict = config.getoption("queryguard_strict_ignores")
    if strict is None:
        strict = config.getini("queryguard_strict_ignores")
    ignore = tuple(str(line) for line in config.getini("queryguard_ignore") or ())
    try:
        _ignore.parse_entries(ignore, source=IGNORE_SOURCE)
    except ConfigurationError as exc:
        raise pytest.UsageError(str(exc)) from None
    return Settings(
        enabled=enabled or report is not None or baseline is not None or bool(strict),
        fail_on=_fail_on(config),
        report=report,
        baseline=baseline,
        update_baseline=update,
        include_test_code=bool(test_code),
        verbose=int(config.getoption("verbose", 0)) > 0,
        worker=hasattr(config, "workerinput"),
        ignore=ignore,
        strict_ignores=bool(strict),
    )
