"""Every setting of queryguard, with its default and its validation, in one place."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._errors import ConfigurationError

ACTIONS = ("log", "warn", "raise", "none")
SEVERITIES = ("info", "warning", "error")
KINDS = (
    "n_plus_one",
    "duplicate_query",
    "write_loop",
    "select_star",
    "slow_query",
    "query_budget",
    "blocking_query",
    "unused_eager_load",
    "loop_stall",
    "sequential_awaits",
    "full_scan",
    "sort_spill",
    "temp_sort",
    "misestimate",
    "function_on_column",
    "large_offset",
    "unindexed_join",
)


@dataclasses.dataclass(frozen=True)
class Config:
    """All settings. Every field is also a keyword of ``capture()`` and an upper-case Django key."""

    action: str = "log"
    action_min_severity: str = "warning"
    callback: Callable[[Any], None] | None = None
    n_plus_one_threshold: int = 2
    duplicate_threshold: int = 2
    write_loop_threshold: int = 2
    batch_rows: int = 100
    slow_query_ms: float = 100.0
    max_queries: int | None = None
    max_db_time_ms: float | None = None
    ignore_kinds: frozenset[str] = frozenset()
    show_params: bool = False
    max_events: int = 10_000
    callsite_ignore: tuple[str, ...] = ()
    explain: bool = True
    explain_analyze: bool = False
    explain_max_per_unit: int = 3
    explain_ttl_s: float = 300.0
    explain_n_plus_one: bool = False
    explain_timeout_ms: int = 2_000
    server_timing: bool = False
    unused_eager_load: bool = True
    loop_stall_ms: float | None = 100.0
    sequential_awaits_min_ms: float = 30.0
    sequential_awaits_min_saved_ms: float = 100.0
    sequential_awaits_min_share: float = 0.1

    def __post_init__(self) -> None:
        _choice("action", self.action, ACTIONS)
        _choice("action_min_severity", self.action_min_severity, SEVERITIES)
        if self.callback is not None and not callable(self.callback):
            raise ConfigurationError(f"callback must be callable or None, got {self.callback!r}")
        for name in (
            "n_plus_one_threshold",
            "duplicate_threshold",
            "write_loop_threshold",
            "batch_rows",
            "max_events",
            "explain_max_per_unit",
            "explain_timeout_ms",
        ):
            _int(name, getattr(self, name), minimum=0 if name == "explain_max_per_unit" else 1)
        if self.n_plus_one_threshold < 2 or self.duplicate_threshold < 2:
            bad = "n_plus_one_threshold" if self.n_plus_one_threshold < 2 else "duplicate_threshold"
            raise ConfigurationError(f"{bad} must be at least 2, got {getattr(self, bad)!r}")
        _number("slow_query_ms", self.slow_query_ms)
        _number("explain_ttl_s", self.explain_ttl_s)
        if self.loop_stall_ms is not None:
            _number("loop_stall_ms", self.loop_stall_ms)
        _number("sequential_awaits_min_ms", self.sequential_awaits_min_ms)
        _number("sequential_awaits_min_saved_ms", self.sequential_awaits_min_saved_ms)
        _number("sequential_awaits_min_share", self.sequential_awaits_min_share)
        share = self.sequential_awaits_min_share
        if share > 1:
            raise ConfigurationError(f"sequential_awaits_min_share must be between 0 and 1, got {share!r}")
        if self.max_queries is not None:
            _int("max_queries", self.max_queries, minimum=0)
        if self.max_db_time_ms is not None:
            _number("max_db_time_ms", self.max_db_time_ms)
        for name in (
            "show_params",
            "explain",
            "explain_analyze",
            "explain_n_plus_one",
            "server_timing",
            "unused_eager_load",
        ):
            if not isinstance(getattr(self, name), bool):
                raise ConfigurationError(f"{name} must be True or False, got {getattr(self, name)!r}")
        object.__setattr__(self, "ignore_kinds", _kinds(self.ignore_kinds))
        object.__setattr__(self, "callsite_ignore", _strings("callsite_ignore", self.callsite_ignore))

    def replace(self, **changes: Any) -> Config:
        """Return a copy with ``changes`` applied (validated like the constructor)."""
        unknown = sorted(set(changes) - FIELD_NAMES)
        if unknown:
            raise ConfigurationError(
                f"unknown setting {unknown[0]!r}{did_you_mean(unknown[0], FIELD_NAMES)}; "
                f"valid settings: {', '.join(sorted(FIELD_NAMES))}"
            )
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, base: Config | None = None) -> Config:
        """Build from a settings mapping with upper- or lower-case keys (``{"ACTION": "raise"}``)."""
        if not isinstance(values, Mapping):
            raise ConfigurationError(f"settings must be a mapping, got {values!r}")
        return (base or cls()).replace(**{str(key).lower(): value for key, value in values.items()})


FIELD_NAMES = frozenset(field.name for field in dataclasses.fields(Config))


def did_you_mean(name: object, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``choices`` to a misspelt ``name``, else ``""``."""
    close = difflib.get_close_matches(str(name), sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")


def _int(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _number(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != value:
        raise ConfigurationError(f"{name} must be a number >= 0, got {value!r}")


def _kinds(value: object) -> frozenset[str]:
    names = _strings("ignore_kinds", value)
    for kind in names:
        if kind not in KINDS:
            raise ConfigurationError(
                f"ignore_kinds has unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}"
            )
    return frozenset(names)


def _strings(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (part.strip() for part in value.split(",") if part.strip())
    if not isinstance(value, Iterable) or isinstance(value, (bytes, Mapping)):
        raise ConfigurationError(f"{name} must be a list of strings, got {value!r}")
    items = tuple(value)
    if not all(isinstance(item, str) for item in items):
        raise ConfigurationError(f"{name} must be a list of strings, got {items!r}")
    return items
