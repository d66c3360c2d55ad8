"""Which eager loads ran and which were read: the SQLAlchemy side of ``unused_eager_load``.

SQLAlchemy has no event for reading an attribute. Only while a capture with ``unused_eager_load`` on is
active (in any thread), queryguard wraps ``create_row_processor`` of the joined, select-in, subquery and
immediate loader strategies (each call is one eager load of one relationship by one query: ``joinedload``,
``selectinload``..., or a relationship whose ``lazy=`` default is eager) and
``InstrumentedAttribute.__get__`` (every read of a mapped attribute, ``awaitable_attrs`` included), and
listens to the mappers' ``load`` event (which instance a query built). Each wrapper calls the original;
the classes get their own functions back, exactly, and the listener is removed, when the last such
capture stops. Nothing is stored on the user's instances: dicts by ``id()``, cleared on restore, say which
load an instance's relationship came from.
"""

from __future__ import annotations

import threading
from typing import Any

from queryguard import _callsite, _eager
from queryguard._eager import EagerLoad
from queryguard._guard import internal_error

_lock = threading.Lock()
#: id(instance) -> {relationship key: the load that filled it}
_owned: dict[int, dict[str, EagerLoad]] = {}
#: id(query context) -> (the context, kept so that its id stays its own; {parent mapper: its loads there}).
#: Only the contexts of queries that eager-load are kept, until the wrappers are restored.
_by_context: dict[int, tuple[Any, dict[Any, list[EagerLoad]]]] = {}
#: (owner, name, original) of every wrapped attribute, while installed
_wrapped: list[tuple[Any, str, Any]] = []
_listening = False
_seen: object = None
#: per thread, the select-in or immediate loads whose queries are running (innermost last)
_running = threading.local()


def _supported() -> bool:
    import sqlalchemy

    return tuple(int(part) for part in sqlalchemy.__version__.split(".")[:2]) >= (2, 1)


#: The loader strategies read here are SQLAlchemy 2.1's; on 2.0 the detector sees no loads (and says nothing).
SUPPORTED = _supported()


def check(captures: tuple[Any, ...]) -> None:
    """Install or restore the wrappers for the active ``captures`` (the statement hook calls it)."""
    global _seen
    _seen = captures
    if not SUPPORTED:
        return
    try:
        if _eager.wanted(captures):
            if not _wrapped:
                _install()
        elif _wrapped and not _eager.watching():
            _restore()
    except Exception as exc:
        internal_error("sqlalchemy eager-load hooks", exc)


def release() -> None:
    """Restore SQLAlchemy's functions when no capture with the detector on is left."""
    if _wrapped and not _eager.watching():
        _restore()


# -- what ran ------------------------------------------------------------------------------------------


def _processor(original: Any, method: str) -> Any:
    def create_row_processor(
        self: Any,
        context: Any,
        query_entity: Any,
        path: Any,
        loadopt: Any,
        mapper: Any,
        result: Any,
        adapter: Any,
        populators: Any,
    ) -> Any:
        # Noted first: a joined load builds the processors of the loads chained under it inside this call.
        try:
            logs = _eager.wanted()
            if logs:
                _note(self, context, path, method if loadopt is not None else "lazy=", logs)
        except Exception as exc:
            internal_error("noting an eager load", exc)
        return original(self, context, query_entity, path, loadopt, mapper, result, adapter, populators)

    create_row_processor.__wrapped__ = original  # type: ignore[attr-defined]
    return create_row_processor


def _note(strategy: Any, context: Any, path: Any, method: str, logs: list[_eager.EagerLog]) -> None:
    parent_mapper = strategy.parent
    relation = f"{parent_mapper.class_.__name__}.{strategy.key}"
    entry = _by_context.get(id(context))
    if entry is None:
        entry = _by_context[id(context)] = (context, {})
    loads = entry[1]
    parent = None
    if len(path.path) > 1:  # chained from a relationship this query joined in: its load is the parent
        for others in loads.values():
            for other in others:
                if other.relation == _relation_of(path):
                    parent = other
    stack = getattr(_running, "stack", None)
    if parent is None and len(path.path) == 1 and stack:
        parent = stack[-1]
    root = path.path[0].class_.__name__ if hasattr(path.path[0], "class_") else relation.partition(".")[0]
    load = EagerLoad(
        orm="sqlalchemy", method=method, path=relation, relation=relation, root=root, rows=0,
        site=_callsite.capture(), parent=parent,
    )  # fmt: skip
    loads.setdefault(parent_mapper, []).append(load)
    _eager.loaded(logs, load)


def _post_load(original: Any) -> Any:
    # A select-in or immediate load runs its own query for the parents' states: the loads chained under it
    # (selectinload(A.bs).selectinload(B.cs)) are noted while it runs, with their path begun afresh.
    def _load_for_path(self: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
        entry = _by_context.get(id(context))
        relation = f"{self.parent.class_.__name__}.{self.key}"
        mine = [load for load in entry[1].get(self.parent, ()) if load.relation == relation] if entry else []
        stack = _running.__dict__.setdefault("stack", [])
        stack.append(mine[-1] if mine else None)
        try:
            return original(self, context, *args, **kwargs)
        finally:
            stack.pop()

    _load_for_path.__wrapped__ = original  # type: ignore[attr-defined]
    return _load_for_path


def _relation_of(path: Any) -> str:
    # The path to the parent entity: [..., Mapper[A], A.rel, Mapper[B]]: the relationship that reached B.
    prop = path.path[-2]
    return f"{prop.parent.class_.__name__}.{prop.key}"


def _on_load(state: Any, context: Any, *args: Any) -> None:
    try:
        entry = _by_context.get(id(context))
        if entry is None:
            return
        loads = entry[1]
        mapper = state.mapper
        instance = state.obj()
        for step in mapper.iterate_to_root():
            for load in loads.get(step, ()):
                load.rows += 1
                _owned.setdefault(id(instance), {})[load.relation.rpartition(".")[2]] = load
    except Exception as exc:
        internal_error("noting a loaded instance", exc)


# -- what was read -------------------------------------------------------------------------------------


def _reader(original: Any) -> Any:
    def __get__(self: Any, instance: Any, owner: Any) -> Any:
        if instance is not None and _owned:
            owned = _owned.get(id(instance))
            if owned is not None:
                load = owned.get(self.key)
                if load is not None:
                    load.used = True
        return original(self, instance, owner)

    __get__.__wrapped__ = original  # type: ignore[attr-defined]
    return __get__


# -- installation ----------------------------------------------------------------------------------------


def _strategy(strategies: Any, name: str) -> Any:
    # SQLAlchemy 2.1 names its loader strategies with a leading underscore; 2.0 without.
    klass = getattr(strategies, name, None)
    return klass if klass is not None else getattr(strategies, name.lstrip("_"))


def _install() -> None:
    global _listening
    from sqlalchemy import event
    from sqlalchemy.orm import Mapper, attributes, strategies

    with _lock:
        if _wrapped:
            return
        loaders = {
            "_JoinedLoader": "joinedload",
            "_SelectInLoader": "selectinload",
            "_SubqueryLoader": "subqueryload",
            "_ImmediateLoader": "immediateload",
        }
        targets: list[tuple[Any, str, Any]] = []
        for name, method in loaders.items():
            klass = _strategy(strategies, name)
            targets.append(
                (klass, "create_row_processor", _processor(vars(klass)["create_row_processor"], method))
            )
        for klass in (_strategy(strategies, "_SelectInLoader"), _strategy(strategies, "_ImmediateLoader")):
            targets.append((klass, "_load_for_path", _post_load(vars(klass)["_load_for_path"])))
        attribute = attributes.InstrumentedAttribute
        targets.append((attribute, "__get__", _reader(vars(attribute)["__get__"])))
        for owner, name, replacement in targets:
            _wrapped.append((owner, name, vars(owner)[name]))
            setattr(owner, name, replacement)
        event.listen(Mapper, "load", _on_load, raw=True)
        _listening = True


def _restore() -> None:
    global _listening
    from sqlalchemy import event
    from sqlalchemy.orm import Mapper

    with _lock:
        while _wrapped:
            owner, name, original = _wrapped.pop()
            setattr(owner, name, original)
        if _listening and event.contains(Mapper, "load", _on_load):
            event.remove(Mapper, "load", _on_load)
        _listening = False
        _owned.clear()
        _by_context.clear()


_eager.on_release(release)
