"""Exceptions and warnings raised by queryguard."""

from __future__ import annotations


class QueryGuardError(Exception):
    """Base class of every exception raised by queryguard."""


class ConfigurationError(QueryGuardError, ValueError):
    """A setting has a value queryguard cannot use."""


class QueryGuardViolation(QueryGuardError, AssertionError):
    """Findings crossed the configured limit (the "raise" action, or a test assertion)."""

    def __init__(self, message: str, findings: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.findings = findings


class QueryGuardWarning(UserWarning):
    """Emitted for findings by the "warn" action."""


# Tracebacks and pytest print the public name (queryguard.QueryGuardViolation), not this private module.
for _public in (QueryGuardError, ConfigurationError, QueryGuardViolation, QueryGuardWarning):
    _public.__module__ = "queryguard"
