"""ORM attribution: which relationship or column a statement loads, and how many rows it brought back.

SQLAlchemy has no event for "an attribute access is about to load", and a ``do_orm_execute`` listener makes
every ``Session.execute`` run its pre-execution step twice (about 5% of a lazy load, capture or not). So
the ORM facts are read where queryguard looks anyway: the call-site walk, which runs only for statements
recorded into an active capture, hands the frames of a few SQLAlchemy functions to frame hooks.

* ``AttributeImpl._fire_loader_callables`` is on the stack when reading an attribute loads it: a
  relationship (a lazy load, ``Book.author``), a deferred column, or an expired one.
* ``PostLoad.invoke`` runs eager loaders (``selectinload``, ``subqueryload``, ``immediateload``) while an
  outer statement's rows load: their statements are never attributed to the attribute access that started
  the outer one, so an eager load is never reported as the N+1 it prevents.
* ``Session._execute_internal`` and ``Session._flush`` mark a statement as run by the ORM; a statement that
  filters on a relationship's lazy clause (``with_parent()``, a write-only collection's ``select()``, and the
  counts of either) is a load of that relationship (see ``_criteria``).
* A dynamic relationship's query (``_AppenderMixin._iter``, ``__getitem__``, ``count``) loads or counts it.

A hooked function missing from the installed SQLAlchemy is skipped: statements are still recorded, only
unnamed. Rows: the driver does not know how many rows a SELECT returns on SQLite; the instance ``load`` and
``refresh`` events count the instances the ORM builds from the statement recorded last in the context.
"""

from __future__ import annotations

import contextvars
import itertools
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import (
    Mapper,
    RelationshipDirection,
    RelationshipProperty,
    Session,
    attributes,
    dynamic,
    loading,
)

from queryguard import QueryEvent
from queryguard._callsite import register_frame_hook
from queryguard._capture import _active

from ._criteria import relation_of


class Statement(Protocol):
    """What a frame hook reads and fills: a QueryEvent, or the facts the call-site cache keeps."""

    sql: str
    orm: str | None
    relation: str | None
    relation_kind: str | None
    relation_path: str | None
    relation_root: str | None


_KINDS = {
    RelationshipDirection.MANYTOONE: "many_to_one",
    RelationshipDirection.ONETOMANY: "one_to_many",
    RelationshipDirection.MANYTOMANY: "many_to_many",
}
#: The statement whose rows the ORM is turning into instances (set for ORM SELECTs without a row count).
counting: contextvars.ContextVar[QueryEvent | None] = contextvars.ContextVar(
    "queryguard_counting", default=None
)
_relations: dict[int, tuple[Any, str, str | None, str, str | None]] = {}
_EAGER = ""  # marks, during the walk, a statement of an eager loader


def _is_write(query: Statement) -> bool:
    # A flush's statements, as the ORM writes them: upper case, nothing before the verb.
    return query.sql.startswith(("INSERT", "UPDATE", "DELETE"))


def _orm_hook(frame: FrameType, query: Statement) -> None:
    query.orm = "sqlalchemy"


def _statement_hook(frame: FrameType, query: Statement) -> None:
    """``Session._execute_internal(self, statement, ...)``: an ORM statement, maybe a relationship's load."""
    query.orm = "sqlalchemy"
    if query.relation is None and not _is_write(query):
        named = relation_of(frame.f_locals.get("statement"), _KINDS)
        if named is not None:
            query.relation, query.relation_kind, query.relation_path, query.relation_root = named


def _dynamic_hook(frame: FrameType, query: Statement) -> None:
    """``_AppenderMixin._iter``/``__getitem__``/``count``: a dynamic relationship queried for one parent."""
    if _is_write(query):
        return  # its autoflush
    known = _known(frame.f_locals.get("self").attr)  # type: ignore[union-attr]
    if known is not None:
        kind = "count" if frame.f_code.co_name == "count" else "dynamic"
        query.relation, query.relation_kind, query.relation_path, query.relation_root = (
            known[1],
            kind,
            known[3],
            known[4],
        )


def _post_load_hook(frame: FrameType, query: Statement) -> None:
    # An eager load (selectinload, subqueryload, immediateload) run while the rows of an outer statement
    # are being loaded: whatever attribute access started that outer statement did not run this one.
    if query.relation is None:
        query.relation = _EAGER


def _attribute_load_hook(frame: FrameType, query: Statement) -> None:
    """``AttributeImpl._fire_loader_callables(self, state, key, passive)``: an attribute access loads."""
    if query.relation is not None or _is_write(query):
        return  # an autoflush INSERT run on the way to the load is not the load
    local = frame.f_locals
    known = _known(local.get("self"))
    if known is None:
        return
    query.relation, query.relation_kind, query.relation_path, query.relation_root = known[1:]
    if known[2] == "deferred" and local.get("key") in getattr(local.get("state"), "expired_attributes", ()):
        query.relation_kind = "expired"


def _known(impl: Any) -> tuple[Any, str, str | None, str, str | None] | None:
    """The cached facts of an attribute implementation: (impl, relation, kind, key, related class)."""
    known = _relations.get(id(impl))
    if known is None or known[0] is not impl:
        prop = getattr(impl, "parent_token", None)
        if prop is None:
            return None
        known = _relations[id(impl)] = (impl, *_describe(prop))
    return known


def _describe(prop: Any) -> tuple[str, str | None, str, str | None]:
    relation = f"{prop.parent.class_.__name__}.{prop.key}"
    if not isinstance(prop, RelationshipProperty):
        return relation, "deferred", prop.key, None
    kind = _KINDS.get(prop.direction)
    if kind == "one_to_many" and not prop.uselist:
        kind = "one_to_one_reverse"
    return relation, kind, prop.key, prop.mapper.class_.__name__


def _code(owner: Any, *names: str) -> CodeType | None:
    for name in names:
        code = getattr(getattr(owner, name, None), "__code__", None)
        if isinstance(code, CodeType):
            return code
    return None


def _hooks() -> list[tuple[CodeType, Callable[[FrameType, Any], None]]]:
    impl = getattr(attributes, "_AttributeImpl", None) or getattr(attributes, "AttributeImpl", None)
    post_load = getattr(loading, "_PostLoad", None) or getattr(loading, "PostLoad", None)
    appender = getattr(dynamic, "_AppenderMixin", None) or getattr(dynamic, "AppenderMixin", None)
    found = [
        (_code(Session, "_execute_internal", "execute"), _statement_hook),
        (_code(Session, "_flush"), _orm_hook),
        (_code(impl, "_fire_loader_callables"), _attribute_load_hook),
        (_code(post_load, "invoke"), _post_load_hook),
        *((_code(appender, name), _dynamic_hook) for name in ("_iter", "__getitem__", "count")),
    ]
    return [(code, hook) for code, hook in found if code is not None]


_registered = False


def register_hooks() -> None:
    """Register the frame hooks with the call-site walker (once: they cost nothing until a walk meets one)."""
    global _registered
    if not _registered:
        for code, hook in _hooks():
            register_frame_hook(code, hook)
        _registered = True


def on_load(target: object, context: Any, *args: Any) -> None:
    """Count an instance built from a row of the statement being loaded (``load`` and ``refresh``)."""
    if _active.get():
        query = counting.get()
        if query is not None:
            query.rowcount += 1


#: The session flushing in this context and its unit of work: the statements a flush sends one by one
#: (new rows whose keys it must read back, on SQLite) are the unit of work's batch, not the user's loop.
_flushing: contextvars.ContextVar[tuple[Session, int] | None] = contextvars.ContextVar(
    "queryguard_flush", default=None
)


_flushes = itertools.count(1)  # a serial, not id(): a finished flush's id is soon another's


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    _flushing.set((session, next(_flushes)))


def _after_flush(session: Session, flush_context: Any) -> None:
    _flushing.set(None)


def flush_batch() -> int | None:
    """The id of the flush sending the current statement, or None outside a flush (one context look-up)."""
    flushing = _flushing.get()
    if flushing is None:
        return None
    # A flush that raised never reached after_flush_postexec: the session says whether it still runs.
    return flushing[1] if getattr(flushing[0], "_flushing", False) else None


_LISTENERS: tuple[tuple[Any, str, Any], ...] = ((Mapper, "load", on_load), (Mapper, "refresh", on_load))
_SESSION_LISTENERS: tuple[tuple[Any, str, Any], ...] = (
    (Session, "before_flush", _before_flush),
    (Session, "after_flush_postexec", _after_flush),
)


def listen() -> None:
    """Add the row-counting listeners for every mapped class, and the flush listeners of every session."""
    register_hooks()
    for target, name, fn in _LISTENERS:
        if not event.contains(target, name, fn):
            event.listen(target, name, fn, raw=True)  # raw: the InstanceState, no wrapper call
    for target, name, fn in _SESSION_LISTENERS:
        if not event.contains(target, name, fn):
            event.listen(target, name, fn)


def remove() -> None:
    """Remove what :func:`listen` added (the frame hooks stay: they only run inside a call-site walk)."""
    for target, name, fn in (*_LISTENERS, *_SESSION_LISTENERS):
        if event.contains(target, name, fn):
            event.remove(target, name, fn)


def listening() -> bool:
    """True when any ORM listener of queryguard is in place."""
    return any(event.contains(target, name, fn) for target, name, fn in (*_LISTENERS, *_SESSION_LISTENERS))
