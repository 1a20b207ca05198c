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
Bad input never yields a 500: bodies are read with a size cap, parsed by hand and checked
field by field.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from fieldkit import __version__
from sync.hq import store
from sync.hq.api import batches, devices, enrollment, health, reference_data
from sync.hq.api.config import MissingPassphrase, ServerConfig, server_config
from sync.hq.api.dependencies import DeviceRefused
from sync.hq.api.logs import configure_logging
from sync.hq.api.problems import install_problem_handlers
from sync.hq.api.refusals import answer_device_refused

__all__ = ["MissingPassphrase", "ServerConfig", "configure_logging", "create_app", "server_config"]


def create_app(config: ServerConfig) -> FastAPI:
    """The HQ API over the store at ``config.db_url`` with ``config.keys``."""
    engine = store.create_engine(config.db_url)
    if config.migrate:
        store.migrate(engine)
    # A rotated encryption key is news for every device: it raises the reference version.
    store.note_hq_keys(engine, config.keys.current_kid)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
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
    install_problem_handlers(app)
    app.add_exception_handler(DeviceRefused, answer_device_refused)  # type: ignore[arg-type]
    for area in (health, enrollment, devices, reference_data, batches):
        app.include_router(area.router)
    return app
