"""Frame hooks on Django's own functions: they name the relation whose access ran a statement.

Nothing of Django is patched. While a statement is recorded, queryguard walks the stack; for frames running
one of the functions below it calls our hook, which reads the frame's locals (the descriptor and the
instance, the queryset) and fills ``event.relation`` (``"Book.author"``), ``relation_kind`` and
``relation_path`` (the lookup for ``select_related``/``prefetch_related``). Hooks run innermost frame first;
a hook only overrides what an inner one found when it knows more (a descriptor knows more than the queryset
it built). Hooks on querysets only note the queryset: :func:`infer` reads its relation after the walk, when
no descriptor answered, so the common case (a descriptor) never pays for it. A to-one descriptor
(``book.author``) needs no queryset at all: its load's row is read from the instance Django caches it on, so
the statements of a loop do not call the queryset hooks under it (``shadows``, see ``register_frame_hook``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

from queryguard._callsite import register_frame_hook

from . import _sites, _state
from ._introspect import Link, filter_relation, manager_relation

Hook = Callable[[FrameType, Any], "str | None"]
FILTER, QUERYSET, DESCRIPTOR, DEFERRED = 1, 2, 3, 4  # how much a hook knows, weakest first
_NOT_NESTED = frozenset({"count", "exists", "deferred", "get", "add", "remove"})
_Event = _state.Event
_current = _state.current
_prefetch_callers: set[CodeType] = set()
_to_one_prefetchers: tuple[type, ...] = ()
_MAX_GET_RESULTS = 21
_ORIGIN = _state.ORIGIN_ATTRIBUTE


class Facts:
    """What a hook sets for one relation seen from one model (cached: no formatting per statement)."""

    __slots__ = ("cache", "kind", "link", "name", "nests", "own_origin", "path")

    def __init__(self, owner: str, link: Link, kind: str) -> None:
        self.link = link
        self.kind = kind
        self.name = f"{owner}.{link.accessor}"
        self.path = link.query_name if kind in ("count", "exists") else link.accessor
        self.nests = kind not in _NOT_NESTED
        self.own_origin: _state.Origin = (owner, link.accessor, link.to_many)
        self.cache: str | None = None  # a to-one descriptor's key in its instance's field cache


_facts: dict[tuple[Any, ...], Facts] = {}
_get_names: dict[str, str] = {}


def facts_for(owner: str, link: Link, kind: str | None = None) -> Facts:
    """The cached :class:`Facts` of ``link`` seen from the model named ``owner``."""
    key = (owner, link, kind)
    found = _facts.get(key)
    if found is None:
        found = _facts[key] = Facts(owner, link, kind or link.kind)
    return found


def apply(walk: _state.WalkState, event: Any, level: int, facts: Facts, parent: Any = None) -> None:
    """Name the relation of ``event``: the caller checked that no inner hook knew as much (``walk.level``)."""
    walk.level = level
    event.relation = facts.name
    event.relation_kind = facts.kind
    event.relation_path = facts.path
    root = None  # the model whose queryset takes the full lookup ("Author" for books__reviews)
    if parent is not None:
        above: _state.Origin | None = getattr(parent._state, _ORIGIN, None)
        if above is None:
            walk.tag = facts.own_origin
        else:
            link = facts.link
            origin = walk.tag = (above[0], f"{above[1]}__{link.accessor}", above[2] or link.to_many)
            # select_related() cannot cross a to-many relation: then only the inner lookup is a valid fix.
            if facts.nests and not (facts.kind == "many_to_one" and origin[2]):
                event.relation_path, root = origin[1], origin[0]
    event.relation_root = root


def attribute(
    walk: _state.WalkState,
    event: Any,
    level: int,
    owner: str,
    link: Link,
    *,
    parent: Any = None,
    kind: str | None = None,
) -> None:
    """:func:`apply` for a relation found at run time (querysets, managers)."""
    if level > walk.level:
        apply(walk, event, level, facts_for(owner, link, kind), parent)


def _forget(walk: _state.WalkState, event: Any, level: int) -> None:
    walk.level = level
    event.relation = event.relation_kind = event.relation_path = event.relation_root = None


def _from_queryset(walk: _state.WalkState, event: Any, queryset: Any, kind: str | None) -> None:
    found = manager_relation(queryset)
    if found is not None:
        parent, link = found
        attribute(walk, event, QUERYSET, type(parent).__name__, link, parent=parent, kind=kind)
        return
    named = filter_relation(queryset)
    if named is not None:
        attribute(walk, event, FILTER, named[0], named[1], kind=kind)


def infer(walk: _state.WalkState, event: Any) -> None:
    """After the walk: what the evaluated queryset tells, unless an outer hook knew more."""
    if walk.level >= QUERYSET:
        return
    queryset = walk.queryset
    if queryset is not None:
        _from_queryset(walk, event, queryset, None)
        query = queryset.query
        is_get = query.high_mark == _MAX_GET_RESULTS and not query.low_mark  # how QuerySet.get() limits
        if is_get and walk.level < QUERYSET and not queryset._hints:
            _forget(walk, event, QUERYSET)
            name = queryset.model.__name__
            event.relation = _get_names.get(name) or _get_names.setdefault(name, f"{name}.get()")
            event.relation_kind = "get"


# -- querysets ----------------------------------------------------------------------------------------


def _evaluation(frame: FrameType, event: Any) -> None:
    # QuerySet._fetch_all() and ._iterator(): a frame with few locals (reading them costs per local).
    walk = event if type(event) is _Event else _current(event)
    if walk is None:
        return None
    if walk.queryset is None:
        queryset = frame.f_locals["self"]
        if queryset._result_cache is None:  # filled: the statement is its prefetch's, run further in
            walk.queryset = queryset
    return None


def _aggregate(frame: FrameType, event: Any) -> None:
    walk = _current(event)
    if walk is not None and walk.level < QUERYSET:
        _from_queryset(walk, event, frame.f_locals["self"], frame.f_code.co_name)
    return None


# -- descriptors ---------------------------------------------------------------------------------------


#: The facts of each descriptor seen from each model (a subclass shares its parent's descriptors).
_descriptor_facts: dict[tuple[Any, type], Facts] = {}


def _descriptor(
    build: Callable[[Any], tuple[Link, str | None]], level: int, nests: bool, frame: FrameType, event: Any
) -> None:
    # Registered through functools.partial (the hooks below): no frame of its own for the dispatch.
    walk = event if type(event) is _Event else _current(event)
    if walk is None:
        return None
    local = frame.f_locals
    instance = local["instance"]
    key = (local["self"], type(instance))
    facts = _descriptor_facts.get(key)
    if facts is None:
        link, cache = build(key[0])
        facts = _descriptor_facts[key] = facts_for(key[1].__name__, link)
        facts.cache = cache
    named = walk.level < level
    if named:
        apply(walk, event, level, facts, instance if nests else None)
    if facts.cache is not None:
        # A to-one load: Django caches the instance on ``instance``, where its row is counted (see _rows).
        # What the queryset hook noted further in is left aside (a repeated walk does not call that hook).
        walk.queryset = None
        if named:
            walk.holder, walk.cache = instance, facts.cache
    return None


def _cache_name(field: Any) -> str:
    # The key of the field's instance cache: Django 5.1 made it the ``cache_name`` property and deprecated
    # ``get_cache_name()``, the only way before.
    name: str | None = getattr(field, "cache_name", None)
    return name if name is not None else str(field.get_cache_name())


def _forward_link(descriptor: Any) -> tuple[Link, str | None]:
    field = descriptor.field
    return Link(field.name, field.name, "many_to_one", False, None), _cache_name(field)


def _reverse_one_link(descriptor: Any) -> tuple[Link, str | None]:
    related = descriptor.related
    link = Link(
        related.get_accessor_name(), related.field.related_query_name(), "one_to_one_reverse", False, None
    )
    return link, _cache_name(related)


def _generic_link(descriptor: Any) -> tuple[Link, str | None]:
    # Its content type may be looked up first, under the same frame: its rows are counted from querysets.
    return Link(descriptor.name, descriptor.name, "generic", False, None), None


def _deferred_link(descriptor: Any) -> tuple[Link, str | None]:
    name = descriptor.field.name
    return Link(name, name, "deferred", False, None), None


_forward: Hook = functools.partial(_descriptor, _forward_link, DESCRIPTOR, True)
_reverse_one: Hook = functools.partial(_descriptor, _reverse_one_link, DESCRIPTOR, True)
_generic_foreign_key: Hook = functools.partial(_descriptor, _generic_link, DESCRIPTOR, True)
_deferred: Hook = functools.partial(_descriptor, _deferred_link, DEFERRED, False)


def _refresh(frame: FrameType, event: Any) -> None:
    # An explicit refresh_from_db() is no relation; a deferred field's load (an outer frame) still is.
    walk = _current(event)
    if walk is not None and walk.level < DESCRIPTOR:
        _forget(walk, event, DESCRIPTOR)
    return None


def _prefetch(frame: FrameType, event: Any) -> None:
    walk = _current(event)
    if walk is None or walk.level >= DESCRIPTOR:
        return None
    local = frame.f_locals
    parent, prefetcher, lookup = local["instances"][0], local["prefetcher"], local["lookup"]
    through = lookup.prefetch_through.split("__")[local["level"]]
    to_many = not isinstance(prefetcher, _to_one_prefetchers)
    walk.tag = _state.extend(parent, through, to_many)
    caller = frame.f_back.f_back if frame.f_back is not None else None
    if caller is not None and caller.f_code in _prefetch_callers:
        _forget(walk, event, DESCRIPTOR)  # the queryset's own prefetch_related(): the fix, not a problem
        return None
    walk.level = DESCRIPTOR
    event.relation, event.relation_kind = f"{type(parent).__name__}.{through}", "prefetch_objects"
    event.relation_path = lookup.prefetch_through
    return None


# -- installation ----------------------------------------------------------------------------------------


def install() -> None:
    """Register the hooks on Django's functions (once, from ``AppConfig.ready``)."""
    global _to_one_prefetchers, _MAX_GET_RESULTS
    from django.apps import apps
    from django.db.models import Model, query
    from django.db.models.fields import related_descriptors as rd
    from django.db.models.query_utils import DeferredAttribute

    from . import _managers  # it hooks through this module's levels and facts

    hooks: dict[Any, Hook] = {
        query.QuerySet._fetch_all: _evaluation,
        query.QuerySet._iterator: _evaluation,  # type: ignore[attr-defined]
        query.QuerySet.count: _aggregate,
        query.QuerySet.exists: _aggregate,
        rd.ForwardManyToOneDescriptor.get_object: _forward,
        rd.ForwardOneToOneDescriptor.get_object: _forward,
        rd.ReverseOneToOneDescriptor.__get__: _reverse_one,
        DeferredAttribute.__get__: _deferred,
        Model.refresh_from_db: _refresh,
        query.prefetch_one_level: _prefetch,  # type: ignore[attr-defined]
    }
    to_one: list[type] = [rd.ForwardManyToOneDescriptor, rd.ReverseOneToOneDescriptor]
    if apps.is_installed("django.contrib.contenttypes"):
        from django.contrib.contenttypes.fields import GenericForeignKey

        hooks[GenericForeignKey.__get__] = _generic_foreign_key
        to_one.append(GenericForeignKey)
    # A to-one descriptor reads its load's row from its instance's field cache: the queryset hooks further in
    # are moot under it.
    evaluation = [query.QuerySet._fetch_all.__code__]
    evaluation.append(query.QuerySet._iterator.__code__)  # type: ignore[attr-defined]
    for function, hook in hooks.items():
        to_one_load = hook in (_forward, _reverse_one)
        register_frame_hook(function.__code__, hook, shadows=evaluation if to_one_load else ())
    for code, manager_hook in _managers.hooks():
        register_frame_hook(code, manager_hook)
    callers: list[Any] = [query.QuerySet, query.RawQuerySet]
    _prefetch_callers.update(queryset_class._prefetch_related_objects.__code__ for queryset_class in callers)
    _to_one_prefetchers = tuple(to_one)
    _MAX_GET_RESULTS = query.MAX_GET_RESULTS
    _sites.install()
