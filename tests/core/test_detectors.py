"""The registry of detectors: each kind once, and a kind runs after the kinds that explain it."""

from __future__ import annotations

import dataclasses

import pytest

import queryguard
from queryguard import KINDS, QueryEvent
from queryguard._detectors import _index, _registry


def test_every_kind_is_listed_once_and_known() -> None:
    """Each registry row is a kind of its own that ``KINDS`` lists, and every kind it explains is one too."""
    listed = [detector.kind for detector in _registry.DETECTORS]
    assert len(listed) == len(set(listed))
    assert set(listed) <= set(KINDS)
    for detector in _registry.DETECTORS:
        assert detector.explains <= set(listed) - {detector.kind}


def test_a_kind_runs_after_every_kind_that_explains_it() -> None:
    """A row explains only kinds listed after it: their detectors see what it explained."""
    position = {detector.kind: i for i, detector in enumerate(_registry.DETECTORS)}
    for detector in _registry.DETECTORS:
        assert all(position[kind] > position[detector.kind] for kind in detector.explains), detector.kind


def _record(sql: str, values: list[int], *, ms: float, rows: int) -> queryguard.Capture:
    with queryguard.capture(action="none", explain=False) as cap:
        for value in values:
            queryguard.record(QueryEvent(sql, (value,), ms, vendor="sqlite", rowcount=rows))
    return cap


#: A loop whose every statement is also a ``SELECT *``, a duplicate (each id twice) and slow.
LOOP_OF_SELECT_STAR = ("SELECT * FROM author WHERE id = %s", [1, 1, 2, 2, 3, 3], 1)
LOOP_OF_UPDATES = ("UPDATE author SET name = 'x' WHERE id = %s", [1, 1, 2, 2, 3, 3], -1)


@pytest.mark.parametrize(
    ("loop", "statements", "other"),
    [
        ("n_plus_one", LOOP_OF_SELECT_STAR, "duplicate_query"),
        ("n_plus_one", LOOP_OF_SELECT_STAR, "select_star"),
        ("n_plus_one", LOOP_OF_SELECT_STAR, "slow_query"),
        ("write_loop", LOOP_OF_UPDATES, "slow_query"),
    ],
)
def test_a_statement_is_reported_under_the_kind_that_explains_it(
    loop: str, statements: tuple[str, list[int], int], other: str
) -> None:
    """The loop's row explains ``other``: its statements are reported once; without the row's say, twice."""
    sql, values, rows = statements
    cap = _record(sql, values, ms=150.0, rows=rows)
    index = _index.build(cap.queries, cap.overflow.values(), cap.config)
    found = [f.kind for f in _registry.run(index, cap.config)]
    assert loop in found and other not in found
    unexplained = [
        dataclasses.replace(detector, explains=detector.explains - {other})
        for detector in _registry.DETECTORS
    ]
    found = [f.kind for f in _registry.run(index, cap.config, unexplained)]
    assert loop in found and other in found


def test_the_same_shape_elsewhere_is_still_reported() -> None:
    """A loop explains its own statements: a slow one of the same shape from another line is reported."""
    sql = "SELECT name FROM author WHERE id = %s"
    with queryguard.capture(action="none", explain=False) as cap:
        for value in (1, 2, 3):
            queryguard.record(QueryEvent(sql, (value,), 150.0, rowcount=1))
        queryguard.record(QueryEvent(sql, (9,), 150.0, rowcount=1))
    assert sorted(f.kind for f in cap.findings) == ["n_plus_one", "slow_query"]
