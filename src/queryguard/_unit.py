"""The public :class:`Capture`: a unit of work's statements, and what becomes of them when it ends.

The statements, scope and totals are :class:`._capture.BaseCapture`'s; ending the unit runs
:mod:`._pipeline` (detectors, EXPLAIN, the action).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from . import _loopwatch, _pipeline
from ._capture import BaseCapture, _active
from ._config import Config
from ._events import Finding
from ._guard import internal_error
from ._ignore import counts

if TYPE_CHECKING:
    from ._report import Report

F = TypeVar("F", bound=Callable[..., Any])


class Capture(BaseCapture):
    """Statements of one unit of work, and the findings about them once it ends.

    Use it as a context manager (``with``/``async with``) or as a decorator; see :func:`capture`.
    """

    def __init__(self, config: Config | None = None, *, name: str = "") -> None:
        super().__init__(config, name=name)
        self._findings: list[Finding] | None = None
        #: The findings a suppression silenced, each with the label of its rule (see ``queryguard.ignore``).
        self.suppressed: list[tuple[Finding, str]] = []

    @property
    def findings(self) -> list[Finding]:
        """The findings; computed when the block exits (or now, for a capture still open)."""
        if self._findings is None:
            findings = _pipeline.detect(self)
            if self.ended is None:
                return findings
            self._findings = findings
        return self._findings

    @property
    def report(self) -> Report:
        """A :class:`Report` of this unit (text, JSON, HTML, SARIF)."""
        from ._report import Report, UnitReport

        unit = UnitReport(
            unit=self.name,
            findings=list(self.findings),
            query_count=self.query_count,
            db_time_ms=self.db_time_ms,
            statements=list(self.queries),
            truncated=sum(entry.count for entry in self.overflow.values()),
            suppressed=counts(self.suppressed),
        )
        return Report([unit], show_params=self.config.show_params)

    def start(self) -> Capture:
        """Make this capture receive statements in the current context (``__enter__`` does this)."""
        self._findings = None
        super().start()
        if self.config.loop_stall_ms:
            try:
                _loopwatch.begin(self, self.config.loop_stall_ms)
            except Exception as exc:
                internal_error("loop stall watch", exc)
        return self

    def stop(self, *, act: bool = True, background: bool = False, failed: bool = False) -> None:
        """Stop receiving statements; run detection, EXPLAIN and the action unless ``act`` is False.

        Middleware passes ``background=True``: EXPLAIN then runs after the response, off the request path.
        ``failed=True`` says the unit is ending with an exception of its own, which wins over the action:
        nothing the action does (a violation, a warning turned into an error) is raised then.
        The stop that matches a nested start (``with cap: with cap:``) ends nothing: the outermost one does.
        """
        if self.leave_reentry():
            return
        self.stop_recording()
        if self.config.loop_stall_ms:
            try:
                _loopwatch.end(self)
            except Exception as exc:
                internal_error("loop stall watch", exc)
        if act:
            _pipeline.finish(self, background=background, failed=failed)

    def __enter__(self) -> Capture:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # An exception from the block wins over every action: the findings are still computed and acted
        # on, but nothing the action does may replace the block's exception.
        self.stop(failed=exc_type is not None)

    async def __aenter__(self) -> Capture:
        return self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __call__(self, func: F) -> F:
        """Decorate ``func``: each call runs in a fresh capture with this capture's settings."""
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                async with Capture(self.config, name=self.name or func.__qualname__):
                    return await func(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with Capture(self.config, name=self.name or func.__qualname__):
                return func(*args, **kwargs)

        return run  # type: ignore[return-value]


@overload
def capture(config: F, /) -> F: ...


@overload
def capture(config: Config | None = None, *, name: str = "", **settings: Any) -> Capture: ...


def capture(config: Config | F | None = None, *, name: str = "", **settings: Any) -> Capture | F:
    """Capture the statements of a block: ``with queryguard.capture(n_plus_one_threshold=3) as cap:``.

    Every :class:`Config` field is accepted as a keyword. As a decorator it takes parentheses or not:
    ``@queryguard.capture`` is ``@queryguard.capture()``.
    """
    if callable(config) and not isinstance(config, Config):
        return Capture(Config(), name=name)(config)
    base = config or Config()
    return Capture(base.replace(**settings) if settings else base, name=name)


def unit(name: str, config: Config | None = None, **settings: Any) -> Capture:
    """A unit of work of any job runner (an RQ job, a cron script): a capture named ``name`` that applies
    the configured action when it ends. A context manager (``with``/``async with``) and a decorator::

        with queryguard.unit("nightly-export"):
            export()
    """
    if not isinstance(name, str) or not name:
        from ._errors import ConfigurationError

        raise ConfigurationError(f"unit() needs a name, got {name!r}")
    return capture(config, name=name, **settings)


def active_captures() -> tuple[Capture, ...]:
    """The captures that ``record()`` would feed right now, outermost first."""
    return tuple(cap for cap in _active.get() if isinstance(cap, Capture) and cap.ended is None)
