"""The Django application: installs the connection hooks and the relation hooks when Django is ready."""

from __future__ import annotations

import os

from django.apps import AppConfig


class QueryGuardConfig(AppConfig):
    """``INSTALLED_APPS += ["queryguard_django"]``."""

    name = "queryguard_django"
    label = "queryguard"
    verbose_name = "queryguard"
    default = True
    path = os.path.dirname(os.path.abspath(__file__))

    def ready(self) -> None:
        from . import _commands, _hooks, _relations, checks, conf

        checks.register()
        conf.connect()
        _relations.install()
        _hooks.install()
        _commands.install()
