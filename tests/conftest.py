"""Shared fixtures: the real PostgreSQL server used by store tests.

When CI=true a test that needs PostgreSQL must run, so an unreachable server fails it; on a
developer's machine without one the test is skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

PG_ADMIN_URL = os.environ.get("FIELDKIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[object]:
    """An autocommit connection to the server's maintenance database."""
    psycopg = pytest.importorskip("psycopg")
    try:
        conn = psycopg.connect(PG_ADMIN_URL, connect_timeout=5, autocommit=True)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}".strip()
        if _in_ci():
            pytest.fail(f"CI=true requires PostgreSQL. {reason}")
        pytest.skip(f"{reason} (set FIELDKIT_TEST_PG, or CI=true to make this a failure)")
    yield conn
    conn.close()


@pytest.fixture
def postgres_url(postgres_admin: object) -> Iterator[str]:
    """The URL of a fresh, empty database, dropped after the test."""
    name = f"fieldkit_test_{uuid.uuid4().hex[:12]}"
    postgres_admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        postgres_admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]
