"""What one SQL text is: its normalised shape, a fingerprint of it, and the facts the detectors need.

* :mod:`._lexer`: the lexical rules of SQL per database (strings, quoted names, comments, placeholders),
  and the readers built from them, for shapes and for the EXPLAIN stage alike;
* :mod:`._tokens` and :mod:`._shape`: a statement's shape (literals and placeholders as ``?``, IN lists and
  VALUES rows collapsed) and its fingerprint;
* :mod:`._facts`: what a shape says (kind, tables, select star, LIMIT, writes, locks, volatile calls);
* :mod:`._stars`: whether a star in a select list reads a table's columns (the rule of ``select_star``);
* :mod:`._statement`: :func:`analyze`, memoised, and the key of a statement past the memory cap; a text
  longer than :data:`MAX_CHARS` is known by its first part;
* :mod:`._params`: keys of parameter sets.

All of it is linear in the length of the statement: no pattern offers two ways through the same text where
a later failure could make the engine try them all.
"""

from __future__ import annotations

from ._params import params_key, params_keys
from ._statement import MAX_CHARS, Statement, analyze, cache_clear, literal_key, rough_kind

__all__ = ["MAX_CHARS", "Statement", "analyze", "literal_key", "params_key", "params_keys", "rough_kind"]

#: Forget every cached analysis (benchmarks measure cache misses with it).
_cache_clear = cache_clear
