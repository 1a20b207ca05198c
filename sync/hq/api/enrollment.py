"""``POST /v1/enroll``: a device enrolls with a one-time code and pins HQ's keys."""

from __future__ import annotations

import base64
import binascii
import json
import re

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sync.hq import store
from sync.hq.api.bodies import media_type, read_capped
from sync.hq.api.dependencies import Keys, Rejections, StoreEngine, client_address
from sync.hq.api.logs import log
from sync.hq.ingest import HttpProblem

router = APIRouter()

MAX_ENROLL_BYTES = 16 * 1024
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ENROLL_KEYS = frozenset({"code", "device_id", "vault_id", "device_public_key"})


def enroll_fields(raw: object) -> tuple[str, str, str, bytes]:
    """The code, device id, vault id and public key of an enrollment body, each checked.

    ``invalid-request`` (422) for anything but exactly these four fields in their shapes.
    """
    if not isinstance(raw, dict):
        raise HttpProblem("invalid-request", "The body must be a JSON object.")
    keys_given = set(raw)
    if keys_given != _ENROLL_KEYS:
        missing = sorted(_ENROLL_KEYS - keys_given)
        unknown = sorted(str(k)[:40] for k in keys_given - _ENROLL_KEYS)
        raise HttpProblem("invalid-request", f"Fields: missing {missing}, unknown {unknown}.")
    code = raw["code"]
    if not isinstance(code, str) or not 1 <= len(code) <= 64:
        raise HttpProblem("invalid-request", "code must be the one-time code as text.")
    for name in ("device_id", "vault_id"):
        value = raw[name]
        if not isinstance(value, str) or not _UUID.fullmatch(value):
            raise HttpProblem("invalid-request", f"{name} must be a lower-case UUID.")
    encoded = raw["device_public_key"]
    try:
        if not isinstance(encoded, str):
            raise ValueError
        public = base64.b64decode(encoded.encode("ascii"), validate=True)
        Ed25519PublicKey.from_public_bytes(public)
    except (ValueError, UnicodeEncodeError, binascii.Error):
        raise HttpProblem(
            "invalid-request", "device_public_key must be a 32-byte Ed25519 key in base64."
        ) from None
    return code, raw["device_id"], raw["vault_id"], public


@router.post("/v1/enroll", status_code=201)
async def enroll(
    request: Request, engine: StoreEngine, hq_keys: Keys, rejections: Rejections
) -> JSONResponse:
    """Enroll a device with a one-time code; answer HQ's keys for it to pin."""
    if media_type(request) != "application/json":
        raise rejections.record(
            HttpProblem("unsupported-media-type", "Send application/json.", 415)
        )
    try:
        body = await read_capped(request, MAX_ENROLL_BYTES)
    except HttpProblem as problem:
        raise rejections.record(problem) from None
    try:
        raw = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        raise rejections.record(
            HttpProblem("malformed-request", "The body is not UTF-8 JSON.")
        ) from None
    try:
        code, device_id, vault_id, public = enroll_fields(raw)
    except HttpProblem as problem:
        raise rejections.record(problem) from None
    try:
        device = await run_in_threadpool(
            store.enroll_device, engine, code, device_id, vault_id, public
        )
    except store.EnrollRefused as refused:
        slug = "enroll-code-invalid" if refused.reason == "code" else "device-exists"
        raise rejections.record(HttpProblem(slug, refused.detail), device_id=device_id) from None
    log.info("enrolled device %s from %s", device_id, client_address(request))
    current = hq_keys.current
    return JSONResponse(
        {
            "device_id": device.device_id,
            "hq_kid": current.kid,
            "hq_encryption_public_key": base64.b64encode(current.public).decode("ascii"),
            "hq_signing_public_key": base64.b64encode(hq_keys.signing_public).decode("ascii"),
            "enrolled_at": store.iso(device.enrolled_at),
        },
        status_code=201,
    )
