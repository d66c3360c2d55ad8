"""Shared fixtures: real database servers, skipped with a reason when unreachable (never in CI)."""

from __future__ import annotations

import os
import socket

import pytest

_REQUIRE = os.environ.get("QUERYGUARD_REQUIRE_DATABASES", "")
REQUIRED = {name.strip() for name in _REQUIRE.split(",") if name.strip()}
POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}
MYSQL = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": "", "database": "test"}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_server(name: str, host: str, port: int) -> None:
    """Skip (or fail, where CI requires the server) when ``name`` does not answer on ``host:port``."""
    if _reachable(host, port):
        return
    reason = f"{name} is not reachable on {host}:{port}"
    if name in REQUIRED:
        pytest.fail(f"{reason}, and QUERYGUARD_REQUIRE_DATABASES requires it")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_params() -> dict[str, object]:
    """Connection keywords for the PostgreSQL test database (psycopg)."""
    require_server("postgres", "127.0.0.1", 5432)
    return dict(POSTGRES)


@pytest.fixture(scope="session")
def mysql_params() -> dict[str, object]:
    """Connection keywords for the MariaDB/MySQL test database (PyMySQL)."""
    require_server("mysql", "127.0.0.1", 3306)
    return dict(MYSQL)
