"""The corpus's Django application (no migrations: its tables are made with ``migrate --run-syncdb``)."""

from __future__ import annotations

from django.apps import AppConfig


class CorpusConfig(AppConfig):
    """``INSTALLED_APPS += ["corpus_app"]``."""

    name = "corpus_app"
    label = "corpus"
    default_auto_field = "django.db.models.AutoField"
