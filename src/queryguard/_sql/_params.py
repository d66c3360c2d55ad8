"""Keys of parameter sets: equal for equal values whatever their containers, apart across types."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import uuid
from collections.abc import Hashable, Mapping
from itertools import chain
from typing import Any

__all__ = ["params_key", "params_keys"]


@dataclasses.dataclass(frozen=True, slots=True)
class _Tagged:
    """A value kept apart from every other type's values (so True, 1 and 1.0 stay three keys)."""

    type: str
    value: Hashable


_NONE: tuple[()] = ()


def params_key(params: object) -> Hashable:
    """A hashable key equal for equal parameter sets, whatever their container types. Never raises.

    No parameters are no parameters however a driver was given them: None, ``()``, ``[]`` and ``{}`` have
    one key.
    """
    if params is None:
        return _NONE
    try:
        if type(params) is dict and not params:
            return _NONE
        return _freeze(params)
    except Exception:  # a recursive structure, a __repr__ that raises, ...
        try:
            return _Tagged(type(params).__qualname__, repr(params))
        except Exception:
            return _Tagged(type(params).__qualname__, id(params))


_PLAIN_TYPES: frozenset[type] = frozenset((str, int, type(None)))


def params_keys(many: list[Any]) -> list[Hashable]:
    """:func:`params_key` of each of ``many``; plain tuples and lists (the usual run) cost no call each."""
    try:
        if (
            set(map(type, many)) <= _SEQUENCE_TYPES
            and set(map(type, chain.from_iterable(many))) <= _PLAIN_TYPES
        ):
            return list(map(tuple, many))
    except Exception:  # an odd container: one key at a time
        pass
    return list(map(params_key, many))


_SEQUENCE_TYPES: frozenset[type] = frozenset((tuple, list))


def _freeze(value: object) -> Hashable:
    kind = type(value)
    if kind is str or kind is int or value is None:
        return value
    if kind is tuple or kind is list:
        return tuple(map(_freeze, value))  # type: ignore[call-overload]
    if kind is bool:
        return _Tagged("bool", value)
    if kind is float:
        return _Tagged("float", repr(value))  # repr: nan equals nan
    if isinstance(value, Mapping):
        return _Tagged("dict", frozenset((_freeze(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return _Tagged("set", frozenset(map(_freeze, value)))
    if isinstance(value, memoryview):
        return _Tagged("bytes", value.tobytes())
    if isinstance(value, (bytes, bytearray)):
        return _Tagged("bytes", bytes(value))
    if isinstance(value, decimal.Decimal):
        return _Tagged("Decimal", str(value.normalize() if value.is_finite() else value))
    if isinstance(value, str):  # SafeString, a str enum: the driver sends the plain value
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return _Tagged("float", float.__repr__(value))
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta, uuid.UUID)):
        return _Tagged(kind.__qualname__, value)
    if isinstance(value, (list, tuple)):
        return tuple(map(_freeze, value))
    return _Tagged(kind.__qualname__, repr(value))
