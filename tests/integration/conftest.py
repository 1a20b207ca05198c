"""Fixtures for the integration tests: real HQs (initialised homes, a served process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hq import HQHome, Server, init_hq, running_hq


@pytest.fixture(scope="module")
def hq_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``fieldkit-hq serve`` (one worker, SQLite) for the tests of one module."""
    with running_hq(tmp_path_factory.mktemp("hq"), workers=1) as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hq_home(request: pytest.FixtureRequest, tmp_path: Path) -> HQHome:
    """An HQ initialised by ``fieldkit-hq init``, over SQLite and over a fresh PostgreSQL."""
    db_url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    return init_hq(tmp_path / "hq", db_url)
