"""The ``queryguard`` fixture: the capture of the test body, and assertions on it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from queryguard import Capture, Finding, QueryEvent, QueryGuardViolation
from queryguard import testing as _testing
from queryguard._plural import plural

if TYPE_CHECKING:
    from queryguard._report import Report

    from ._unit import Unit


class QueryGuardFixture:
    """What the ``queryguard`` fixture gives a test.

    It captures the statements of the test body (not those of fixture setup); each ``assert_*`` method
    checks what ran so far and raises :class:`queryguard.QueryGuardViolation` on failure.
    """

    def __init__(self, unit: Unit) -> None:
        self._unit = unit

    @property
    def capture(self) -> Capture:
        """The underlying :class:`queryguard.Capture`."""
        return self._unit.capture

    @property
    def queries(self) -> list[QueryEvent]:
        """The statements captured so far."""
        return self.capture.queries

    @property
    def findings(self) -> list[Finding]:
        """The findings about the statements captured so far."""
        return self.capture.findings

    @property
    def report(self) -> Report:
        """A :class:`queryguard.Report` of the statements captured so far."""
        return self.capture.report

    @property
    def query_count(self) -> int:
        """Statements captured so far (transaction control included)."""
        return self.capture.query_count

    def _raise(self, message: str | None) -> None:
        __tracebackhide__ = True
        if message is not None:
            raise QueryGuardViolation(message, tuple(self.capture.findings))

    @property
    def _name(self) -> str:
        return self._unit.item.name

    @property
    def _verbose(self) -> bool:
        return self._unit.settings.verbose

    def assert_max_queries(self, n: int, *, using: str | None = None) -> None:
        """Fail when the test ran more than ``n`` queries (on database alias ``using``)."""
        __tracebackhide__ = True
        self._raise(
            _testing.check_max_queries(self.capture, n, using=using, unit=self._name, verbose=self._verbose)
        )

    def assert_queries(
        self,
        n: int | None = None,
        *,
        max: int | None = None,
        select: int | None = None,
        insert: int | None = None,
        update: int | None = None,
        delete: int | None = None,
        using: str | None = None,
    ) -> None:
        """Fail unless the test ran exactly ``n`` queries, at most ``max``, and ``select=``... of a kind."""
        __tracebackhide__ = True
        counts = {"n": n, "max": max, "select": select, "insert": insert, "update": update, "delete": delete}
        self._raise(
            _testing.check_queries(self.capture, counts, using=using, unit=self._name, verbose=self._verbose)
        )

    def assert_no_n_plus_one(self) -> None:
        """Fail when the test ran an N+1 loop."""
        __tracebackhide__ = True
        self._raise(
            _testing.check_no_findings(self.capture, ("n_plus_one",), unit=self._name, verbose=self._verbose)
        )

    def assert_no_findings(self, *kinds: str) -> None:
        """Fail when the test has a finding of one of ``kinds`` (of any kind when none is given)."""
        __tracebackhide__ = True
        self._raise(_testing.check_no_findings(self.capture, kinds, unit=self._name, verbose=self._verbose))

    def assert_constant_queries(
        self,
        func: Callable[[], object],
        populate: Callable[[int], object],
        *,
        scales: Sequence[int] = (2, 10),
    ) -> None:
        """Run ``populate(n)`` then ``func()`` once for each scale; fail if ``func``'s queries grow with n.

        ``populate(n)`` brings the data to ``n`` items in all (what earlier scales made stays). The test
        counts ``func``'s statements at the largest scale only.
        """
        __tracebackhide__ = True
        message = _testing.check_constant_queries(
            func, populate, scales=scales, config=self.capture.config, unit=self._name, verbose=self._verbose
        )
        self._raise(message)

    def __repr__(self) -> str:
        queries = plural(self.query_count, "query", "queries")
        return f"<queryguard fixture of {self._unit.item.nodeid}: {queries}>"
