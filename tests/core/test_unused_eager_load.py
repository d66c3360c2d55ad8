"""The ``unused_eager_load`` detector over eager-load logs, and its setting."""

from __future__ import annotations

import pytest

import queryguard
from queryguard import _eager
from queryguard._eager import EagerLoad


def load(path: str, *, rows: int = 5, used: bool = False, parent: EagerLoad | None = None) -> EagerLoad:
    """An eager load of ``path`` on Book, asked from this file."""
    made = EagerLoad(
        orm="django", method="select_related", path=path, relation=f"Book.{path.rpartition('__')[2]}",
        root="Book", rows=rows, site="shop/views.py:12 in book_list", parent=parent,
    )  # fmt: skip
    made.used = used
    return made


def findings(*loads: EagerLoad, **settings: object) -> list[queryguard.Finding]:
    """The unused_eager_load findings of a unit that logged ``loads``."""
    with queryguard.capture(action="none", explain=False, **settings) as cap:  # type: ignore[arg-type]
        logs = _eager.wanted()
        for each in loads:
            _eager.loaded(logs, each)
    return [f for f in cap.findings if f.kind == "unused_eager_load"]


def test_unread_load_is_an_info_finding() -> None:
    """An unread load is one info finding with the line, the path, the rows and the fix."""
    [finding] = findings(load("author"))
    assert finding.severity == "info" and finding.callsite == "shop/views.py:12 in book_list"
    assert finding.message == (
        'select_related("author") at shop/views.py:12 in book_list loaded Book.author for 5 rows, '
        'and no code read it; remove "author" from .select_related(...) (or read only what you need with '
        ".only(...))"
    )


@pytest.mark.parametrize(
    ("loads", "reported"),
    [
        pytest.param(lambda: [load("author", used=True)], [], id="read"),
        pytest.param(lambda: [load("author", rows=0)], [], id="no-parent-rows"),
        pytest.param(lambda: [load("author", used=True), load("author")], [], id="read-on-one-evaluation"),
    ],
)
def test_never_a_finding(loads: object, reported: list[str]) -> None:
    """Read loads, loads of no rows, and a line whose loads were read once: no finding."""
    assert [f.relation for f in findings(*loads())] == reported  # type: ignore[operator]


def test_nested_reports_the_shortest_unread_step() -> None:
    """Of a nested path only the first unread step is reported."""
    outer = load("author")
    assert [f.details["path"] for f in findings(outer, load("author__publisher", parent=outer))] == ["author"]
    read = load("author", used=True)
    assert [f.details["path"] for f in findings(read, load("author__publisher", parent=read))] == [
        "author__publisher"
    ]


def test_setting_off_logs_nothing() -> None:
    """With unused_eager_load=False no capture wants the log: nothing is found."""
    with queryguard.capture(action="none", explain=False, unused_eager_load=False):
        assert _eager.wanted() == []


@pytest.mark.parametrize("value", [1, "yes", None])
def test_setting_is_validated(value: object) -> None:
    """The setting is a bool; anything else names the bad value."""
    with pytest.raises(
        queryguard.ConfigurationError, match=f"unused_eager_load must be True or False, got {value!r}"
    ):
        queryguard.Config(unused_eager_load=value)  # type: ignore[arg-type]


def test_ignore_kinds_knows_the_kind() -> None:
    """unused_eager_load is a kind ignore_kinds accepts, and silences."""
    assert findings(load("author"), ignore_kinds=["unused_eager_load"]) == []
