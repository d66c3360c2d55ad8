"""The recent requests the report page lists: an in-memory ring buffer, bounded by ``RING_SIZE``."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import itertools
import threading

from queryguard import Capture

_ids = itertools.count(1)
_lock = threading.Lock()
_entries: collections.deque[Entry] = collections.deque(maxlen=50)


@dataclasses.dataclass(frozen=True)
class Entry:
    """One finished request."""

    id: int
    method: str
    path: str
    status: int | None
    at: datetime.datetime
    capture: Capture

    @property
    def name(self) -> str:
        """``"GET /books/"``."""
        return self.capture.name


def add(capture: Capture, *, method: str, path: str, status: int | None, size: int) -> Entry:
    """Keep ``capture`` (dropping the oldest past ``size`` entries) and return its entry."""
    global _entries
    entry = Entry(next(_ids), method, path, status, datetime.datetime.now(datetime.timezone.utc), capture)
    with _lock:
        if _entries.maxlen != size:
            _entries = collections.deque(_entries, maxlen=size)
        if size:
            _entries.append(entry)
    return entry


def recent() -> list[Entry]:
    """Every kept entry, newest first."""
    with _lock:
        return list(reversed(_entries))


def get(entry_id: int) -> Entry | None:
    """The entry with ``entry_id``, if it is still kept."""
    with _lock:
        return next((entry for entry in _entries if entry.id == entry_id), None)


def clear() -> None:
    """Forget every entry."""
    with _lock:
        _entries.clear()
