"""Models of the relation kinds beyond the bookshop's."""

from __future__ import annotations

from django.apps import AppConfig


class KindsConfig(AppConfig):
    """Self-referential, through, proxy, generic and multi-table inheritance relations."""

    name = "tests.django.kinds"
    label = "kinds"
