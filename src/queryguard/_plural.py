"""Counts in words: ``1 query``, ``2 queries``; the one helper every message and report uses."""

from __future__ import annotations


def plural(n: int, word: str, many: str = "") -> str:
    """``n`` and ``word`` in its number: ``many``, else ``word`` + ``s`` (``1 time``, ``2 times``)."""
    return f"{n} {word if n == 1 else many or word + 's'}"
