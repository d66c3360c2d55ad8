"""Settings of the bookshop demo: DEBUG on, SQLite next to this file, queryguard enabled."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "bookshop-demo-not-a-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INTERNAL_IPS = ["127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "queryguard_django",
    "shop",
]
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "queryguard_django.middleware.QueryGuardMiddleware",
]
ROOT_URLCONF = "bookshop.urls"
WSGI_APPLICATION = "bookshop.wsgi.application"
ASGI_APPLICATION = "bookshop.asgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
# SQLite next to this file by default. BOOKSHOP_SQLITE moves the file; BOOKSHOP_POSTGRES=<database name> runs
# the shop on the local PostgreSQL server instead (user postgres on 127.0.0.1, as in the test suite).
if os.environ.get("BOOKSHOP_POSTGRES"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["BOOKSHOP_POSTGRES"],
            "USER": os.environ.get("BOOKSHOP_POSTGRES_USER", "postgres"),
            "HOST": os.environ.get("BOOKSHOP_POSTGRES_HOST", "127.0.0.1"),
            "PORT": os.environ.get("BOOKSHOP_POSTGRES_PORT", "5432"),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("BOOKSHOP_SQLITE") or BASE_DIR / "bookshop.sqlite3",
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
STATIC_URL = "static/"

QUERYGUARD = {
    # The reader page scans 50,000 reviews for want of an index: a few milliseconds on a laptop. A real
    # project keeps the default (100 ms); the demo lowers it so that the scan is reported.
    "SLOW_QUERY_MS": 1,
}
