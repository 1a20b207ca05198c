"""HQ's HTTP API (docs/PROTOCOL.md, "HTTP API"): an ASGI app built by :func:`create_app`.

Workers are stateless: every request goes to the store, so ``fieldkit-hq serve --workers N``
(or several machines behind a load balancer) share one database; ``sync.hq.serving`` runs
the app under uvicorn.

Every error is RFC 9457 problem details (``application/problem+json``) with ``type``
``/problems/<slug>``, ``title``, ``status`` and ``detail``. Bad input never yields a 500: bodies
are read with a size cap, parsed by hand and checked field by field.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from fieldkit import __version__
from fieldkit.settings import Settings
from sync.hq import ingest, keys, reference, store
from sync.hq.ingest import HttpProblem
from sync.wire import envelope
from sync.wire.requests import DEVICE_HEADER, REFERENCE_PATH, TIME_HEADER, checkpoint_path

log = logging.getLogger("fieldkit.hq")

PROBLEM_JSON = "application/problem+json"
# Refusals of a device-signed request that come after its signature verified (docs/PROTOCOL.md,
# "Checkpoint", "Reference data"): the device they are logged under is proven, not claimed.
_AFTER_DEVICE_SIGNATURE = frozenset({"device-mismatch", "device-revoked", "keys-changing"})
MAX_ENROLL_BYTES = 16 * 1024
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ENROLL_KEYS = frozenset({"code", "device_id", "vault_id", "device_public_key"})


@dataclass(frozen=True)
class ServerConfig:
    """What an HQ worker needs: its home, its database and its unlocked keys."""

    home: Path
    db_url: str
    keys: keys.HQKeys
    max_body: int = envelope.MAX_ENVELOPE_BYTES
    migrate: bool = True


class MissingPassphrase(keys.KeysError):
    """HQ's keys were asked for without a passphrase."""


def server_config(settings: Settings, passphrase: str | None = None) -> ServerConfig:
    """A worker's config: HQ's home and store from ``settings``, its keys unlocked.

    With ``passphrase``, or else the ``hq_passphrase`` setting (``FIELDKIT_HQ_PASSPHRASE``).
    """
    secret = passphrase if passphrase is not None else settings.hq_passphrase
    if not secret:
        raise MissingPassphrase(f"{keys.PASSPHRASE_ENV} is not set; HQ's keys stay locked.")
    home = settings.hq_home
    return ServerConfig(
        home=home,
        db_url=store.database_url(home, settings.hq_db),
        keys=keys.unlock(home, secret),
    )


def configure_logging(level: int = logging.INFO) -> None:
    """Send ``fieldkit.hq`` messages (rejections, accepted batches) to standard error."""
    logger = logging.getLogger("fieldkit.hq")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False


# --- responses ---------------------------------------------------------------------------------


def problem_response(problem: HttpProblem, **extensions: object) -> JSONResponse:
    """The RFC 9457 response for a problem, with any extension members given."""
    headers = {"Connection": "close"} if problem.status == 413 else None
    return JSONResponse(
        {**problem.as_json(), **extensions},
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


_HTTP_SLUGS = {
    400: "malformed-request",
    404: "not-found",
    405: "method-not-allowed",
    413: "too-large",
    415: "unsupported-media-type",
}


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(HttpProblem)
    async def _problem(_request: Request, exc: HttpProblem) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = _HTTP_SLUGS.get(exc.status_code, f"http-{exc.status_code}")
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        response = problem_response(HttpProblem(slug, detail, exc.status_code))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        where = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}"
            for err in exc.errors()[:5]
        )
        return problem_response(HttpProblem("invalid-request", where or "Invalid request."))

    @app.exception_handler(sa.exc.OperationalError)
    async def _store_down(request: Request, exc: sa.exc.OperationalError) -> JSONResponse:
        log.error("store unavailable on %s %s: %s", request.method, request.url.path, exc.orig)
        response = problem_response(
            HttpProblem("store-unavailable", "HQ's store is unavailable; retry later.", 503)
        )
        response.headers["Retry-After"] = "30"
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(
            HttpProblem("internal-error", "HQ failed on this request; it has been logged.", 500)
        )


# --- reading bodies ----------------------------------------------------------------------------


async def read_capped(request: Request, limit: int) -> bytes:
    """The request body, refused with ``too-large`` as soon as it passes ``limit`` bytes.

    A ``Content-Length`` over the limit is refused before anything is read.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise HttpProblem("malformed-request", "Content-Length is not a number.")
        if int(declared) > limit:
            raise HttpProblem(
                "too-large", f"The body is {int(declared)} bytes; the limit is {limit}."
            )
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HttpProblem("too-large", f"The body is over the limit of {limit} bytes.")
            chunks.append(chunk)
    except ClientDisconnect:
        raise HttpProblem(
            "malformed-request", "The client went away before the body ended."
        ) from None
    return b"".join(chunks)


def _media_type(request: Request) -> str | None:
    value = request.headers.get("content-type")
    return value.split(";", 1)[0].strip().lower() if value else None


# --- enrollment ----------------------------------------------------------------------------------


def _enroll_fields(raw: object) -> tuple[str, str, str, bytes]:
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


# --- the app -------------------------------------------------------------------------------------


def create_app(settings: ServerConfig) -> FastAPI:
    """The HQ API over the store at ``settings.db_url`` with ``settings.keys``."""
    engine = store.create_engine(settings.db_url)
    if settings.migrate:
        store.migrate(engine)
    hq_keys = settings.keys
    # A rotated encryption key is news for every device: it raises the reference version.
    store.note_hq_keys(engine, hq_keys.current_kid)

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
    app.state.settings = settings
    _install_handlers(app)

    def reject(
        request: Request, problem: HttpProblem, **ids: str | int | bool | None
    ) -> HttpProblem:
        return ingest.reject(engine, problem, client=_client(request), **ids)  # type: ignore[arg-type]

    @app.get("/healthz")
    def healthz() -> dict[str, object]:
        """Liveness."""
        return {"status": "ok", "version": __version__}

    @app.post("/v1/enroll", status_code=201)
    async def enroll(request: Request) -> JSONResponse:
        """Enroll a device with a one-time code; answer HQ's keys for it to pin."""
        if _media_type(request) != "application/json":
            raise reject(
                request, HttpProblem("unsupported-media-type", "Send application/json.", 415)
            )
        try:
            body = await read_capped(request, MAX_ENROLL_BYTES)
        except HttpProblem as problem:
            raise reject(request, problem) from None
        try:
            raw = json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError):
            raise reject(
                request, HttpProblem("malformed-request", "The body is not UTF-8 JSON.")
            ) from None
        try:
            code, device_id, vault_id, public = _enroll_fields(raw)
        except HttpProblem as problem:
            raise reject(request, problem) from None
        try:
            device = await run_in_threadpool(
                store.enroll_device, engine, code, device_id, vault_id, public
            )
        except store.EnrollRefused as refused:
            slug = "enroll-code-invalid" if refused.reason == "code" else "device-exists"
            raise reject(request, HttpProblem(slug, refused.detail), device_id=device_id) from None
        log.info("enrolled device %s from %s", device_id, _client(request))
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

    def _hq_time(headers: Mapping[str, str], path: str) -> dict[str, object] | None:
        """HQ's time, signed, for the enrolled device that signed a refused time over ``path``.

        The ``hq_time`` member of a ``401 clock-skew`` answer (docs/PROTOCOL.md, "Device-signed
        requests"): the device signs again with it rather than with the unauthenticated
        ``Date`` header. None (no member) unless the headers name an enrolled device (revoked
        or not) whose key signed them: HQ's time is no oracle for strangers.
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
        document: dict[str, object] = {
            "v": 1,
            "kind": "hq-time",
            "device_id": creds.device_id,
            "at": store.iso(store.now()),
            "hq_signing_kid": hq_keys.signing_kid,
        }
        return envelope.sign_document(document, hq_keys.signing_key)

    async def _refused(
        request: Request, problem: HttpProblem, path: str, device_id: str | None
    ) -> JSONResponse:
        """Log a refusal of a device-signed request and answer it.

        A ``clock-skew`` answer carries HQ's signed time when :func:`_hq_time` gives one.
        """
        rejected = reject(
            request,
            problem,
            device_id=device_id,
            device_verified=problem.slug in _AFTER_DEVICE_SIGNATURE,
        )
        if rejected.slug == "clock-skew":
            signed = await run_in_threadpool(_hq_time, request.headers, path)
            if signed is not None:
                response = problem_response(rejected, hq_time=signed)
                response.headers["Cache-Control"] = "no-store"
                return response
        return problem_response(rejected)

    def _checkpoint(device_id: str, creds: reference.Credentials) -> dict[str, object]:
        """The signed checkpoint of ``device_id`` for a request signed by that device.

        In order: the signing device is enrolled (``unknown-device`` 403), the signature over
        this checkpoint's path verifies (``bad-signature`` 401), the signer is the device of
        the path (``device-mismatch`` 403), it is not revoked (``device-revoked`` 403).
        """
        with store.reading(engine) as conn:
            device = store.get_device(conn, creds.device_id)
            if device is None:
                raise HttpProblem(
                    "unknown-device", f"Device {creds.device_id} is not enrolled.", 403
                )
            reference.verify_request(device, creds, checkpoint_path(device_id))
            if device_id != creds.device_id:
                raise HttpProblem(
                    "device-mismatch",
                    f"Signed by device {creds.device_id}, which may read only its own "
                    f"checkpoint, not that of {device_id[:64]!r}.",
                    403,
                )
            if device.revoked:
                raise HttpProblem("device-revoked", f"Device {device_id} was revoked.", 403)
            point = store.checkpoint(conn, device_id)
        document: dict[str, object] = {
            "v": 1,
            "device_id": device_id,
            "next_seq": point.next_seq,
            "received": point.received,
            "missing": point.missing,
            "at": store.iso(store.now()),
            "hq_signing_kid": hq_keys.signing_kid,
        }
        return envelope.sign_document(document, hq_keys.signing_key)

    @app.get("/v1/devices/{device_id}/checkpoint")
    async def checkpoint(device_id: str, request: Request) -> JSONResponse:
        """What HQ holds of a device's batches, signed, for a request signed by that device."""
        claimed = request.headers.get(DEVICE_HEADER)
        logged = claimed[:64] if claimed else device_id[:64]
        try:
            creds = reference.credentials(request.headers)
            signed = await run_in_threadpool(_checkpoint, device_id, creds)
        except HttpProblem as problem:
            return await _refused(request, problem, checkpoint_path(device_id), logged)
        return JSONResponse(signed, headers={"Cache-Control": "no-store"})

    @app.get("/v1/reference")
    async def reference_data(request: Request) -> JSONResponse:
        """The signed reference data for the device that signed this request."""
        claimed = request.headers.get(reference.DEVICE_HEADER)
        device_id = claimed[:64] if claimed else None
        try:
            creds = reference.credentials(request.headers)
            signed = await run_in_threadpool(reference.answer, engine, hq_keys, creds)
        except HttpProblem as problem:
            return await _refused(request, problem, REFERENCE_PATH, device_id)
        return JSONResponse(signed, headers={"Cache-Control": "no-store"})

    @app.post("/v1/batches")
    async def batches(request: Request) -> Response:
        """Receive one sealed batch; answer its signed receipt (201 new, 200 duplicate)."""
        media = _media_type(request)
        if media not in (None, "application/octet-stream"):
            raise reject(
                request,
                HttpProblem(
                    "unsupported-media-type", "Send the envelope as application/octet-stream."
                ),
            )
        try:
            data = await read_capped(request, settings.max_body)
        except HttpProblem as problem:
            raise reject(request, problem) from None
        result = await run_in_threadpool(
            ingest.ingest, engine, hq_keys, data, client=_client(request), source="http"
        )
        return Response(result.receipt, status_code=result.status, media_type="application/json")

    return app
