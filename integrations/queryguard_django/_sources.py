"""EXPLAIN sources: how queryguard's EXPLAIN stage reaches the database of a Django connection alias.

One source per alias is set as ``QueryEvent.explainer`` on each of its events. The stage calls it only after
the unit ended, for the few slow statements it explains: in the foreground on the thread's own connection
(inside a savepoint it rolls back), in the background on a new connection it closes.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

_sources: dict[str, Source] = {}


class Source:
    """The EXPLAIN source of one Django database alias."""

    #: Django writes every statement with ``%s`` placeholders (its SQLite cursor converts them later).
    paramstyle = "format"

    def __init__(self, alias: str, vendor: str) -> None:
        self.alias = alias
        self.vendor = vendor

    def _wrapper(self) -> Any:
        from django.db import connections

        return connections[self.alias]

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        """A new DB-API connection to the alias's database, closed on exit."""
        wrapper = self._wrapper()
        if getattr(wrapper, "pool", None) is not None:
            raise LookupError(
                f"database {self.alias!r} uses a connection pool: EXPLAIN only in the foreground"
            )
        raw = wrapper.get_new_connection(wrapper.get_connection_params())
        try:
            yield raw
        finally:
            with contextlib.suppress(Exception):
                raw.close()

    def session_connection(self) -> Any | None:
        """This thread's live connection for the alias, if it has one open."""
        return self._wrapper().connection

    def model_fields(self, table: str, columns: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | None:
        """``("Book", ("title",))`` for the model of ``table`` and the fields of ``columns``."""
        model = _tables().get(table)
        if model is None:
            return None
        by_column = {getattr(f, "column", None): f.name for f in model._meta.concrete_fields}
        return model.__name__, tuple(by_column.get(column, column) for column in columns)

    def __repr__(self) -> str:
        return f"<django EXPLAIN source {self.alias!r} ({self.vendor})>"


@functools.lru_cache(maxsize=1)
def _tables() -> dict[str, Any]:
    from django.apps import apps

    return {model._meta.db_table: model for model in apps.get_models()}


def source(alias: str, vendor: str) -> Source:
    """The source of ``alias`` (one object per alias: events share it)."""
    found = _sources.get(alias)
    if found is None or found.vendor != vendor:
        found = _sources[alias] = Source(alias, vendor)
    return found
