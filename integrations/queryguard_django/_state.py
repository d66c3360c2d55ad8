"""Small shared state: what the frame hooks learn while one statement's stack is walked, and instance origins.

A *walk* is the call-site capture of one statement; the hooks run innermost frame first and record here what
they found (how sure they are of the relation, whether the statement is connection setup, the model whose
instances the statement loads). An *origin* remembers how an instance was reached from the queryset the user
wrote (``("Author", "books", True)``: through ``Author.books``, a to-many relation), so that an N+1 on
``book.reviews`` can name the full ``"books__reviews"`` lookup.
"""

from __future__ import annotations

import contextvars
import threading
from typing import Any

#: ``(root model name, lookup path from it, whether the path crosses a to-many relation)``.
Origin = tuple[str, str, bool]

#: Set while ``queryguard_audit`` requests pages: the middleware then leaves the capture to the command.
auditing: contextvars.ContextVar[bool] = contextvars.ContextVar("queryguard_django_auditing", default=False)


class Walk:
    """What the hooks found about one statement."""

    __slots__ = ("awaited", "event", "level", "queryset", "setup", "tag", "template")

    def __init__(self, event: Any) -> None:
        self.event = event
        self.level = 0  # how much the hooks know: see _relations (FILTER < QUERYSET < DESCRIPTOR < DEFERRED)
        self.setup = False  # connection setup: not the user's statement
        self.template = False  # the innermost template node is already named
        self.awaited = False  # the awaiting coroutine is already named
        self.queryset: Any = None  # the queryset whose evaluation runs the statement
        self.tag: Origin | None = None  # the origin of the instances it loads


class _Local(threading.local):
    walk: Walk | None = None


_local = _Local()


def begin(event: Any) -> Walk:
    """Start the walk of ``event`` in this thread."""
    walk = _local.walk = Walk(event)
    return walk


def current(event: Any) -> Walk | None:
    """The walk of ``event`` (a new one for statements recorded by another adapter); None without an event."""
    walk = _local.walk
    if walk is not None and walk.event is event:
        return walk
    return None if event is None else begin(event)


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
