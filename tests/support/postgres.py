"""The real PostgreSQL server the store tests (and the benchmarks) use: a fresh database each time.

``FIELDKIT_TEST_PG`` names the server's maintenance database (default: user ``postgres`` on
127.0.0.1:5432). :func:`fresh_database` creates an empty database with a random name and drops
it afterwards, even while connections to it are still open. The ``postgres_admin`` and
``postgres_url`` fixtures in ``tests/conftest.py`` build on it; with ``CI=true`` a missing
server fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

PG_ADMIN_URL = os.environ.get("FIELDKIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def in_ci() -> bool:
    """``CI=true``: tests that need PostgreSQL must run (and fail without it)."""
    return os.environ.get("CI", "").lower() == "true"


def connect_admin(admin_url: str = PG_ADMIN_URL) -> Any:
    """An autocommit connection to the server's maintenance database (``psycopg``)."""
    import psycopg

    return psycopg.connect(admin_url, connect_timeout=5, autocommit=True)


@contextmanager
def fresh_database(
    admin: Any, admin_url: str = PG_ADMIN_URL, prefix: str = "fieldkit_test"
) -> Iterator[str]:
    """The URL of a new, empty ``<prefix>_<random>`` database; dropped (``WITH (FORCE)``) after."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_database(admin_url: str = PG_ADMIN_URL, prefix: str = "fieldkit_test") -> Iterator[str]:
    """:func:`fresh_database` on a connection of its own, for code without the fixtures."""
    admin = connect_admin(admin_url)
    try:
        with fresh_database(admin, admin_url, prefix) as url:
            yield url
    finally:
        admin.close()


def server_version(admin_url: str = PG_ADMIN_URL) -> str:
    """The server's version string."""
    import psycopg

    with psycopg.connect(admin_url, connect_timeout=5) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"
