"""HQ's app in the test process: ``TestClient(create_app(config))`` over a real store.

The HQ home is made by the real CLI (``fieldkit-hq init``), its keys are unlocked with real
crypto, and :func:`sync.hq.api.create_app` builds the app exactly as a worker does; requests
go through Starlette's TestClient, with no subprocess and no socket. Serving (uvicorn, its
workers, real HTTP) is tested with the subprocess runner in :mod:`tests.support.hq`.

The ``api`` fixture (:func:`api_fixture`, or :func:`in_process_hq_for` under another name)
gives one HQ per test module and store: a SQLite file, and a fresh database on the real
PostgreSQL (marked ``postgres``). Afterwards it requires that nothing made HQ fail: no 500
answered, nothing logged with a traceback.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx2
import pytest
from starlette.testclient import TestClient

from sync.hq import keys
from sync.hq.api import ServerConfig, create_app
from sync.hq.keys import HQKeys
from tests.support.hq import (
    PASSPHRASE,
    Device,
    HQHome,
    device_from_enrollment,
    init_hq,
)
from tests.support.postgres import fresh_database

# Rejections record the client's address; the subprocess harness's requests came from here.
PEER = ("127.0.0.1", 50000)
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class HQApp:
    """An HQ app under test: its home and store (``hq``) and a client for its API."""

    hq: HQHome
    client: TestClient
    failures: list[str] = field(default_factory=list)

    def enroll(self, device: Device | None = None, code: str | None = None) -> Device:
        """Enroll a new device through ``POST /v1/enroll`` and pin the keys it answers."""
        code = code or self.hq.enroll_code()
        placeholder = device or Device(b"", "", b"")
        answer = self.client.post("/v1/enroll", json=placeholder.enroll_body(code))
        assert answer.status_code == 201, answer.text
        return device_from_enrollment(answer.json(), placeholder)

    def post(self, data: bytes, **headers: str) -> httpx2.Response:
        """``POST /v1/batches``."""
        headers.setdefault("Content-Type", "application/octet-stream")
        return self.client.post("/v1/batches", content=data, headers=headers)


class _Tracebacks(logging.Handler):
    """Collects what HQ logs with a traceback (an unexpected error, a lost rejection)."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.into.append(self.format(record))


@contextmanager
def hq_app(hq: HQHome, hq_keys: HQKeys | None = None) -> Iterator[HQApp]:
    """HQ's app over ``hq``'s store with its keys (unlocked now unless given), for a block.

    ``failures`` lists every 500 answered and every traceback logged while the block ran.
    """
    config = ServerConfig(hq.home, hq.url, hq_keys or keys.unlock(hq.home, PASSPHRASE))
    failures: list[str] = []

    def note_500(response: httpx2.Response) -> None:
        if response.status_code == 500:
            failures.append(f"{response.request.method} {response.request.url.path} → 500")

    logger = logging.getLogger("fieldkit.hq")
    handler = _Tracebacks(failures)
    logger.addHandler(handler)
    try:
        # As a context manager the client runs the app's lifespan (the engine is disposed at
        # the end) and serves concurrent requests from one event loop.
        with TestClient(create_app(config), client=PEER) as client:
            client.event_hooks = {"response": [note_500]}
            yield HQApp(hq, client, failures)
    finally:
        logger.removeHandler(handler)


def in_process_hq_for(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HQApp]:
    """Body of a module-scoped fixture parametrised over :data:`STORES`.

    Makes HQ over SQLite or a fresh PostgreSQL database (made like ``postgres_url``), yields
    its app, and afterwards requires that nothing made HQ fail: no 500, no traceback logged.
    """
    with contextlib.ExitStack() as stack:
        db_url = None
        if request.param == "postgres":
            db_url = stack.enter_context(fresh_database(request.getfixturevalue("postgres_admin")))
        hq = init_hq(tmp_path_factory.mktemp(f"hq-{request.param}"), db_url)
        running = stack.enter_context(hq_app(hq))
        yield running
    assert not running.failures, "\n".join(running.failures)


@pytest.fixture(scope="module", params=STORES, name="api")
def api_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HQApp]:
    """HQ's app over SQLite or over a fresh PostgreSQL database; nothing fails in the module."""
    yield from in_process_hq_for(request, tmp_path_factory)
