"""``POST /v1/batches``: one sealed batch in, its signed receipt out (docs/PROTOCOL.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sync.hq import ingest
from sync.hq.api.bodies import media_type, read_capped
from sync.hq.api.dependencies import Config, Keys, Rejections, StoreEngine, client_address
from sync.hq.ingest import HttpProblem

router = APIRouter()


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
    try:
        data = await read_capped(request, config.max_body)
    except HttpProblem as problem:
        raise rejections.record(problem) from None
    # ingest records its own refusals (with the device, batch and seq it had read by then).
    result = await run_in_threadpool(
        ingest.ingest, engine, hq_keys, data, client=client_address(request), source="http"
    )
    return Response(result.receipt, status_code=result.status, media_type="application/json")
