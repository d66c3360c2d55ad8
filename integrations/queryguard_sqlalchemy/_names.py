"""The mapped class of a table, for fixes written in SQLAlchemy's words (``insert(Review)``, not the table).

Asked only when a finding's fix is written, never while statements are recorded. SQLAlchemy has no public
list of its registries; the mapper module's own list is read, and anything unexpected there means "no name"
(the fix then names the table).
"""

from __future__ import annotations

import sys
from typing import Any

from queryguard import _suggest


def mapped_class(table: str) -> str | None:
    """The name of the one class mapped to ``table`` (its primary table), or None if none or several."""
    try:
        found = {mapper.class_.__name__ for mapper in _mappers() if _table_name(mapper) == table}
    except Exception:  # a registry changing under us, a SQLAlchemy whose internals moved: no name
        return None
    return found.pop() if len(found) == 1 else None


def _mappers() -> list[Any]:
    module = sys.modules.get("sqlalchemy.orm.mapper")
    registries: Any = getattr(module, "_all_registries", None)
    found = registries() if callable(registries) else getattr(module, "_mapper_registries", {})
    return [mapper for registry in list(found) for mapper in list(registry.mappers)]


def _table_name(mapper: Any) -> str | None:
    table = getattr(mapper, "local_table", None)
    if getattr(mapper, "inherits", None) is not None and getattr(mapper, "single", False):
        return None  # single-table inheritance: the table is the base class's
    return getattr(table, "name", None)


def register() -> None:
    """Let the core's fixes name mapped classes."""
    _suggest.register_class_namer("sqlalchemy", mapped_class)
