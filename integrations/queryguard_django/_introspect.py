"""Which relation a queryset loads, read from the queryset itself (no SQL, no monkeypatching).

A related manager leaves traces on the querysets it builds: a reverse foreign key sets
``_known_related_objects`` to ``{field: {id: parent}}``; a many-to-many manager adds the parent as the
``instance`` hint. A plain ``Book.objects.filter(author=a)`` names the foreign key in its WHERE clause.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

TO_MANY_KINDS = frozenset({"one_to_many", "many_to_many"})


class Link(NamedTuple):
    """One relation from a model to another."""

    accessor: str  # the attribute and the prefetch_related()/select_related() lookup
    query_name: str  # the name used in filters and Count() from the owning model
    kind: str  # a queryguard relation kind
    to_many: bool
    through: str | None  # the join table of a many-to-many relation


def manager_relation(queryset: Any) -> tuple[Any, Link] | None:
    """``(parent instance, link)`` when ``queryset`` was built by a related manager of ``parent``."""
    known = queryset._known_related_objects
    if known:
        if len(known) != 1:
            return None
        ((field, objects),) = known.items()
        if len(objects) != 1:
            return None
        (parent,) = objects.values()
        accessor = field.remote_field.get_accessor_name()
        if not accessor:
            return None
        query_name = field.related_query_name()
        return parent, Link(accessor, query_name, "one_to_many", True, None)
    parent = queryset._hints.get("instance")
    if parent is None or not hasattr(parent, "_meta"):
        return None
    link = find_link(type(parent), queryset.model, queryset.query)
    return (parent, link) if link is not None else None


def find_link(
    parent_model: Any, model: Any, query: Any = None, tables: frozenset[str] = frozenset()
) -> Link | None:
    """The relation from ``parent_model`` to ``model``; the join tables (of ``query``) tell apart several."""
    links = _links(parent_model, model._meta.concrete_model)
    if len(links) > 1:
        tables = tables | (_tables(query) if query is not None else frozenset())
        links = tuple(link for link in links if link.through in tables) or links[:0]
    return links[0] if len(links) == 1 else None


@functools.lru_cache(maxsize=1024)
def _links(parent_model: Any, concrete: Any) -> tuple[Link, ...]:
    found = []
    for field in parent_model._meta.get_fields():
        related = getattr(field, "related_model", None)
        if not field.is_relation or related is None or related._meta.concrete_model is not concrete:
            continue
        link = _link(field)
        if link is not None:
            found.append(link)
    return tuple(found)


def _link(field: Any) -> Link | None:
    reverse = field.auto_created and not field.concrete
    accessor = field.get_accessor_name() if reverse else field.name
    if not accessor:
        return None
    query_name = field.field.related_query_name() if reverse else field.name
    if field.many_to_many:
        through = field.through if reverse else field.remote_field.through
        return Link(accessor, query_name, "many_to_many", True, through._meta.db_table)
    if field.one_to_many:
        return Link(accessor, query_name, "one_to_many" if reverse else "generic", True, None)
    if field.one_to_one and reverse:
        return Link(accessor, query_name, "one_to_one_reverse", False, None)
    return Link(accessor, query_name, "many_to_one", False, None)


def _tables(query: Any) -> frozenset[str]:
    return frozenset(getattr(join, "table_name", "") for join in query.alias_map.values())


def filter_relation(queryset: Any) -> tuple[str, Link] | None:
    """``("Author", link)`` when the queryset filters on one foreign key (or one generic relation)."""
    where = queryset.query.where
    if where.connector != "AND" or where.negated or len(where.children) > 4:
        return None
    fields = [
        child.lhs.target
        for child in where.children
        if getattr(child, "lookup_name", None) == "exact" and hasattr(getattr(child, "lhs", None), "target")
    ]
    generic = _generic_relation(queryset.model, frozenset(f.name for f in fields))
    if generic is not None:
        return generic
    keys = [f for f in fields if f.many_to_one and f.related_model is not None]
    if len(keys) != 1 or keys[0].model._meta.auto_created:
        return None
    field = keys[0]
    accessor = field.remote_field.get_accessor_name()
    if not accessor:
        return None
    kind, many = ("one_to_one_reverse", False) if field.one_to_one else ("one_to_many", True)
    return field.related_model.__name__, Link(accessor, field.related_query_name(), kind, many, None)


def _generic_relation(model: Any, filtered: frozenset[str]) -> tuple[str, Link] | None:
    found = [
        (owner, name)
        for owner, name, object_id, content_type in _generic_relations(model._meta.concrete_model)
        if object_id in filtered and content_type in filtered
    ]
    if len(found) != 1:
        return None
    owner, name = found[0]
    return owner, Link(name, name, "generic", True, None)


@functools.lru_cache(maxsize=256)
def _generic_relations(concrete: Any) -> tuple[tuple[str, str, str, str], ...]:
    """The GenericRelation fields of every model that point at ``concrete``."""
    from django.apps import apps

    return tuple(
        (owner.__name__, field.name, field.object_id_field_name, field.content_type_field_name)
        for owner in apps.get_models()
        for field in owner._meta.private_fields
        if hasattr(field, "object_id_field_name")
        and field.related_model is not None
        and field.related_model._meta.concrete_model is concrete
    )
