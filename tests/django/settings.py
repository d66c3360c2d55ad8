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
]
MIDDLEWARE = ["queryguard_django.middleware.QueryGuardMiddleware"]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
# A server process gets a database file; the in-process tests get pytest-django's test databases.
_PATH = os.environ.get("QG_TEST_DB_PATH", "")
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": _PATH or ":memory:"},
    "other": {"ENGINE": "django.db.backends.sqlite3", "NAME": (_PATH + ".other") if _PATH else ":memory:"},
}
QUERYGUARD = {"ACTION": os.environ.get("QG_TEST_ACTION", "log"), "EXPLAIN": False}
