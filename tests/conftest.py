"""Fixtures for every test: the real PostgreSQL server, the fake HQ, the cheap test KDF.

When CI=true a test that needs PostgreSQL must run, so an unreachable server fails it; on a
developer's machine without one the test is skipped with the reason. What the fixtures are
built from lives in ``tests/support``; test modules import only from there.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit import kdf
from tests.support.fake_hq import FakeHq
from tests.support.postgres import PG_ADMIN_URL, connect_admin, fresh_database, in_ci

# No test reads a developer's own configuration file; subprocesses inherit this too.
os.environ["FIELDKIT_CONFIG"] = str(Path(tempfile.gettempdir()) / "fieldkit-tests-no-config.toml")


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[object]:
    """An autocommit connection to the server's maintenance database."""
    psycopg = pytest.importorskip("psycopg")
    try:
        conn = connect_admin()
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}".strip()
        if in_ci():
            pytest.fail(f"CI=true requires PostgreSQL. {reason}")
        pytest.skip(f"{reason} (set FIELDKIT_TEST_PG, or CI=true to make this a failure)")
    yield conn
    conn.close()


@pytest.fixture
def postgres_url(postgres_admin: object) -> Iterator[str]:
    """The URL of a fresh, empty database, dropped after the test."""
    with fresh_database(postgres_admin) as url:
        yield url


@pytest.fixture
def fake_hq() -> Iterator[FakeHq]:
    """A :class:`~tests.support.fake_hq.FakeHq` served on 127.0.0.1 for the test."""
    with FakeHq().serve() as hq:
        yield hq


@pytest.fixture
def cheap_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """``FIELDKIT_INSECURE_TEST_KDF=1`` for the test (vaults and officers made on the way)."""
    monkeypatch.setenv(kdf.TEST_KDF_ENV, "1")
