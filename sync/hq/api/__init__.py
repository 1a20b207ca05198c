"""HQ's HTTP API (docs/PROTOCOL.md, "HTTP API"): an ASGI app built by :func:`create_app`.

Workers are stateless: every request goes to the store, so ``fieldkit-hq serve --workers N``
(or several machines behind a load balancer) share one database; ``sync.hq.serving`` runs
the app under uvicorn.

One router per area: :mod:`~sync.hq.api.enrollment`, :mod:`~sync.hq.api.devices`
(checkpoints), :mod:`~sync.hq.api.batches`, :mod:`~sync.hq.api.reference_data` and
:mod:`~sync.hq.api.health`. They take the store, HQ's keys, the rejection log and the
device-signature check from :mod:`~sync.hq.api.dependencies`.

Every error is RFC 9457 problem details (``application/problem+json``) with ``type``
``/problems/<slug>``, ``title``, ``status`` and ``detail`` (:mod:`~sync.hq.api.problems`).
Bad input never yields a 500: bodies are read with a size cap and a deadline within a
bounded number of slots (:mod:`~sync.hq.api.limits`), parsed by hand within the protocol's
limits and checked field by field; an unexpected exception is answered and logged by HQ
itself, without its text (:mod:`~sync.hq.api.problems`, :mod:`sync.hq.logsafe`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from fieldkit import __version__
from sync.hq import ingest, store
from sync.hq.api import batches, devices, enrollment, health, reference_data
from sync.hq.api.config import MissingPassphrase, ServerConfig, server_config
from sync.hq.api.dependencies import DeviceRefused
from sync.hq.api.limits import BodyLimits, Slots
from sync.hq.api.logs import configure_logging, log
from sync.hq.api.problems import install_problem_handlers, problem_response
from sync.hq.api.refusals import answer_device_refused
from sync.hq.ingest import HttpProblem
from sync.hq.logsafe import db_error

# How often a worker writes the refusals it counted, and prunes the rejection log (seconds;
# every worker prunes, which is harmless).
FLUSH_EVERY = 2.0
PRUNE_EVERY = 600

__all__ = ["MissingPassphrase", "ServerConfig", "configure_logging", "create_app", "server_config"]


def create_app(config: ServerConfig) -> FastAPI:
    """The HQ API over the store at ``config.db_url`` with ``config.keys``."""
    engine = store.create_engine(config.db_url)
    if config.migrate:
        store.migrate(engine)
    # A rotated encryption key is news for every device: it raises the reference version.
    store.note_hq_keys(engine, config.keys.current_kid)

    retention = config.limits.rejection_retention_days

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        pruning = asyncio.create_task(_keep_rejections(engine, retention))
        yield
        pruning.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pruning
        engine.dispose()

    app = FastAPI(
        title="fieldkit HQ",
        version=__version__,
        description="Receives sealed batches from field devices (docs/PROTOCOL.md).",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.config = config
    # The batches this worker opens at once (api.batches); made here, in no event loop yet.
    app.state.ingests = Slots(config.limits.max_ingests)

    async def refused(scope: Any, problem: HttpProblem) -> None:
        client = scope.get("client")
        host = client[0] if client else None
        await run_in_threadpool(ingest.reject, engine, problem, client=host)

    # Before the problem handlers: their catch-all middleware must be the outermost.
    app.add_middleware(
        BodyLimits,
        limits=dataclasses.replace(config.limits, max_body=config.max_body),
        answer=problem_response,
        refused=refused,
    )
    install_problem_handlers(app)
    app.add_exception_handler(DeviceRefused, answer_device_refused)  # type: ignore[arg-type]
    for area in (health, enrollment, devices, reference_data, batches):
        app.include_router(area.router)
    return app


async def _keep_rejections(engine: Engine, retention_days: int) -> None:
    """Write counted refusals every :data:`FLUSH_EVERY` seconds; prune every :data:`PRUNE_EVERY`.

    Both at once when it starts; the counts once more when it is cancelled (the app stops).
    """
    pruned_at: float | None = None
    loop = asyncio.get_running_loop()
    try:
        while True:
            try:
                await run_in_threadpool(store.flush_rejection_counts, engine)
                if pruned_at is None or loop.time() - pruned_at >= PRUNE_EVERY:
                    pruned_at = loop.time()
                    await run_in_threadpool(store.prune_rejections, engine, retention_days)
            except Exception as exc:  # a store that is down now may be back at the next round
                log.error("could not keep the rejection log: %s", db_error(exc))
            await asyncio.sleep(FLUSH_EVERY)
    finally:
        with contextlib.suppress(Exception):
            store.flush_rejection_counts(engine)
