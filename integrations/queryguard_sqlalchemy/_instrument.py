"""What ``instrument`` added, per target, so that ``uninstrument`` removes exactly that."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.engine import Engine

from queryguard import Config

from . import _engine, _orm, _session

_lock = threading.RLock()
#: Engine (or the Engine class) -> the targets that asked for its statement listeners.
_engine_users: dict[Any, set[int]] = {}
#: id(target) -> (target, the engines it asked for, its session listeners).
_targets: dict[int, tuple[Any, set[Any], list[_session.Listener]]] = {}


def instrument(target: Any = None, *, config: Config | None = None) -> None:
    """Record the statements of ``target`` into the captures active when they run.

    ``target`` is an ``Engine`` or ``AsyncEngine``; a ``Session`` subclass, ``sessionmaker`` or
    ``async_sessionmaker`` (the engines its sessions use are instrumented the first time a session begins
    on them: every statement of those engines is recorded from then on); or ``None`` for every engine of the
    process, existing and future. ORM lazy loads, deferred and expired column loads are named whichever
    way it was turned on. Instrumenting a target again does nothing.

    ``config`` is for session targets only: with it, each top-level session transaction that runs outside
    any capture (a script, a worker task) becomes a capture of its own with these settings, and its
    findings are acted on when the transaction ends. An engine opens no unit of work of its own: its
    statements go to the captures of the request, test or block around them, so ``config`` changes nothing
    there.
    """
    if config is not None and not isinstance(config, Config):
        raise TypeError(f"config must be a queryguard.Config or None, got {config!r}")
    resolved = _resolve(target)
    with _lock:
        if id(resolved) in _targets:
            return
        if not _targets:
            _orm.listen()
        engines: set[Any] = set()
        listeners: list[_session.Listener] = []
        _targets[id(resolved)] = (resolved, engines, listeners)
        if resolved is Engine or isinstance(resolved, Engine):
            _use_engine(resolved, id(resolved), engines)
        else:
            listeners.append(_session.engine_listener(resolved, _engine_callback(id(resolved), engines)))
            if config is not None:
                listeners.extend(_session.unit_listeners(resolved, config))
            _session.listen(listeners)


def uninstrument(target: Any = None) -> None:
    """Remove every listener that ``instrument(target)`` added (and nothing else); harmless if there is none.

    ``uninstrument()`` undoes ``instrument()``; an engine that was also instrumented on its own stays so.
    """
    resolved = _resolve(target)
    with _lock:
        entry = _targets.pop(id(resolved), None)
        if entry is None:
            return
        _, engines, listeners = entry
        _session.remove(listeners)
        for engine in engines:
            users = _engine_users.get(engine)
            if users is not None:
                users.discard(id(resolved))
                if not users:
                    del _engine_users[engine]
                    _engine.remove(engine)
        if not _targets:
            _orm.remove()


def _resolve(target: Any) -> Any:
    if target is None or target is Engine:
        return Engine
    if isinstance(target, Engine):
        return target
    sync_engine = getattr(target, "sync_engine", None)  # AsyncEngine
    if isinstance(sync_engine, Engine):
        return sync_engine
    cls = _session.session_class(target)
    if cls is not None:
        return cls
    raise TypeError(
        "instrument() takes an Engine, an AsyncEngine, a Session class, a sessionmaker or an "
        f"async_sessionmaker (or nothing, for every engine); got {target!r}"
    )


def _use_engine(engine: Any, user: int, engines: set[Any]) -> None:
    users = _engine_users.setdefault(engine, set())
    if not users:
        _engine.listen(engine)
    users.add(user)
    engines.add(engine)


def _engine_callback(user: int, engines: set[Any]) -> Any:
    def on_engine(engine: Any) -> None:
        if engine in engines:
            return
        with _lock:
            if user in _targets and engine not in engines:
                _use_engine(engine, user, engines)

    return on_engine
