"""Fixtures of every core test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._helpers import close_shop_dbs


@pytest.fixture(autouse=True)
def _closed_shop_dbs() -> Iterator[None]:
    """The test's ``shop_db()`` connections are closed when it ends."""
    yield
    close_shop_dbs()
