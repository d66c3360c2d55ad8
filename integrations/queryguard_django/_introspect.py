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
    #: the join table's column that holds the parent's key: tells apart the two sides of one join table
    #: (a self-referential many-to-many: ``follows`` filters on from_member, ``followers`` on to_member)
    source: str | None = None


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
        if not accessor or accessor.endswith("+"):  # related_name="+": no accessor to name or prefetch
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
        if len(links) > 1 and query is not None:
            compared = _compared(query)
            links = tuple(link for link in links if (link.through, link.source) in compared) or links[:0]
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
    if not accessor or accessor.endswith("+"):  # related_name="+": no accessor to name or prefetch
        return None
    query_name = field.field.related_query_name() if reverse else field.name
    if field.many_to_many:
        through = field.through if reverse else field.remote_field.through
        source = field.field.m2m_reverse_field_name() if reverse else field.m2m_field_name()
        return Link(accessor, query_name, "many_to_many", True, through._meta.db_table, source)
    if field.one_to_many:
        return Link(accessor, query_name, "one_to_many" if reverse else "generic", True, None)
    if field.one_to_one and reverse:
        return Link(accessor, query_name, "one_to_one_reverse", False, None)
    return Link(accessor, query_name, "many_to_one", False, None)


def _tables(query: Any) -> frozenset[str]:
    return frozenset(getattr(join, "table_name", "") for join in query.alias_map.values())


def _compared(query: Any) -> frozenset[tuple[str, str]]:
    # (table, field) of each field the WHERE clause compares: a related manager filters on its source.
    return frozenset(
        (target.model._meta.db_table, target.name)
        for target in (getattr(getattr(child, "lhs", None), "target", None) for child in query.where.children)
        if target is not None
    )


def filter_relation(queryset: Any) -> tuple[str, Link] | None:
    """``("Author", link)`` when the queryset filters on one foreign key (or one generic relation)."""
    where = queryset.query.where
    if where.connector != "AND" or where.negated or len(where.children) > 4:
        return None
    compared = {
        child.lhs.target.name: child
        for child in where.children
        if getattr(child, "lookup_name", None) == "exact" and hasattr(getattr(child, "lhs", None), "target")
    }
    generic = _generic_relation(queryset.model, compared)
    if generic is not None:
        return generic
    fields = [child.lhs.target for child in compared.values()]
    keys = [f for f in fields if f.many_to_one and f.related_model is not None]
    if len(keys) != 1 or keys[0].model._meta.auto_created:
        return None
    field = keys[0]
    accessor = field.remote_field.get_accessor_name()
    if not accessor or accessor.endswith("+"):  # related_name="+": no accessor to name or prefetch
        return None
    kind, many = ("one_to_one_reverse", False) if field.one_to_one else ("one_to_many", True)
    return field.related_model.__name__, Link(accessor, field.related_query_name(), kind, many, None)


def _generic_relation(model: Any, compared: dict[str, Any]) -> tuple[str, Link] | None:
    found = [
        relation
        for relation in _generic_relations(model._meta.concrete_model)
        if relation.object_id in compared and relation.content_type in compared
    ]
    if len(found) > 1:  # several models relate to ``model``: the content type compared tells which one
        owner = _content_type_model(compared[found[0].content_type].rhs)
        found = [relation for relation in found if relation.owner is owner]
    if len(found) != 1:
        return None
    owner, name = found[0].owner.__name__, found[0].name
    return owner, Link(name, name, "generic", True, None)


class _Generic(NamedTuple):
    owner: Any  # the model that declares the GenericRelation (not a proxy of it)
    name: str
    object_id: str
    content_type: str


@functools.lru_cache(maxsize=256)
def _generic_relations(concrete: Any) -> tuple[_Generic, ...]:
    """The GenericRelation fields of every model that point at ``concrete``.

    A proxy model has its own copy of each GenericRelation of its concrete model: the relation is the
    concrete model's (``Post.notes``, whichever proxy of Post reads it), and is listed once.
    """
    from django.apps import apps

    found: dict[tuple[Any, str], _Generic] = {}
    for model in apps.get_models():
        for field in model._meta.private_fields:
            related = getattr(field, "related_model", None)
            if not hasattr(field, "object_id_field_name") or related is None:
                continue
            if related._meta.concrete_model is not concrete:
                continue
            owner: Any = model._meta.concrete_model
            if not any(f.name == field.name for f in owner._meta.private_fields):
                owner = model  # declared on the proxy itself
            found[(owner, field.name)] = _Generic(
                owner, field.name, field.object_id_field_name, field.content_type_field_name
            )
    return tuple(found.values())


def _content_type_model(value: Any) -> Any:
    """The model of the content type whose id is ``value``, if Django's cache of them has it (no query)."""
    from django.contrib.contenttypes.models import ContentType

    cache = getattr(ContentType.objects, "_cache", {})
    for by_key in list(cache.values()):
        content_type = by_key.get(value) if isinstance(value, int) else None
        if content_type is not None:
            return content_type.model_class()
    return None
