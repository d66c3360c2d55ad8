"""Which eager loads ran and which were read: the Django side of ``unused_eager_load``.

Only while a capture with ``unused_eager_load`` on is active (in any thread), four functions of Django
are wrapped: ``QuerySet._fetch_all`` (a queryset's ``select_related`` paths, from the instances it built),
``QuerySet._prefetch_related_objects`` (its ``prefetch_related`` lookups, from the caches they filled) and
the ``__get__`` of the related-object descriptors (``book.author``, ``author.books``, ``place.restaurant``,
generic foreign keys: views, templates and serializers all read through them). Each wrapper calls the
original; the classes get their own functions back, exactly, when the last such capture stops. Nothing is
stored on the user's instances: a dict by ``id()`` of the loaded instances, cleared on restore, says which
load an instance's relation came from.

The execute wrapper calls :func:`check` when the tuple of active captures changes: the first statement of
a unit installs the wrappers, and a queryset whose evaluation is under way then is completed later.
"""

from __future__ import annotations

import sys
import threading
from types import FrameType
from typing import Any

from queryguard import _callsite, _eager
from queryguard._callsite import register_frame_hook
from queryguard._eager import EagerLoad, EagerLog
from queryguard._guard import internal_error

_lock = threading.Lock()
#: id(instance) -> {attribute name: the load that filled it}
_owners: dict[int, dict[str, EagerLoad]] = {}
#: descriptor -> the attribute name it serves
_names: dict[Any, str] = {}
#: (owner, name, original) of every wrapped attribute, while installed
_wrapped: list[tuple[Any, str, Any]] = []
#: querysets being evaluated when the wrappers were installed, with the logs they go to
_inflight: list[tuple[Any, list[EagerLog], Any]] = []
_originals: dict[str, Any] = {}
#: prefetch_related_objects() calls of the user's under way: (frame, thread, instances, lookups, logs, site)
_direct: list[tuple[Any, int, list[Any], tuple[Any, ...], list[EagerLog], Any]] = []
#: the codes of the querysets' own prefetch (their lookups are noted by the QuerySet wrapper)
_queryset_prefetchers: set[Any] = set()
_seen: object = None
#: Django's own functions that read a relation for their purposes, not the user's (save()'s check)
_internal_readers: set[Any] = set()


def check(captures: tuple[Any, ...]) -> None:
    """Install or restore the wrappers for the active ``captures`` (the execute wrapper calls it)."""
    global _seen
    _seen = captures
    try:
        logs = _eager.wanted(captures)
        if logs and not _wrapped:
            _install()
            _find_inflight(logs)
        elif not logs and _wrapped and not _eager.watching():
            _restore()
    except Exception as exc:
        internal_error("django eager-load hooks", exc)


def release() -> None:
    """A capture stopped: note what is left, and restore Django's functions when no capture needs them."""
    if _inflight:
        _complete_inflight()
    if _direct:
        _complete_direct()
    if _wrapped and not _eager.watching():
        _restore()


# -- what ran ------------------------------------------------------------------------------------------


def _fetch_all(queryset: Any) -> None:
    fresh = queryset._result_cache is None
    _originals["_fetch_all"](queryset)
    if fresh:
        try:
            if queryset.query.select_related:
                logs = _eager.wanted()
                if logs:
                    _note_select_related(queryset, logs, _callsite.capture())
        except Exception as exc:
            internal_error("noting select_related", exc)


def _prefetch_related_objects(queryset: Any) -> None:
    _originals["_prefetch_related_objects"](queryset)
    try:
        logs = _eager.wanted()
        if logs:
            _note_prefetches(
                queryset._result_cache, queryset._prefetch_related_lookups, logs, _callsite.capture()
            )
    except Exception as exc:
        internal_error("noting prefetch_related", exc)


def _note_select_related(queryset: Any, logs: list[EagerLog], site: Any) -> None:
    rows = queryset._result_cache
    if not rows or not hasattr(rows[0], "_state"):  # values(), or no rows: nothing was loaded
        return
    spec = queryset.query.select_related
    root = queryset.model.__name__
    loads: dict[str, EagerLoad] = {}

    def walk(instance: Any, prefix: str, tree: Any, parent: EagerLoad | None) -> None:
        cache = instance._state.fields_cache
        for name, related in cache.items():
            if tree is not True and name not in tree:
                continue  # cached by other means (a related manager's known objects)
            path = prefix + name
            load = loads.get(path)
            if load is None:
                relation = f"{type(instance).__name__}.{name}"
                load = loads[path] = EagerLoad(
                    orm="django", method="select_related", path=path, relation=relation, root=root,
                    rows=0, site=site, parent=parent,
                )  # fmt: skip
            load.rows += 1
            _owners.setdefault(id(instance), {})[name] = load
            if related is not None and hasattr(related, "_state"):
                walk(related, path + "__", True if tree is True else tree[name], load)

    for instance in rows:
        walk(instance, "", spec, None)
    for load in loads.values():
        _eager.loaded(logs, load)


def _note_prefetches(rows: Any, lookups: Any, logs: list[EagerLog], site: Any) -> None:
    if not rows or not hasattr(rows[0], "_state"):
        return
    root = type(rows[0]).__name__
    for lookup in lookups:
        through = getattr(lookup, "prefetch_through", lookup)
        to_attr = getattr(lookup, "to_attr", None)
        objects, parent = list(rows), None
        parts = through.split("__")
        for level, name in enumerate(parts):
            last = level == len(parts) - 1
            if last and to_attr:
                break  # a plain attribute: its reads cannot be seen
            path = "__".join(parts[: level + 1])
            load = EagerLoad(
                orm="django", method="prefetch_related", path=path, relation="", root=root,
                rows=0, site=site, parent=parent,
            )  # fmt: skip
            children: list[Any] = []
            for instance in objects:
                related = _cached(instance, name)
                if related is _MISSING:
                    continue
                load.relation = load.relation or f"{type(instance).__name__}.{name}"
                load.rows += 1
                _owners.setdefault(id(instance), {})[name] = load
                children.extend(related)
            if not load.rows:
                break
            _eager.loaded(logs, load)
            objects, parent = children, load


_MISSING: Any = object()


def _cached(instance: Any, name: str) -> Any:
    """The objects a prefetch cached on ``instance`` under the attribute ``name`` (a list), or _MISSING."""
    state = getattr(instance, "_state", None)
    if state is None:
        return _MISSING
    fields = state.fields_cache
    if name in fields:
        value = fields[name]
        return [] if value is None else [value]
    descriptor = _descriptor(type(instance), name)
    get = _originals.get("many") if descriptor is not None else None
    if get is None:
        return _MISSING
    manager = get(descriptor, instance, type(instance))
    key = getattr(manager, "prefetch_cache_name", None)  # many-to-many managers
    if key is None:  # a reverse foreign key's manager caches under its remote field's name
        remote = manager.field.remote_field
        key = getattr(remote, "cache_name", None) or remote.get_cache_name()
    found = getattr(instance, "_prefetched_objects_cache", {}).get(key)
    if found is None:
        return _MISSING
    cached = getattr(found, "_result_cache", None)
    return list(found if cached is None else cached)


def _direct_prefetch(frame: FrameType, event: Any) -> None:
    """Frame hook on prefetch_related_objects(): a user's call (not a queryset's), noted once it ends."""
    if not _wrapped:
        return None
    try:
        caller = frame.f_back
        if caller is None or caller.f_code in _queryset_prefetchers or any(e[0] is frame for e in _direct):
            return None
        logs = _eager.wanted()
        if logs:
            local = frame.f_locals
            site = _callsite.capture(None, caller)
            instances, lookups = list(local["model_instances"]), tuple(local["related_lookups"])
            _direct.append((frame, threading.get_ident(), instances, lookups, logs, site))
            _eager.defer(logs, _complete_direct)
    except Exception as exc:
        internal_error("noting prefetch_related_objects", exc)
    return None


def _complete_direct() -> None:
    """Note the prefetch_related_objects() calls of this thread that have returned."""
    running = set()
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        running.add(id(frame))
        frame = frame.f_back
    me = threading.get_ident()
    for entry in list(_direct):
        if entry[1] != me or id(entry[0]) in running:
            continue
        _direct.remove(entry)
        _note_prefetches(entry[2], entry[3], entry[4], entry[5])


def _descriptor(klass: type, name: str) -> Any:
    for owner in klass.__mro__:
        if name in vars(owner):
            return vars(owner)[name]
    return None


def _find_inflight(logs: list[EagerLog]) -> None:
    """Querysets whose evaluation runs the current statement: noted once their rows exist."""
    code = _originals["_fetch_all"].__code__
    site = None
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is code:
            queryset = frame.f_locals.get("self")
            if queryset is not None and queryset._result_cache is None:
                site = site or _callsite.capture()  # the user's line that evaluates it
                _inflight.append((queryset, logs, site))
                _eager.defer(logs, _complete_inflight)
        frame = frame.f_back  # type: ignore[assignment]


def _complete_inflight() -> None:
    for entry in list(_inflight):
        queryset, logs, site = entry
        if queryset._result_cache is None:
            continue
        _inflight.remove(entry)
        # Its prefetches ran after the wrappers were in: only its select_related is left to note.
        if queryset.query.select_related:
            _note_select_related(queryset, logs, site)


# -- what was read -------------------------------------------------------------------------------------


def _name_of(descriptor: Any, klass: type) -> str:
    for owner in klass.__mro__:
        for name, value in vars(owner).items():
            if value is descriptor:
                _names[descriptor] = name
                return name
    _names[descriptor] = ""
    return ""


def _reader(original: Any) -> Any:
    def __get__(self: Any, instance: Any, cls: Any = None) -> Any:
        if instance is not None and (_owners or _inflight or _direct):
            try:
                if _inflight:
                    _complete_inflight()
                if _direct:
                    _complete_direct()
                owned = _owners.get(id(instance))
                if owned is not None:
                    name = _names.get(self)
                    load = owned.get(_name_of(self, type(instance)) if name is None else name)
                    if load is not None and sys._getframe(1).f_code not in _internal_readers:
                        load.used = True
            except Exception as exc:
                internal_error("noting a related-object read", exc)
        return original(self, instance, cls)

    __get__.__wrapped__ = original  # type: ignore[attr-defined]
    return __get__


# -- installation ----------------------------------------------------------------------------------------


def _install() -> None:
    from django.apps import apps
    from django.db.models import Model, query
    from django.db.models.fields import related_descriptors as rd

    _internal_readers.add(Model._prepare_related_fields_for_save.__code__)  # type: ignore[attr-defined]
    if not _queryset_prefetchers:  # once: a hook of queryguard's own registry, run only inside a walk
        prefetchers: list[Any] = [query.QuerySet, query.RawQuerySet]
        for owner in prefetchers:
            _queryset_prefetchers.add(vars(owner)["_prefetch_related_objects"].__code__)
        register_frame_hook(query.prefetch_related_objects.__code__, _direct_prefetch)

    with _lock:
        if _wrapped:
            return
        targets: list[tuple[Any, str, Any]] = [
            (query.QuerySet, "_fetch_all", _fetch_all),
            (query.QuerySet, "_prefetch_related_objects", _prefetch_related_objects),
        ]
        readers: list[type] = [rd.ForwardManyToOneDescriptor, rd.ReverseOneToOneDescriptor]
        readers.append(rd.ReverseManyToOneDescriptor)  # and many-to-many, generic relations
        if apps.is_installed("django.contrib.contenttypes"):
            from django.contrib.contenttypes.fields import GenericForeignKey

            readers.append(GenericForeignKey)
        for klass in readers:
            targets.append((klass, "__get__", _reader(vars(klass)["__get__"])))
        _originals["many"] = vars(rd.ReverseManyToOneDescriptor)["__get__"]
        for owner, name, replacement in targets:
            original = vars(owner)[name]
            _originals[name] = original
            _wrapped.append((owner, name, original))
            setattr(owner, name, replacement)


def _restore() -> None:
    with _lock:
        while _wrapped:
            owner, name, original = _wrapped.pop()
            setattr(owner, name, original)
        # _originals stays: a wrapper still running in another thread (a request that began before this
        # restore) looks its original up there.
        _owners.clear()
        _inflight.clear()
        _direct.clear()


_eager.on_release(release)
