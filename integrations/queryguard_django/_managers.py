"""Frame hooks on many-to-many managers: what ``.count()``, ``.exists()``, ``.add()`` and ``.remove()`` touch.

These methods query or write the join table itself, and only the manager knows which relation it serves:
a self-referential many-to-many has two (``follows``, ``followers``) on one join table, told apart by the
join table's column that holds the parent (``source_field_name``). Each manager class serves one side of
one relation, so the relation is read once per class and looked up by it afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import CodeType, FrameType
from typing import Any

from . import _relations, _state
from ._introspect import Link

#: The relation served by each many-to-many manager class (one class per side of each relation).
_links: dict[type, Link] = {}
_WRITES = {"_add_items": "add", "_remove_items": "remove"}


def link_of(manager: Any) -> Link:
    """The relation ``manager`` serves, seen from its instance's model."""
    cls = type(manager)
    found = _links.get(cls)
    if found is None:
        found = _links[cls] = _link(manager)
    return found


def _link(manager: Any) -> Link:
    table = manager.through._meta.db_table
    if manager.reverse:
        field = manager.model._meta.get_field(manager.query_field_name)
        accessor = field.remote_field.get_accessor_name()
        query_name = field.related_query_name()
    else:
        accessor = query_name = manager.prefetch_cache_name
    return Link(accessor, query_name, "many_to_many", True, table, manager.source_field_name)


def _query(frame: FrameType, event: Any) -> None:
    # ManyRelatedManager.count()/exists(): a query of the join table, counted for one parent.
    walk = _state.current(event)
    if walk is not None and walk.level < _relations.DESCRIPTOR:
        manager = frame.f_locals["self"]
        parent = manager.instance
        facts = _relations.facts_for(type(parent).__name__, link_of(manager), frame.f_code.co_name)
        _relations.apply(walk, event, _relations.DESCRIPTOR, facts, parent)
    return None


def _write(frame: FrameType, event: Any) -> None:
    # ManyRelatedManager._add_items()/_remove_items(): join table rows written for one parent (and, with
    # m2m_changed receivers, the SELECT of the rows already there: Django's own queryset, not a relation).
    walk = _state.current(event)
    if walk is not None and walk.level < _relations.DESCRIPTOR:
        manager = frame.f_locals["self"]
        parent = manager.instance
        facts = _relations.facts_for(type(parent).__name__, link_of(manager), _WRITES[frame.f_code.co_name])
        _relations.apply(walk, event, _relations.DESCRIPTOR, facts)
    return None


def _nested_codes(code: CodeType, names: frozenset[str], parent: str) -> Iterator[CodeType]:
    for const in code.co_consts:
        if isinstance(const, CodeType):
            if const.co_name in names and code.co_name == parent:
                yield const
            yield from _nested_codes(const, names, parent)


def hooks() -> Iterator[tuple[CodeType, Any]]:
    """``(code, hook)`` for each many-to-many manager method that names its relation."""
    from django.db.models.fields import related_descriptors as rd

    factory = rd.create_forward_many_to_many_manager.__code__
    names = frozenset({"count", "exists", *_WRITES})
    for code in _nested_codes(factory, names, "ManyRelatedManager"):
        yield code, (_write if code.co_name in _WRITES else _query)
