"""Django for the tests of this folder only: settings are configured here, never through the environment.

The project is ``tests/django/settings.py`` plus one alias per reachable database server (``postgres``,
``mysql``); a server required by ``QUERYGUARD_REQUIRE_DATABASES`` is configured even when unreachable, so
its tests fail instead of skipping.
"""

from __future__ import annotations

import os
from typing import Any

import django
import pytest
from django.conf import settings

from tests.conftest import MYSQL, POSTGRES, REQUIRED, _reachable

from . import settings as test_settings

# Two runs at once on one machine (a developer and an editor's test run) each set their own suffix.
TEST_DB = "test_queryguard_django" + os.environ.get("QUERYGUARD_TEST_DB_SUFFIX", "")


def _databases() -> dict[str, Any]:
    databases: dict[str, Any] = dict(test_settings.DATABASES)
    if "postgres" in REQUIRED or _reachable(str(POSTGRES["host"]), int(POSTGRES["port"])):  # type: ignore[call-overload]
        databases["postgres"] = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": POSTGRES["dbname"],
            "USER": POSTGRES["user"],
            "HOST": POSTGRES["host"],
            "PORT": str(POSTGRES["port"]),
            "TEST": {"NAME": TEST_DB},
        }
    if "mysql" in REQUIRED or _reachable(str(MYSQL["host"]), int(MYSQL["port"])):  # type: ignore[call-overload]
        import pymysql

        # Django 5.2 wants mysqlclient >= 2.2.1; PyMySQL stands in for it (test settings only).
        pymysql.version_info = (2, 2, 1, "final", 0)
        pymysql.install_as_MySQLdb()
        databases["mysql"] = {
            "ENGINE": "django.db.backends.mysql",
            "NAME": MYSQL["database"],
            "USER": MYSQL["user"],
            "PASSWORD": MYSQL["password"],
            "HOST": MYSQL["host"],
            "PORT": str(MYSQL["port"]),
            "TEST": {"NAME": TEST_DB, "CHARSET": "utf8mb4"},
        }
    return databases


if not settings.configured:
    values = {name: getattr(test_settings, name) for name in dir(test_settings) if name.isupper()}
    settings.configure(**{**values, "DATABASES": _databases()})
    django.setup()


ALL_DATABASES = list(settings.DATABASES)


def backend_params() -> list[Any]:
    """``alias`` parameters: SQLite always; PostgreSQL and MariaDB when configured (else skipped: why)."""
    params: list[Any] = [pytest.param("default", id="sqlite")]
    for alias, server in (("postgres", POSTGRES), ("mysql", MYSQL)):
        if alias in settings.DATABASES:
            params.append(pytest.param(alias, id=alias))
        else:
            reason = f"{alias} is not reachable on {server['host']}:{server['port']}"
            params.append(pytest.param(alias, id=alias, marks=pytest.mark.skip(reason=reason)))
    return params


@pytest.fixture(autouse=True)
def _fresh_queryguard_state() -> Any:
    """Each test starts with an empty report ring."""
    from queryguard_django import _ring

    _ring.clear()
    yield
    _ring.clear()
