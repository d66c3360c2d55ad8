"""The assertions: a capture around a block (or each call of a function) that a check judges at its end."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .._errors import QueryGuardViolation
from .._unit import Capture
from ._checks import (
    check_constant_queries,
    check_max_queries,
    check_no_findings,
    check_queries,
    quiet_config,
    valid_count,
    valid_kinds,
)

F = TypeVar("F", bound=Callable[..., Any])


def _caller(depth: int = 2) -> str:
    name = sys._getframe(depth).f_code.co_name
    return "block" if name.startswith("<") else name


class Assertion(contextlib.ContextDecorator):
    """A capture that runs a check when its block ends and raises :class:`QueryGuardViolation` on failure.

    ``with`` returns the :class:`Capture`; as a decorator, each call of the function is checked.
    """

    def __init__(self, check: Callable[[Capture, str], str | None], settings: dict[str, Any], unit: str):
        self._check = check
        self._config = quiet_config(None, settings)
        self._unit = unit
        self._captures: list[Capture] = []

    def __enter__(self) -> Capture:
        cap = Capture(self._config, name=self._unit).start()
        self._captures.append(cap)
        return cap

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        __tracebackhide__ = True  # pytest shows the user's ``with`` line, not this frame
        cap = self._captures.pop()
        cap.stop(act=True)
        if exc_type is None:
            message = self._check(cap, self._unit)
            if message is not None:
                raise QueryGuardViolation(message, tuple(cap.findings))

    def __call__(self, func: F) -> F:
        self._unit = func.__name__
        return super().__call__(func)


def assert_max_queries(n: int, *, using: str | None = None, **settings: Any) -> Assertion:
    """Fail when the block runs more than ``n`` queries (on database alias ``using``)."""
    valid_count("n", n)
    return Assertion(lambda cap, unit: check_max_queries(cap, n, using=using, unit=unit), settings, _caller())


def assert_queries(
    n: int | None = None,
    *,
    max: int | None = None,
    select: int | None = None,
    insert: int | None = None,
    update: int | None = None,
    delete: int | None = None,
    using: str | None = None,
    **settings: Any,
) -> Assertion:
    """Fail unless the block runs exactly ``n`` queries, at most ``max``, and ``select=``... of a kind."""
    counts = {"n": n, "max": max, "select": select, "insert": insert, "update": update, "delete": delete}

    def check(cap: Capture, unit: str) -> str | None:
        return check_queries(cap, counts, using=using, unit=unit)

    return Assertion(check, settings, _caller())


def assert_no_n_plus_one(**settings: Any) -> Assertion:
    """Fail when the block has an N+1 loop."""
    return Assertion(
        lambda cap, unit: check_no_findings(cap, ("n_plus_one",), unit=unit), settings, _caller()
    )


def assert_no_findings(*kinds: str, **settings: Any) -> Assertion:
    """Fail when the block has a finding of one of ``kinds`` (of any kind when none is given)."""
    valid_kinds(kinds)  # a mistake fails where it is made, not when the block ends
    return Assertion(lambda cap, unit: check_no_findings(cap, kinds, unit=unit), settings, _caller())


def assert_constant_queries(
    func: Callable[[], object],
    populate: Callable[[int], object],
    *,
    scales: Sequence[int] = (2, 10),
    **settings: Any,
) -> None:
    """Run ``populate(n)`` then ``func()`` once per scale; fail if ``func``'s queries grow with n.

    This finds the N+1 that a two-row fixture hides. ``populate(n)`` brings the data to ``n`` items in
    all: nothing is deleted between scales, so it adds only what is missing (a factory's
    ``create_batch(n - Book.objects.count())``, not ``create_batch(n)``). A capture around the check sees
    ``func``'s statements at the largest scale only.
    """
    __tracebackhide__ = True
    message = check_constant_queries(
        func, populate, scales=scales, config=quiet_config(None, settings), unit=_caller()
    )
    if message is not None:
        raise QueryGuardViolation(message)
