#!/usr/bin/env python
"""The bookshop's manage.py: ``python manage.py runserver``, then open http://127.0.0.1:8000/."""

from __future__ import annotations

import os
import sys

import _paths  # noqa: F401  (queryguard from this checkout when it is not installed)


def main() -> None:
    """Run a management command of the bookshop."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookshop.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
