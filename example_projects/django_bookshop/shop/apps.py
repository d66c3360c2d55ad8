"""The shop application."""

from __future__ import annotations

from django.apps import AppConfig


class ShopConfig(AppConfig):
    """Authors, books, reviews and tags."""

    name = "shop"
