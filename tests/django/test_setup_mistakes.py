"""Setup mistakes a newcomer makes: each is said once, clearly, and never costs a response."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Two requests to a view with an N+1, in a fresh process whose settings the environment adjusts.
SCRIPT = """
import logging, os
import django
django.setup()
from django.core.management import call_command
from django.test import Client
from tests.django._data import seed
call_command("migrate", run_syncdb=True, verbosity=0)
seed()
logging.basicConfig(level=logging.INFO, format="LOG %(levelname)s %(message)s")
for _ in range(2):
    print("status", Client().get("/books/3/").status_code)
"""


def run(**env: str) -> subprocess.CompletedProcess[str]:
    """Run SCRIPT with the test project's settings and ``env``."""
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.django.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


def test_the_middleware_without_the_app_still_captures_and_says_what_is_missing() -> None:
    """The middleware without the app in INSTALLED_APPS: findings still come, and one warning says why."""
    result = run(QG_TEST_WITHOUT_APP="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("status 200") == 2
    log = result.stderr
    assert log.count('"queryguard_django" is not in INSTALLED_APPS') == 1
    assert log.count("N+1: Book.author loaded 3 times") == 2


@pytest.mark.parametrize("env", [{}, {"QG_TEST_WITHOUT_APP": "1"}])
def test_an_invalid_setting_at_run_time_is_a_configuration_error_said_once(env: dict[str, str]) -> None:
    """A bad QUERYGUARD value that no system check caught: every response is served, one error names it."""
    result = run(QG_TEST_BAD_SETTING="1", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("status 200") == 2
    log = result.stderr
    assert log.count("queryguard is off: the QUERYGUARD setting is invalid (ConfigurationError:") == 1
    assert "n_plus_one_threshold must be at least 2, got 1" in log
    assert "internal error" not in log
