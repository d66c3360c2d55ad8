"""Small shared state: what the frame hooks learn while one statement's stack is walked, and instance origins.

A *walk* is the call-site capture of one statement; the hooks run innermost frame first and record what
they found: how sure they are of the relation, whether the statement is connection setup, the model whose
instances the statement loads. A Django statement (:class:`Event`) carries this itself; another adapter's
statement gets a :class:`Walk`. An *origin* remembers how an instance was reached from the queryset the user
wrote (``("Author", "books", True)``: through ``Author.books``, a to-many relation), so that an N+1 on
``book.reviews`` can name the full ``"books__reviews"`` lookup.
"""

from __future__ import annotations

import contextvars
import threading
from typing import Any

from queryguard._events import QueryEvent

#: ``(root model name, lookup path from it, whether the path crosses a to-many relation)``.
Origin = tuple[str, str, bool]

#: Set while ``queryguard_audit`` requests pages: the middleware then leaves the capture to the command.
auditing: contextvars.ContextVar[bool] = contextvars.ContextVar("queryguard_django_auditing", default=False)


class Walk:
    """What the hooks found about one statement recorded by another adapter (see :class:`Event`)."""

    __slots__ = ("awaited", "cache", "event", "holder", "level", "queryset", "setup", "tag", "template")

    def __init__(self, event: Any) -> None:
        self.event = event
        self.level = 0  # how much the hooks know: see _relations (FILTER < QUERYSET < DESCRIPTOR < DEFERRED)
        self.setup = False  # connection setup: not the user's statement
        self.template = False  # the innermost template node is already named
        self.awaited = False  # the awaiting coroutine is already named
        self.queryset: Any = None  # the queryset whose evaluation runs the statement
        self.holder: Any = None  # or the instance whose field cache receives what it loads (to-one relations)
        self.cache: str | None = None  # the key in that field cache
        self.tag: Origin | None = None  # the origin of the instances it loads


class Event(QueryEvent):
    """A statement of a Django connection: it carries its own walk (the fields of :class:`Walk`).

    The hooks then find what they share without a per-thread look-up or a second object. It is built on
    every statement with a positional call that sets every slot itself, about twice as fast as
    ``QueryEvent``'s keywords; a test checks that no slot of ``QueryEvent`` is left unset.
    """

    __slots__ = ("awaited", "cache", "holder", "level", "queryset", "setup", "tag", "template")

    def __init__(
        self,
        sql: str,
        params: Any,
        duration_ms: float,
        vendor: str,
        alias: str,
        rowcount: int,
        executemany: bool,
        error: str | None,
        started: float,
        explainer: Any,
    ) -> None:
        self.sql = sql
        self.params = params
        self.duration_ms = duration_ms
        self.vendor = vendor
        self.alias = alias
        self.rowcount = rowcount
        self.executemany = executemany
        self.is_async = self.blocking = False
        self.orm = "django"
        self.relation = self.relation_kind = self.relation_path = self.relation_root = self.batch = None
        self.entry = self.task = 0
        self.error = error
        self.started = started
        self.explainer = explainer
        self._site = None
        self.level = 0
        self.setup = self.template = self.awaited = False
        self.queryset: Any = None
        self.holder: Any = None
        self.cache: str | None = None
        self.tag: Origin | None = None


#: What the hooks read and write: a Django statement itself, or the walk of another adapter's statement.
WalkState = Event | Walk


class _Local(threading.local):
    walk: Walk | None = None


_local = _Local()


def current(event: Any) -> WalkState | None:
    """The walk of ``event`` (a new one for statements recorded by another adapter); None without an event."""
    if type(event) is Event:
        return event
    if event is None:
        return None
    walk = _local.walk
    if walk is None or walk.event is not event:
        walk = _local.walk = Walk(event)
    return walk


#: Where an instance keeps its origin: on Django's per-instance ``_state`` (a plain ModelState object), so
#: that it lives and dies with the instance at the cost of one attribute.
ORIGIN_ATTRIBUTE = "queryguard_origin"


def origin_of(instance: Any) -> Origin | None:
    """How ``instance`` was reached from the user's queryset, when a related load created it."""
    origin: Origin | None = getattr(getattr(instance, "_state", None), ORIGIN_ATTRIBUTE, None)
    return origin


def tag(instance: Any, origin: Origin) -> None:
    """Remember the origin of ``instance``."""
    state = getattr(instance, "_state", None)
    if state is not None:
        setattr(state, ORIGIN_ATTRIBUTE, origin)


def extend(parent: object, attr: str, to_many: bool) -> Origin:
    """The origin of what ``parent.<attr>`` loads."""
    found = origin_of(parent)
    if found is None:
        return type(parent).__name__, attr, to_many
    root, path, many = found
    return root, f"{path}__{attr}", many or to_many
