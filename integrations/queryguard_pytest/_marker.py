"""The ``@pytest.mark.queryguard(...)`` marker: limits, forbidden and allowed kinds, settings of one test."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import pytest

from queryguard import KINDS, Config, ConfigurationError

HELP = (
    "queryguard(max_queries=None, max_db_time_ms=None, forbid=[kinds], allow=[kinds], reason='...', "
    "**settings): fail the test when it runs more queries, spends more database time or has a finding of "
    "a forbidden kind; "
    "allowed kinds need a reason; other keywords are queryguard settings (n_plus_one_threshold=3, ...)"
)


@dataclasses.dataclass(frozen=True)
class Spec:
    """What the markers of one test ask for (closest marker wins)."""

    config: Config
    forbid: frozenset[str] = frozenset()
    allow: frozenset[str] = frozenset()
    reason: str = ""


def _kinds(name: str, value: object) -> set[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable):
        raise ConfigurationError(f"{name} must be a list of finding kinds, got {value!r}")
    kinds = set(value)
    for kind in kinds:
        if kind not in KINDS:
            raise ConfigurationError(f"{name} has unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    return kinds


def read(item: pytest.Item) -> Spec | None:
    """The merged markers of ``item`` (None without one); a mistake raises ``ConfigurationError``."""
    marks = list(item.iter_markers("queryguard"))
    if not marks:
        return None
    settings: dict[str, object] = {}
    forbid: set[str] = set()
    allow: set[str] = set()
    reason = ""
    for mark in reversed(marks):  # farthest (module, class) first: the closest marker overrides
        if mark.args:
            raise ConfigurationError(f"takes keyword arguments only, got {mark.args!r}")
        kwargs = dict(mark.kwargs)
        forbid |= _kinds("forbid", kwargs.pop("forbid", ()))
        allow |= _kinds("allow", kwargs.pop("allow", ()))
        reason = str(kwargs.pop("reason", "") or reason).strip()
        settings.update(kwargs)
    if allow and not reason:
        raise ConfigurationError(
            f"allow={sorted(allow)!r} needs a reason: "
            f"@pytest.mark.queryguard(allow={sorted(allow)!r}, reason='why this test may do it')"
        )
    config = Config().replace(**{**settings, "action": "none"})  # the plugin judges, not the action
    config = config.replace(ignore_kinds=config.ignore_kinds | allow)
    return Spec(config, frozenset(forbid - allow), frozenset(allow), reason)
