"""The test application."""

from __future__ import annotations

from django.apps import AppConfig


class TestAppConfig(AppConfig):
    """Models with every kind of relation queryguard names."""

    name = "tests.django.testapp"
    label = "testapp"
