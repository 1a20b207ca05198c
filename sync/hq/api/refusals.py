"""Answering a refused device-signed request: the rejection recorded, and HQ's signed time.

A ``401 clock-skew`` answer carries ``hq_time`` (docs/PROTOCOL.md, "Device-signed requests")
for an enrolled device whose key signed the refused request: the device signs again with
it rather than with the unauthenticated ``Date`` header.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from sync.hq import ingest, reference, store
from sync.hq.api.dependencies import DeviceRefused, client_address, store_engine, worker_config
from sync.hq.api.problems import problem_response
from sync.hq.ingest import HttpProblem
from sync.hq.keys import HQKeys
from sync.wire import envelope
from sync.wire.requests import TIME_HEADER


def hq_time(
    engine: Engine, keys: HQKeys, headers: Mapping[str, str], path: str
) -> dict[str, object] | None:
    """HQ's time, signed, for the enrolled device that signed a refused time over ``path``.

    None (no member) unless the headers name an enrolled device (revoked or not) whose key
    signed them: HQ's time is no oracle for strangers.
    """
    try:
        # The headers as :func:`reference.credentials` read them, bar the time's window.
        signed_at = datetime.fromisoformat(headers.get(TIME_HEADER, ""))
        creds = reference.credentials(headers, clock=signed_at)
    except (HttpProblem, ValueError, TypeError):
        return None
    with store.reading(engine) as conn:
        device = store.get_device(conn, creds.device_id)
    if device is None:
        return None
    try:
        reference.verify_request(device, creds, path)
    except HttpProblem:
        return None
    document = hq_time_document(creds.device_id, store.now(), keys.signing_kid)
    return envelope.sign_document(document, keys.signing_key)


def hq_time_document(device_id: str, at: datetime, signing_kid: str) -> dict[str, object]:
    """The (unsigned) ``hq_time`` document of a ``401 clock-skew`` answer (docs/PROTOCOL.md)."""
    return {
        "v": 1,
        "kind": "hq-time",
        "device_id": device_id,
        "at": store.iso(at),
        "hq_signing_kid": signing_kid,
    }


async def answer_device_refused(request: Request, exc: DeviceRefused) -> JSONResponse:
    """Record the refusal under the device the request names, and answer its problem.

    A ``clock-skew`` answer carries HQ's signed time when :func:`hq_time` gives one.
    """
    engine = await store_engine(request)
    rejected = ingest.reject(
        engine,
        exc.problem,
        client=client_address(request),
        device_id=exc.request.logged_as,
        device_verified=exc.verified,
    )
    if rejected.slug == "clock-skew":
        keys = (await worker_config(request)).keys
        signed = await run_in_threadpool(hq_time, engine, keys, request.headers, exc.request.path)
        if signed is not None:
            response = problem_response(rejected, hq_time=signed)
            response.headers["Cache-Control"] = "no-store"
            return response
    return problem_response(rejected)
