"""ASGI entry point of the test project, for the end-to-end tests' uvicorn process."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django.settings")
application = get_asgi_application()
