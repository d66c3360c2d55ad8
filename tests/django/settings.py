"""Settings of the throw-away Django project the integration tests (and their server processes) run."""

from __future__ import annotations

import os

SECRET_KEY = "queryguard-tests-only"
DEBUG = os.environ.get("QG_TEST_DEBUG", "") == "1"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
INTERNAL_IPS = ["127.0.0.1"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
ROOT_URLCONF = "tests.django.testapp.urls"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "queryguard_django",
    "tests.django.testapp",
    "tests.django.kinds",
]
if os.environ.get("QG_TEST_WITHOUT_APP"):  # the middleware alone, as a newcomer may first set it up
    INSTALLED_APPS.remove("queryguard_django")
MIDDLEWARE = ["queryguard_django.middleware.QueryGuardMiddleware"]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
# A server process gets a database file; the in-process tests get pytest-django's test databases.
_PATH = os.environ.get("QG_TEST_DB_PATH", "")
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": _PATH or ":memory:"},
    "other": {"ENGINE": "django.db.backends.sqlite3", "NAME": (_PATH + ".other") if _PATH else ":memory:"},
}
QUERYGUARD = {"ACTION": os.environ.get("QG_TEST_ACTION", "log"), "EXPLAIN": False}
if os.environ.get("QG_TEST_BAD_SETTING"):  # an invalid value that only the system checks would have caught
    QUERYGUARD["N_PLUS_ONE_THRESHOLD"] = 1

# A logging configuration that raises on queryguard's records (a filter written for django.request records,
# or a handler whose sink is down): queryguard must keep the responses as they are anyway.
_BROKEN_LOGGING = os.environ.get("QG_TEST_BROKEN_LOGGING", "")
if _BROKEN_LOGGING:
    _CLASSES = {"filter": "tests.core._helpers.RequestFilter", "handler": "tests.core._helpers.DownHandler"}
    LOGGING = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"broken": {"()": _CLASSES["filter"]}},
        "handlers": {"broken": {"class": _CLASSES["handler"]}},
        "loggers": {"queryguard": {"filters" if _BROKEN_LOGGING == "filter" else "handlers": ["broken"]}},
    }
