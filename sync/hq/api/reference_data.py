"""``GET /v1/reference``: the signed reference data for the device that signed the request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sync.hq import reference
from sync.hq.api.dependencies import (
    DeviceRequest,
    Keys,
    SignedDevice,
    StoreEngine,
    signed_by_device,
)
from sync.hq.ingest import HttpProblem
from sync.wire.requests import DEVICE_HEADER, REFERENCE_PATH

router = APIRouter()


async def reference_request(request: Request) -> DeviceRequest:
    """Signed over the reference path; refusals are logged under the ``Fieldkit-Device`` named."""
    claimed = request.headers.get(DEVICE_HEADER)
    return DeviceRequest(REFERENCE_PATH, claimed[:64] if claimed else None)


@router.get(REFERENCE_PATH)
async def reference_data(
    request: Request,
    signed: Annotated[SignedDevice, signed_by_device(reference_request)],
    engine: StoreEngine,
    hq_keys: Keys,
) -> JSONResponse:
    """The signed reference data for the device that signed this request.

    The request may offer the device's encryption key (two headers, docs/PROTOCOL.md); HQ
    keeps the first and seals the document's personal part to it.
    """
    try:
        offered = reference.offered_encryption_key(request.headers, signed.device)
        document = await run_in_threadpool(
            reference.answer, engine, hq_keys, signed.device.device_id, offered
        )
    except HttpProblem as problem:
        raise signed.refused(problem) from None
    return JSONResponse(document, headers={"Cache-Control": "no-store"})
