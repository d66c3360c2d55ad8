"""Django's ASGI test client, called from synchronous tests."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.test import AsyncClient


def asgi_get(path: str) -> Any:
    """One GET of ``path`` through ``AsyncClient``, run to completion.

    Wrapped in a coroutine function: ``AsyncClient.get`` is one only from Django 5.0 on, and asgiref warns
    when handed a plain function.
    """

    async def get() -> Any:
        return await AsyncClient().get(path)

    return async_to_sync(get)()
