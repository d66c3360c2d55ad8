"""The QUERYGUARD setting: parsed once, re-read when changed, and every mistake is a system check error."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import checks
from django.test import override_settings
from queryguard_django import conf

from queryguard import ConfigurationError


def allowed(request: Any) -> bool:
    """An ALLOWED callback for the tests."""
    return True


def run_checks() -> list[tuple[str, str, str]]:
    """The queryguard system check messages: (id, message, hint)."""
    return [(m.id, m.msg, m.hint or "") for m in checks.run_checks(tags=["queryguard"])]


def test_defaults() -> None:
    """No QUERYGUARD setting: the Config defaults, page and headers follow DEBUG."""
    with override_settings(QUERYGUARD=None):
        settings = conf.get()
    assert settings.config.action == "log" and settings.config.n_plus_one_threshold == 2
    assert (settings.report_page, settings.headers, settings.allowed) == (None, None, None)
    assert (settings.ring_size, settings.audit_fail_severity) == (50, "warning")


def test_upper_case_config_keys_and_django_keys() -> None:
    """Config keys in upper case, Django-only keys, and dotted paths for callables."""
    value = {
        "ACTION": "warn",
        "N_PLUS_ONE_THRESHOLD": 3,
        "IGNORE_KINDS": ["select_star"],
        "REPORT_PAGE": True,
        "HEADERS": False,
        "ALLOWED": "tests.django.test_settings.allowed",
        "RING_SIZE": 5,
        "AUDIT_FAIL_SEVERITY": "error",
    }
    with override_settings(QUERYGUARD=value):
        settings = conf.get()
        assert run_checks() == []
    assert settings.config.action == "warn" and settings.config.n_plus_one_threshold == 3
    assert settings.config.ignore_kinds == frozenset({"select_star"})
    assert (settings.report_page, settings.headers, settings.allowed) == (True, False, allowed)
    assert (settings.ring_size, settings.audit_fail_severity) == (5, "error")


def test_the_cached_value_is_cleared_when_the_setting_changes() -> None:
    """override_settings(QUERYGUARD=...) is seen at once, and undone at the end."""
    before = conf.get()
    with override_settings(QUERYGUARD={"ACTION": "raise"}):
        assert conf.get().config.action == "raise"
    assert conf.get() == before


@pytest.mark.parametrize(
    ("value", "check_id", "words"),
    [
        (["ACTION", "raise"], "queryguard.E001", "QUERYGUARD must be a dict"),
        ({"ACTON": "raise"}, "queryguard.E002", "unknown key 'ACTON' (did you mean 'ACTION'?)"),
        ({"action": "raise"}, "queryguard.E002", "lower-case key 'action'"),
        ({"ACTION": "explode"}, "queryguard.E003", "action must be one of"),
        ({"N_PLUS_ONE_THRESHOLD": 1}, "queryguard.E003", "n_plus_one_threshold must be at least 2, got 1"),
        ({"REPORT_PAGE": "yes"}, "queryguard.E004", "QUERYGUARD['REPORT_PAGE'] must be True, False or None"),
        ({"HEADERS": 1}, "queryguard.E004", "QUERYGUARD['HEADERS']"),
        ({"ALLOWED": "no.such.callable"}, "queryguard.E005", "QUERYGUARD['ALLOWED'] must be a callable"),
        ({"CALLBACK": 42}, "queryguard.E005", "QUERYGUARD['CALLBACK'] must be a callable"),
        ({"RING_SIZE": -1}, "queryguard.E006", "QUERYGUARD['RING_SIZE'] must be an integer >= 0, got -1"),
        ({"AUDIT_FAIL_SEVERITY": "fatal"}, "queryguard.E007", "'fatal'"),
    ],
)
def test_each_mistake_is_a_check_error_with_a_hint(value: object, check_id: str, words: str) -> None:
    """Every invalid value gives its own check id, the bad value and a hint; reading it raises."""
    with override_settings(QUERYGUARD=value):
        found = run_checks()
        with pytest.raises(ConfigurationError):
            conf.get()
    assert [item[0] for item in found] == [check_id]
    assert words in found[0][1] and found[0][2]


def test_the_app_without_the_middleware_is_a_warning() -> None:
    """queryguard.W001: installed, but requests are not captured."""
    with override_settings(MIDDLEWARE=[]):
        found = run_checks()
    assert [item[0] for item in found] == ["queryguard.W001"]
    assert "QueryGuardMiddleware" in found[0][2]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"DEBUG": True, "INTERNAL_IPS": []}, ["queryguard.W002"]),
        ({"DEBUG": True, "INTERNAL_IPS": ["127.0.0.1"]}, []),
        ({"DEBUG": False, "INTERNAL_IPS": []}, []),  # the page is off: nothing to warn about
        ({"DEBUG": True, "INTERNAL_IPS": [], "QUERYGUARD": {"ALLOWED": "builtins.bool"}}, []),
    ],
)
def test_a_wired_page_that_no_client_may_see_is_a_warning(
    overrides: dict[str, object], expected: list[str]
) -> None:
    """queryguard.W002: DEBUG on, the page in the URLconf, INTERNAL_IPS empty and no ALLOWED callback."""
    with override_settings(**overrides):
        found = run_checks()
    assert [item[0] for item in found] == expected
    if found:
        assert "INTERNAL_IPS" in found[0][2]
