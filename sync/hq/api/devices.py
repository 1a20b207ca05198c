"""``GET /v1/devices/{device_id}/checkpoint``: what HQ holds of a device's batches, for it alone."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from sync.hq import store
from sync.hq.api.dependencies import (
    DeviceRefused,
    DeviceRequest,
    Keys,
    SignedDevice,
    StoreEngine,
    signed_by_device,
)
from sync.hq.ingest import HttpProblem
from sync.hq.keys import HQKeys
from sync.wire import envelope
from sync.wire.requests import CHECKPOINT_PATH, DEVICE_HEADER, checkpoint_path

router = APIRouter()


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def checkpoint_request(device_id: str, request: Request) -> DeviceRequest:
    """Signed over this device's checkpoint path; refusals are logged under the device named.

    That is the ``Fieldkit-Device`` header, or the path's device when the header is missing.
    A path whose device id is not a lower-case UUID is refused first (``malformed-request``
    400), logged under no device: the path is the client's text, and one with a newline in it
    once forged a line of HQ's log.
    """
    claimed = request.headers.get(DEVICE_HEADER)
    if not _UUID.fullmatch(device_id):
        problem = HttpProblem(
            "malformed-request", "The device id in the path is not a lower-case UUID.", 400
        )
        raise DeviceRefused(problem, DeviceRequest(CHECKPOINT_PATH, None), verified=False)
    return DeviceRequest(checkpoint_path(device_id), claimed[:64] if claimed else device_id)


def signed_checkpoint(
    engine: Engine, keys: HQKeys, device_id: str, signer: store.Device
) -> dict[str, object]:
    """The signed checkpoint of ``device_id`` for a request ``signer``'s key signed.

    After the signature check: the signer is the device of the path (``device-mismatch``
    403), it is not revoked (``device-revoked`` 403).
    """
    if device_id != signer.device_id:
        raise HttpProblem(
            "device-mismatch",
            f"Signed by device {signer.device_id}, which may read only its own "
            f"checkpoint, not that of {device_id[:64]!r}.",
            403,
        )
    if signer.revoked:
        raise HttpProblem("device-revoked", f"Device {device_id} was revoked.", 403)
    with store.reading(engine) as conn:
        point = store.checkpoint(conn, device_id)
    document = checkpoint_document(device_id, point, store.now(), keys.signing_kid)
    return envelope.sign_document(document, keys.signing_key)


def checkpoint_document(
    device_id: str, point: store.Checkpoint, at: datetime, signing_kid: str
) -> dict[str, object]:
    """The (unsigned) checkpoint document for ``device_id`` (docs/PROTOCOL.md, "Checkpoint")."""
    return {
        "v": 1,
        "device_id": device_id,
        "next_seq": point.next_seq,
        "received": point.received,
        "missing": point.missing,
        "at": store.iso(at),
        "hq_signing_kid": signing_kid,
    }


@router.get(CHECKPOINT_PATH)
async def checkpoint(
    device_id: str,
    signed: Annotated[SignedDevice, signed_by_device(checkpoint_request)],
    engine: StoreEngine,
    hq_keys: Keys,
) -> JSONResponse:
    """What HQ holds of a device's batches, signed, for a request signed by that device."""
    try:
        document = await run_in_threadpool(
            signed_checkpoint, engine, hq_keys, device_id, signed.device
        )
    except HttpProblem as problem:
        raise signed.refused(problem) from None
    return JSONResponse(document, headers={"Cache-Control": "no-store"})
