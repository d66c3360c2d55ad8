"""Suppressions: findings the developer knows of and chose to leave, each with the rule that silenced it.

Three forms, checked when a unit ends (never on the hot path):

* ``with queryguard.ignore("n_plus_one", reason="...")`` (or as a decorator): findings of those kinds whose
  statement ran inside the block, from the block's own frame (or deeper), are suppressed;
* ``# queryguard: ignore[n_plus_one]`` (``{# ... #}`` in a template) on the line a finding points to, read
  from the file once (:mod:`linecache`);
* setting entries (Django ``QUERYGUARD["IGNORE"]``, pytest ini ``queryguard_ignore``): a kind and a call
  site (``path:function``) or a relation (``Book.author``), for code that cannot carry a comment.

Every rule seen in the process is remembered with how many findings it suppressed, so that a run can list
the stale ones (:func:`stale`), as mypy's ``warn_unused_ignores`` does.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import inspect
import linecache
import os
import re
import sys
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from types import CodeType, TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from . import _callsite
from ._config import KINDS
from ._errors import ConfigurationError

if TYPE_CHECKING:
    from ._capture import BaseCapture
    from ._events import Finding

F = TypeVar("F", bound=Callable[..., Any])

#: ``queryguard: ignore[kind, kind]`` in a ``#`` or ``{# #}`` comment; the kinds are required.
MARK = re.compile(r"(?:#|\{#)\s*queryguard:\s*ignore(?:\[(?P<kinds>[^\]]*)\])?")
#: Frames a finding's stack keeps (see :mod:`._callsite`): a block's frame may be further out than that.
_KEPT_FRAMES = 8


@dataclasses.dataclass
class Rule:
    """One suppression as the run knows it: what it is, where it was written, and what it silenced."""

    label: str
    kinds: tuple[str, ...]
    reason: str = ""
    used: int = 0


_rules: dict[str, Rule] = {}


def _rule(label: str, kinds: tuple[str, ...], reason: str = "") -> Rule:
    rule = _rules.get(label)
    if rule is None:
        rule = _rules[label] = Rule(label, kinds, reason)
    return rule


def rules() -> list[Rule]:
    """Every suppression seen in this process, in the order first seen."""
    return list(_rules.values())


def stale() -> list[Rule]:
    """The suppressions that silenced nothing so far."""
    return [rule for rule in _rules.values() if not rule.used]


def forget() -> None:
    """Forget the rules seen and their counts (a new run); settings entries are registered again."""
    _rules.clear()
    for entry in _entries:
        _rules[entry.rule.label] = entry.rule


def _check_kinds(kinds: Iterable[str], where: str) -> tuple[str, ...]:
    found = tuple(kinds)
    if not found:
        raise ConfigurationError(f"{where} needs at least one kind; valid kinds: {', '.join(KINDS)}")
    for kind in found:
        if kind not in KINDS:
            raise ConfigurationError(f"{where}: unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    return found


# -- ignore() blocks ----------------------------------------------------------------------------------


class _Block:
    __slots__ = ("code", "end", "kinds", "rule", "start")

    def __init__(self, rule: Rule, code: CodeType | None) -> None:
        self.rule = rule
        self.kinds = frozenset(rule.kinds)
        self.code = code
        self.start = time.perf_counter()
        self.end: float | None = None

    def covers(self, finding: Finding) -> bool:
        event = finding.event
        if finding.kind not in self.kinds or event is None:
            return False
        if event.started < self.start or (self.end is not None and event.started > self.end):
            return False
        site = event._site
        if self.code is None or not isinstance(site, tuple):
            return True
        codes = [entry[0] for entry in site if not isinstance(entry, str)]
        # Another task of the same unit ran it meanwhile unless the block's frame is on its stack (or
        # beyond the frames the stack keeps).
        return not codes or self.code in codes or len(codes) >= _KEPT_FRAMES


_open: contextvars.ContextVar[tuple[_Block, ...]] = contextvars.ContextVar("queryguard_ignore", default=())
_blocks: weakref.WeakKeyDictionary[BaseCapture, list[_Block]] = weakref.WeakKeyDictionary()


class ignore:
    """Suppress findings of ``kinds`` from the statements run inside: ``with queryguard.ignore("n_plus_one",
    reason="10 rows at most")``. Also ``async with`` and a decorator. The statements are still counted."""

    def __init__(self, *kinds: str, reason: str) -> None:
        self.kinds = _check_kinds(kinds, "ignore()")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigurationError(f"ignore() needs a reason (why these findings may stay), got {reason!r}")
        self.reason = reason.strip()
        self._entered: list[tuple[_Block, contextvars.Token[Any]]] = []

    def _label(self, where: str) -> str:
        return f"ignore({', '.join(map(repr, self.kinds))}, reason={self.reason!r}) at {where}"

    def _enter(self, code: CodeType | None, where: str) -> tuple[_Block, contextvars.Token[Any]]:
        from ._capture import _active

        block = _Block(_rule(self._label(where), self.kinds, self.reason), code)
        for cap in _active.get():
            _blocks.setdefault(cap, []).append(block)
        return block, _open.set((*_open.get(), block))

    @staticmethod
    def _leave(block: _Block, token: contextvars.Token[Any]) -> None:
        block.end = time.perf_counter()
        try:
            _open.reset(token)
        except ValueError:  # left in another context than it was entered in
            _open.set(tuple(b for b in _open.get() if b is not block))

    def _exit(self) -> None:
        # One instance may be entered by several threads or tasks at once: leave this context's block.
        current = _open.get()
        for index in range(len(self._entered) - 1, -1, -1):
            if self._entered[index][0] in current:
                self._leave(*self._entered.pop(index))
                return
        if self._entered:
            self._leave(*self._entered.pop())

    def __enter__(self) -> ignore:
        frame = sys._getframe(1)
        self._entered.append(self._enter(frame.f_code, _where(frame.f_code, frame.f_lineno)))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._exit()

    async def __aenter__(self) -> ignore:
        frame = sys._getframe(1)
        self._entered.append(self._enter(frame.f_code, _where(frame.f_code, frame.f_lineno)))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._exit()

    def __call__(self, func: F) -> F:
        """Decorate ``func``: findings of its calls (and of what it calls) are suppressed."""
        code = getattr(func, "__code__", None)
        where = _where(code, code.co_firstlineno) if code is not None else repr(func)
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                entered = self._enter(code, where)
                try:
                    return await func(*args, **kwargs)
                finally:
                    self._leave(*entered)

            return run_async  # type: ignore[return-value]

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            entered = self._enter(code, where)
            try:
                return func(*args, **kwargs)
            finally:
                self._leave(*entered)

        return run  # type: ignore[return-value]


def _where(code: CodeType | None, line: int | None) -> str:
    if code is None:
        return "?"
    return f"{_callsite.relative_path(code.co_filename)}:{line}"


# -- inline comments ----------------------------------------------------------------------------------

_LOCATION = re.compile(r"^(?P<path>.+?):(?P<line>\d+)(?: in \S+)?$")


def _comment_rule(finding: Finding) -> Rule | None:
    path, first, last = _location(finding)
    for line in range(first, last + 1):
        found = comment_kinds(linecache.getline(path, line))
        if found is not None:
            kinds = found or ("?",)  # a bare ignore silences nothing: the stale list shows it
            where = f"{_callsite.relative_path(path)}:{line}"
            return _rule(f"# queryguard: ignore[{', '.join(kinds)}] at {where}", kinds)
    return None


def comment_kinds(text: str) -> tuple[str, ...] | None:
    """The kinds of a ``queryguard: ignore[...]`` comment in ``text`` (``()`` for a bare one), or None."""
    if "queryguard" not in text:
        return None
    match = MARK.search(text)
    if match is None:
        return None
    return tuple(part.strip() for part in (match["kinds"] or "").split(",") if part.strip())


#: Lines of one call that a formatter may have split, its trailing comment on the last of them.
_MAX_CALL_LINES = 20


def _location(finding: Finding) -> tuple[str, int, int]:
    """The absolute file a finding points to, and the lines of the call there (``("", 0, -1)``: none)."""
    match = _LOCATION.match(finding.callsite or "")
    if match is None:
        return "", 0, -1
    path, line = match["path"], int(match["line"])
    event = finding.event
    if event is not None and isinstance(event._site, tuple):
        for entry in event._site:
            if isinstance(entry, str) or _callsite.relative_path(entry[0].co_filename) != path:
                continue
            return entry[0].co_filename, line, _last_line(entry[0], entry[1], line)
    return os.path.abspath(path), line, line


def _last_line(code: CodeType, lasti: int, line: int) -> int:
    positions = getattr(code, "co_positions", None)  # Python 3.11+
    if positions is None:
        return line
    for index, position in enumerate(positions()):
        if index == lasti // 2:
            end = position[1]
            return min(end, line + _MAX_CALL_LINES) if end is not None and end > line else line
    return line


# -- setting entries ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Entry:
    """A setting entry: ``"n_plus_one shop/views.py:book_list"`` or ``"n_plus_one Book.author"``."""

    kind: str
    target: str
    rule: Rule

    def covers(self, finding: Finding) -> bool:
        if finding.kind != self.kind:
            return False
        if ":" not in self.target:
            return finding.relation == self.target
        path, _, function = self.target.rpartition(":")
        stack = [finding.callsite]
        if finding.event is not None:
            stack.extend(_callsite.describe_stack(finding.event._site))
        return any(_site_matches(site, path, function) for site in stack if site)


def _site_matches(site: str, path: str, function: str) -> bool:
    match = _LOCATION.match(site)
    if match is None:
        return False
    site_path = match["path"]
    name = site.rpartition(" in ")[2] if " in " in site else ""
    in_path = site_path == path or site_path.endswith("/" + path)
    return in_path and (not function or function in ("*", name))


_entries: list[Entry] = []


def parse_entries(values: Iterable[object], *, source: str) -> list[Entry]:
    """Parse setting entries (``"kind target"``); raise :class:`ConfigurationError` on a bad one."""
    if isinstance(values, str):
        values = [line for line in values.splitlines() if line.strip()]
    parsed = []
    for value in values:
        parts = str(value).split("#", 1)[0].split() if isinstance(value, str) else []
        if len(parts) != 2:
            raise ConfigurationError(
                f"{source} entry {value!r} must be a kind and a call site or relation, like "
                "'n_plus_one shop/views.py:book_list' or 'n_plus_one Book.author'"
            )
        kind = _check_kinds(parts[:1], f"{source} entry {value!r}")[0]
        label = f"{source} entry {kind} {parts[1]!r}"
        parsed.append(Entry(kind, parts[1], Rule(label, (kind,))))
    return parsed


def configure(values: Iterable[object], *, source: str) -> None:
    """Replace the setting entries of ``source`` (Django's ``QUERYGUARD["IGNORE"]``, the pytest ini)."""
    new = parse_entries(values, source=source)
    for entry in [e for e in _entries if e.rule.label.startswith(f"{source} entry ")]:
        _entries.remove(entry)
        _rules.pop(entry.rule.label, None)
    for entry in new:
        _entries.append(entry)
        _rules.setdefault(entry.rule.label, entry.rule)


# -- the filtering step -------------------------------------------------------------------------------


def apply(cap: BaseCapture, findings: Sequence[Finding], *, final: bool) -> list[Finding]:
    """The findings no rule suppresses; the suppressed ones are added to ``cap.suppressed`` with their rule.

    ``final``: the unit has ended, so each rule's count of suppressed findings is kept (a capture still
    open may be asked again).
    """
    blocks = [*_blocks.get(cap, ()), *(b for b in _open.get() if b.end is None)]
    kept: list[Finding] = []
    suppressed: list[tuple[Finding, str]] = getattr(cap, "suppressed", None) or []
    for finding in findings:
        rule = _matching(finding, blocks)
        if rule is None:
            kept.append(finding)
            continue
        suppressed.append((finding, rule.label))
        if final:
            _rules[rule.label] = rule
            rule.used += 1
    cap.suppressed = suppressed  # type: ignore[attr-defined]
    return kept


def _matching(finding: Finding, blocks: Sequence[_Block]) -> Rule | None:
    rule = _comment_rule(finding)
    if rule is not None and finding.kind in rule.kinds:
        return rule
    for block in blocks:
        if block.covers(finding):
            return block.rule
    for entry in _entries:
        if entry.covers(finding):
            return entry.rule
    return None


# -- stale suppressions ------------------------------------------------------------------------------


def files_of(cap: BaseCapture) -> set[str]:
    """The source files of the user frames (and templates) that ran the unit's statements."""
    events = [*cap.queries, *(entry.example for entry in cap.overflow.values())]
    codes: dict[int, CodeType] = {}
    files: set[str] = set()
    for event in events:
        site = event._site
        for entry in site if isinstance(site, tuple) else (site,):
            if isinstance(entry, str):
                match = _LOCATION.match(entry)
                if match is not None:
                    files.add(os.path.abspath(match["path"]))
            elif entry is not None:
                codes[id(entry[0])] = entry[0]
    files.update(code.co_filename for code in codes.values())
    return {name for name in files if not name.startswith("<")}


def scan(path: str) -> list[Rule]:
    """The inline comments of a source file (or template), each known to the run from now on."""
    found = []
    for number, text in enumerate(linecache.getlines(path), 1):
        kinds = comment_kinds(text)
        if kinds is not None:
            kinds = kinds or ("?",)
            where = f"{_callsite.relative_path(path)}:{number}"
            found.append(_rule(f"# queryguard: ignore[{', '.join(kinds)}] at {where}", kinds))
    return found


def unused(files: Iterable[str] = (), *, used: Iterable[str] = (), seen: Iterable[str] = ()) -> list[str]:
    """The labels of the suppressions that silenced nothing: every rule this process saw, the comments
    of ``files``, and the labels ``seen`` elsewhere (pytest-xdist workers), less those ``used`` anywhere."""
    for path in sorted(set(files)):
        scan(path)
    done = set(used) | {rule.label for rule in _rules.values() if rule.used}
    labels = dict.fromkeys([*(rule.label for rule in _rules.values()), *seen])
    return [label for label in labels if label not in done]


def stale_lines(labels: Sequence[str]) -> list[str]:
    """The lines that list stale suppressions, for a terminal."""
    if not labels:
        return []
    noun = "suppression" if len(labels) == 1 else "suppressions"
    head = f"queryguard: {len(labels)} unused {noun} (silenced nothing in this run):"
    return [head, *(f"  {label}" for label in labels)]


def counts(suppressed: Iterable[tuple[Finding, str]]) -> dict[str, int]:
    """How many findings each rule suppressed, by the rule's label."""
    by_rule: dict[str, int] = {}
    for _, label in suppressed:
        by_rule[label] = by_rule.get(label, 0) + 1
    return by_rule
