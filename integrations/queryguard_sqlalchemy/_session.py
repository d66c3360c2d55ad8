"""Session listeners: instrument the engines a session factory's sessions use, and (with a config) give
each top-level session transaction that runs outside any capture a capture of its own."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction

from queryguard import Capture, Config
from queryguard._capture import _active
from queryguard._guard import internal_error

Listener = tuple[type[Session], str, Callable[..., Any]]
#: Name of the captures opened per session transaction.
UNIT_NAME = "Session transaction"


def session_class(target: Any) -> type[Session] | None:
    """The ``Session`` class whose events cover ``target`` (a Session class, sessionmaker or async one)."""
    if isinstance(target, type):
        if issubclass(target, Session):
            return target
        sync_class = getattr(target, "sync_session_class", None)  # an AsyncSession class
        return sync_class if isinstance(sync_class, type) and issubclass(sync_class, Session) else None
    cls = getattr(target, "class_", None)
    if isinstance(cls, type) and issubclass(cls, Session):  # sessionmaker
        return cls
    kw = getattr(target, "kw", None)
    if isinstance(cls, type) and isinstance(kw, dict):  # async_sessionmaker: its sessions' sync class
        sync_class = kw.get("sync_session_class") or getattr(cls, "sync_session_class", None)
        if isinstance(sync_class, type) and issubclass(sync_class, Session):
            return sync_class
    return None


def engine_listener(cls: type[Session], on_engine: Callable[[Any], None]) -> Listener:
    """An ``after_begin`` listener that hands each engine a session of ``cls`` uses to ``on_engine``."""

    def after_begin(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
        try:
            on_engine(connection.engine)
        except Exception as exc:
            internal_error("sqlalchemy after_begin", exc)

    return (cls, "after_begin", after_begin)


def unit_listeners(cls: type[Session], config: Config) -> list[Listener]:
    """Listeners that run each top-level transaction outside any capture in a capture of its own."""
    units: weakref.WeakKeyDictionary[SessionTransaction, Capture] = weakref.WeakKeyDictionary()

    def after_transaction_create(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is not None:
            return
        try:
            active = _active.get()
            if any(cap.ended is None for cap in active):
                return
            if active:  # units of leaked sessions, ended elsewhere: stop feeding them
                _active.set(())
            units[transaction] = Capture(config, name=UNIT_NAME).start()
        except Exception as exc:
            internal_error("sqlalchemy after_transaction_create", exc)

    def after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
        cap = units.pop(transaction, None) if transaction.parent is None else None
        if cap is not None:
            cap.stop()

    return [
        (cls, "after_transaction_create", after_transaction_create),
        (cls, "after_transaction_end", after_transaction_end),
    ]


def listen(listeners: list[Listener]) -> None:
    """Add session listeners."""
    for cls, name, fn in listeners:
        if not event.contains(cls, name, fn):
            event.listen(cls, name, fn)


def remove(listeners: list[Listener]) -> None:
    """Remove session listeners."""
    for cls, name, fn in listeners:
        if event.contains(cls, name, fn):
            event.remove(cls, name, fn)
