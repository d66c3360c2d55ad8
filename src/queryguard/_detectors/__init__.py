"""Detectors: pure functions from a unit's index to findings.

:mod:`._index` groups the unit's statements once (per shape and call site, with the runs of a loop and the
rows a loop walks); each module named after a finding kind reads that index and the :class:`Config` and
returns its findings; :mod:`._registry` lists them in order and says which kinds explain which.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _eager, _loopwatch
from .._events import Finding
from . import loop_stall
from ._index import build
from ._registry import run
from .unused_eager_load import with_loads

if TYPE_CHECKING:
    from .._capture import BaseCapture

__all__ = ["detect"]

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def detect(cap: BaseCapture) -> list[Finding]:
    """All findings for the statements of ``cap``, most severe and most costly first."""
    config = cap.config
    index = build(cap.queries, cap.overflow.values(), config)
    loads = _eager.collect(cap)
    findings = run(with_loads(index, loads) if loads else index, config)
    findings += loop_stall.find(_loopwatch.collect(cap), config, findings)
    findings = [f for f in findings if f.kind not in config.ignore_kinds]
    findings.sort(key=lambda f: (_SEVERITY_ORDER.get(f.severity, 3), -f.total_duration_ms, -f.count))
    return findings
