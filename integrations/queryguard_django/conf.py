"""The ``QUERYGUARD`` setting, read through one cached, typed accessor.

``QUERYGUARD`` holds the upper-case keys of :class:`queryguard.Config` (``"ACTION"``,
``"N_PLUS_ONE_THRESHOLD"``...) plus the Django-only keys below. The parsed value is cached and re-read when a
test changes ``QUERYGUARD`` with ``override_settings``. ``DEBUG`` and ``INTERNAL_IPS`` are read on each use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest
from django.utils.module_loading import import_string

from queryguard import Config, ConfigurationError, _ignore
from queryguard._config import SEVERITIES, did_you_mean
from queryguard._guard import internal_error

#: Keys that only the Django integration reads, with what they accept.
DJANGO_KEYS = {
    "ALLOWED": "a callable or the dotted path of one: (request) -> bool",
    "AUDIT_FAIL_SEVERITY": "one of 'info', 'warning', 'error'",
    "COMMANDS": "True, False or a list of management command names",
    "HEADERS": "True, False or None (None follows DEBUG)",
    "IGNORE": "a list of 'kind path:function' or 'kind Model.relation' entries",
    "REPORT_PAGE": "True, False or None (None follows DEBUG)",
    "RING_SIZE": "an integer >= 0",
}
IGNORE_SOURCE = "QUERYGUARD['IGNORE']"
CONFIG_KEYS = frozenset(field.name.upper() for field in dataclasses.fields(Config))
RequestCheck = Callable[[HttpRequest], bool]


@dataclasses.dataclass(frozen=True)
class DjangoSettings:
    """The parsed ``QUERYGUARD`` setting."""

    config: Config = dataclasses.field(default_factory=Config)
    report_page: bool | None = None
    headers: bool | None = None
    allowed: RequestCheck | None = None
    ring_size: int = 50
    audit_fail_severity: str = "warning"
    #: Management commands that run as units: True (every one), or their names.
    commands: bool | frozenset[str] = False
    ignore: tuple[str, ...] = ()

    def page_enabled(self) -> bool:
        """Whether the report page (and the ring buffer behind it) is on: ``REPORT_PAGE``, else ``DEBUG``."""
        return bool(settings.DEBUG) if self.report_page is None else self.report_page

    def headers_enabled(self) -> bool:
        """Whether responses may carry queryguard headers: ``HEADERS``, else ``DEBUG``."""
        return bool(settings.DEBUG) if self.headers is None else self.headers

    def client_allowed(self, request: HttpRequest) -> bool:
        """The ``ALLOWED`` callback's answer, or else whether ``REMOTE_ADDR`` is in ``INTERNAL_IPS``."""
        if self.allowed is None:
            return request.META.get("REMOTE_ADDR") in settings.INTERNAL_IPS
        try:
            return self.allowed(request) is True
        except Exception as exc:
            internal_error("QUERYGUARD['ALLOWED'] callback", exc)
            return False


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with the setting: a system check id, a message and a hint."""

    id: str
    message: str
    hint: str


_cached: DjangoSettings | None = None


def get() -> DjangoSettings:
    """The current settings (cached); raises :class:`queryguard.ConfigurationError` when they are invalid."""
    global _cached
    if _cached is None:
        parsed = parse(getattr(settings, "QUERYGUARD", None))
        _ignore.configure(parsed.ignore, source=IGNORE_SOURCE)
        _cached = parsed
    return _cached


def clear(**kwargs: Any) -> None:
    """Forget the cached settings (connected to ``setting_changed``)."""
    global _cached
    if kwargs.get("setting", "QUERYGUARD") == "QUERYGUARD":
        _cached = None
        _ignore.configure((), source=IGNORE_SOURCE)


def connect() -> None:
    """Re-read the setting whenever a test changes it."""
    setting_changed.connect(clear, dispatch_uid="queryguard_django.conf.clear")


def parse(raw: object) -> DjangoSettings:
    """Parse a ``QUERYGUARD`` value; raise :class:`queryguard.ConfigurationError` on the first problem."""
    found = problems(raw)
    if found:
        raise ConfigurationError(found[0].message)
    values: Mapping[str, Any] = raw or {}  # type: ignore[assignment]
    config_values = {key: _resolve(key, value) for key, value in values.items() if key in CONFIG_KEYS}
    return DjangoSettings(
        config=Config.from_mapping(config_values),
        report_page=values.get("REPORT_PAGE"),
        headers=values.get("HEADERS"),
        allowed=_resolve("ALLOWED", values.get("ALLOWED")),
        ring_size=values.get("RING_SIZE", 50),
        audit_fail_severity=values.get("AUDIT_FAIL_SEVERITY", "warning"),
        commands=_commands(values.get("COMMANDS", False)),
        ignore=tuple(values.get("IGNORE", ())),
    )


def _commands(value: Any) -> bool | frozenset[str]:
    return value if isinstance(value, bool) else frozenset(value)


def problems(raw: object) -> list[Problem]:
    """Everything wrong with a ``QUERYGUARD`` value, for the system checks."""
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        return [Problem("queryguard.E001", f"QUERYGUARD must be a dict, got {raw!r}", "QUERYGUARD = {...}")]
    found: list[Problem] = []
    for key, value in raw.items():
        problem = _check_key(key, value)
        if problem is not None:
            found.append(problem)
    return found


def _check_key(key: object, value: object) -> Problem | None:
    if key in CONFIG_KEYS:
        return _check_config_key(str(key), value)
    if key not in DJANGO_KEYS:
        keys = {*CONFIG_KEYS, *DJANGO_KEYS}
        if isinstance(key, str) and key.upper() in keys:
            hint = f"QUERYGUARD keys are upper case, like Django settings: use {key.upper()!r}"
            return Problem("queryguard.E002", f"QUERYGUARD has a lower-case key {key!r}", hint)
        message = f"QUERYGUARD has an unknown key {key!r}{did_you_mean(key, keys)}"
        return Problem("queryguard.E002", message, f"valid keys: {', '.join(sorted(keys))}")
    key = str(key)
    ok = {
        "ALLOWED": lambda: value is None or _callable(value),
        "AUDIT_FAIL_SEVERITY": lambda: value in SEVERITIES,
        "COMMANDS": lambda: isinstance(value, bool) or _names(value),
        "IGNORE": lambda: _entries(value),
        "HEADERS": lambda: value is None or isinstance(value, bool),
        "REPORT_PAGE": lambda: value is None or isinstance(value, bool),
        "RING_SIZE": lambda: isinstance(value, int) and not isinstance(value, bool) and value >= 0,
    }[key]()
    if ok:
        return None
    ids = {"ALLOWED": "E005", "AUDIT_FAIL_SEVERITY": "E007", "RING_SIZE": "E006", "COMMANDS": "E008"}
    if key == "IGNORE":
        return Problem(
            "queryguard.E009", _entries_problem(value), f"set QUERYGUARD['IGNORE'] to {DJANGO_KEYS[key]}"
        )
    return Problem(
        f"queryguard.{ids.get(key, 'E004')}",
        f"QUERYGUARD[{key!r}] must be {DJANGO_KEYS[key]}, got {value!r}",
        f"set QUERYGUARD[{key!r}] to {DJANGO_KEYS[key]}",
    )


def _check_config_key(key: str, value: object) -> Problem | None:
    if key == "CALLBACK" and value is not None and not _callable(value):
        message = f"QUERYGUARD['CALLBACK'] must be a callable or the dotted path of one, got {value!r}"
        return Problem("queryguard.E005", message, "a function that takes the finished capture")
    try:
        Config.from_mapping({key: _resolve(key, value)})
    except ConfigurationError as exc:
        return Problem(
            "queryguard.E003", f"QUERYGUARD[{key!r}]: {exc}", "see the settings table in the README"
        )
    return None


def _names(value: object) -> bool:
    items = list(value) if isinstance(value, (list, tuple, set, frozenset)) else None
    return items is not None and all(isinstance(item, str) and item for item in items)


def _entries(value: object) -> bool:
    return not _entries_problem(value)


def _entries_problem(value: object) -> str:
    if not isinstance(value, (list, tuple)):
        return f"QUERYGUARD['IGNORE'] must be {DJANGO_KEYS['IGNORE']}, got {value!r}"
    try:
        _ignore.parse_entries(value, source=IGNORE_SOURCE)
    except ConfigurationError as exc:
        return str(exc)
    return ""


def _callable(value: object) -> bool:
    try:
        return callable(_resolve("ALLOWED", value))
    except (ImportError, ValueError):
        return False


def _resolve(key: str, value: Any) -> Any:
    """A dotted path is accepted wherever a callable is expected (``ALLOWED``, ``CALLBACK``)."""
    if key in ("ALLOWED", "CALLBACK") and isinstance(value, str):
        return import_string(value)
    return value
