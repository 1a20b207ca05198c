"""``POST /v1/batches``: one sealed batch in, its signed receipt out (docs/PROTOCOL.md).

The envelope's header is checked as soon as it has arrived (an unknown or revoked device is
refused before the rest of the body is read), and at most ``max_ingests`` batches are opened
at once per worker: the next waits up to :data:`INGEST_WAIT` seconds for a slot, then is
answered ``503 busy`` with ``Retry-After`` (devices retry).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sync.hq import ingest
from sync.hq.api.bodies import EarlyRefusal, media_type, read_envelope
from sync.hq.api.dependencies import Config, Keys, Rejections, StoreEngine, client_address
from sync.hq.api.limits import BUSY_RETRY_AFTER
from sync.hq.ingest import HttpProblem
from sync.wire import envelope

router = APIRouter()
# Seconds a received batch waits for one of the worker's ingest slots before HQ answers busy.
INGEST_WAIT = 10.0


def _busy(slots: int) -> HttpProblem:
    return HttpProblem(
        "busy",
        f"HQ is opening {slots} batches already; send this one again in {BUSY_RETRY_AFTER} s.",
        503,
    )


@router.post("/v1/batches")
async def batches(
    request: Request,
    engine: StoreEngine,
    hq_keys: Keys,
    config: Config,
    rejections: Rejections,
) -> Response:
    """Receive one sealed batch; answer its signed receipt (201 new, 200 duplicate)."""
    if media_type(request) not in (None, "application/octet-stream"):
        raise rejections.record(
            HttpProblem("unsupported-media-type", "Send the envelope as application/octet-stream."),
        )
    state = request.app.state

    async def known_device(header: envelope.BatchHeader) -> None:
        await run_in_threadpool(ingest.check_claimed_device, engine, header)

    try:
        data = await read_envelope(request, config.max_body, known_device)
    except EarlyRefusal as refused:
        header = refused.header
        raise rejections.record(
            refused,
            device_id=header.device_id if header else None,
            batch_id=header.batch_id if header else None,
            seq=header.seq if header else None,
        ) from None
    except HttpProblem as problem:
        raise rejections.record(problem) from None
    # A burst of devices waits its turn for a moment; beyond that HQ is busy (devices retry).
    slot = await state.ingests.acquire(INGEST_WAIT)
    if slot is None:
        raise rejections.record(_busy(config.limits.max_ingests))
    try:
        # ingest records its own refusals (with the device, batch and seq it had read by then).
        result = await run_in_threadpool(
            ingest.ingest, engine, hq_keys, data, client=client_address(request), source="http"
        )
    finally:
        slot.release()
    return Response(result.receipt, status_code=result.status, media_type="application/json")
