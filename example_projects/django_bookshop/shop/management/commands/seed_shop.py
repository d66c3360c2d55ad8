"""``python manage.py seed_shop``: fill an empty database with the demo shop."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from shop import seed


class Command(BaseCommand):
    help = "Fill an empty database with the deterministic demo shop."

    def handle(self, *args: Any, **options: Any) -> None:
        done = seed.run()
        self.stdout.write("seeded the shop" if done else "the shop is already seeded")
