"""Management commands as units: with ``QUERYGUARD["COMMANDS"]`` each command runs one unit.

The unit is named ``manage.py <name>``; it applies the configured action, and the command prints the unit's
report to its own stderr when it ends with findings (or suppressed ones). ``queryguard_audit`` is never one:
it captures the pages it requests itself.

Django has no signal around a command, so :meth:`BaseCommand.execute` is wrapped once, when the app is
ready; the wrapper does nothing but call the original for a command the setting does not name.
"""

from __future__ import annotations

import functools
from typing import Any

from django.core.management.base import BaseCommand

from queryguard import Capture, ConfigurationError, unit
from queryguard._guard import internal_error

from . import conf

#: Commands that are never a unit: the audit captures each page it requests on its own.
NEVER = frozenset({"queryguard_audit"})
_installed: list[Any] = []


def command_name(command: BaseCommand) -> str:
    """The name ``manage.py`` knows the command by: the last part of its module."""
    return type(command).__module__.rpartition(".")[2]


def wanted(name: str) -> bool:
    """Whether ``QUERYGUARD["COMMANDS"]`` makes the command ``name`` a unit."""
    if name in NEVER:
        return False
    try:
        commands = conf.get().commands
    except ConfigurationError:  # the system checks and the middleware say so; the command runs as it is
        return False
    return commands is True or (isinstance(commands, frozenset) and name in commands)


def install() -> None:
    """Wrap :meth:`BaseCommand.execute` (once per process)."""
    if _installed:
        return
    original = BaseCommand.execute

    @functools.wraps(original)
    def execute(self: BaseCommand, *args: Any, **options: Any) -> Any:
        name = command_name(self)
        if not wanted(name):
            return original(self, *args, **options)
        cap = unit(f"manage.py {name}", conf.get().config)
        try:
            with cap:
                return original(self, *args, **options)
        finally:
            _print(self, cap)

    _installed.append(original)
    BaseCommand.execute = execute  # type: ignore[method-assign]


def uninstall() -> None:
    """Restore :meth:`BaseCommand.execute` exactly (tests)."""
    if _installed:
        BaseCommand.execute = _installed.pop()  # type: ignore[method-assign]


def _print(command: BaseCommand, cap: Capture) -> None:
    try:
        if cap.findings or cap.suppressed:
            command.stderr.write(cap.report.to_text(), ending="")
    except Exception as exc:
        internal_error("management command report", exc)
