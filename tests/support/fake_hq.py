"""The one fake HQ for client tests: HQ's side of the protocol in this process, scriptable.

:class:`FakeHq` speaks the protocol of docs/PROTOCOL.md with the real wire code: it enrolls
devices with one-time codes, checks device-signed requests (``sync.wire.requests``) against its
own clock (which a test can shift), opens batches and signs receipts, checkpoints, reference
documents and HQ's time with ``sync.wire.envelope``. Nothing is a canned answer standing in for
crypto; ``tests/integration/test_hq_contract.py`` runs the same checks against it and against
the real ``fieldkit-hq serve``.

On top of that a test can make it misbehave:

- :attr:`FakeHq.faults`: ``(path prefix, fault)`` pairs, each used once by the first request
  whose path starts with the prefix. A fault is an answer ``(status, headers, body)``, a
  ``requests.Response`` (in process only), ``"drop"`` (close without answering), ``("slow",
  seconds)`` (answer ``201 {}`` after a pause), or a function ``(status, json) -> (status,
  json)`` that rewrites the answer HQ gave;
- :meth:`FakeHq.script`: answers in order for whatever is asked, and ``500 script exhausted``
  after them (a bare HTTP server, for the transport's retry tests);
- :attr:`FakeHq.clock_shift` (HQ's clock), :attr:`FakeHq.date_shift` / :attr:`FakeHq.date`
  (the ``Date`` header: shifted further, ``"omit"`` or ``"junk"``), :attr:`FakeHq.hq_time`
  (what a clock-skew answer carries as ``hq_time``) and :attr:`FakeHq.health`.

It is reached over HTTP on 127.0.0.1 (:meth:`FakeHq.serve`, a context manager; the
``fake_hq`` fixture) or in process as a ``requests.Session`` (:meth:`FakeHq.session`). Every
request is kept in :attr:`FakeHq.log`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from requests.structures import CaseInsensitiveDict

from sync.wire import envelope
from sync.wire.requests import (
    CHECKPOINT_PATH,
    DEVICE_HEADER,
    MAX_CLOCK_SKEW,
    REFERENCE_PATH,
    SIGNATURE_HEADER,
    TIME_HEADER,
    checkpoint_path,
    request_message,
)

# A fault: an answer (status, headers, body), a requests.Response, "drop", ("slow", seconds), or
# a function (status, json) -> (status, json) that rewrites HQ's answer.
Fault = tuple[int, Mapping[str, str], bytes] | requests.Response | str | Callable[[int, Any], Any]
PROBLEM_JSON = "application/problem+json"
# The statuses docs/PROTOCOL.md gives the refusals this fake makes.
STATUS = {
    "malformed-envelope": 400,
    "unknown-device": 403,
    "bad-signature": 401,
    "unknown-hq-key": 422,
    "batch-id-reused": 409,
    "sequence-reused": 409,
    "undecryptable": 422,
    "malformed-body": 422,
    "enroll-code-invalid": 403,
    "device-exists": 409,
    "invalid-request": 422,
    "unauthenticated": 401,
    "clock-skew": 401,
    "device-mismatch": 403,
    "not-found": 404,
}
_CHECKPOINT_PREFIX, _CHECKPOINT_SUFFIX = CHECKPOINT_PATH.split("{device_id}")


@dataclass(frozen=True)
class Request:
    """One request as the fake received it."""

    method: str
    path: str
    headers: CaseInsensitiveDict[str]
    body: bytes


class Refused(Exception):
    """A refusal, answered as RFC 9457 problem details."""

    def __init__(self, slug: str, detail: str, **extensions: object) -> None:
        super().__init__(f"{slug}: {detail}")
        self.slug, self.detail, self.extensions = slug, detail, extensions

    def answer(self) -> tuple[int, dict[str, object]]:
        status = STATUS.get(self.slug, 400)
        problem = {"type": f"/problems/{self.slug}", "title": self.slug, "status": status,
                   "detail": self.detail}  # fmt: skip
        return status, {**problem, **self.extensions}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class FakeHq:
    """HQ in this process, with its own keys, devices, batches and a queue of faults."""

    def __init__(self) -> None:
        self.private, self.public = envelope.generate_hq_encryption_key()
        self.signing = Ed25519PrivateKey.generate()
        self.url = ""
        self.codes: set[str] = set()  # issued, not yet used
        self.used_codes: dict[str, tuple[str, str, bytes]] = {}  # code -> (device, vault, key)
        self.devices: dict[str, bytes] = {}  # device id -> its Ed25519 public key
        self.enrolled_at: dict[str, str] = {}
        self.receipts: dict[tuple[str, str], dict[str, object]] = {}  # (device, batch id) -> doc
        self.stored: dict[tuple[str, str], tuple[str, dict[str, object]]] = {}  # (hash, answer)
        self.seqs: dict[str, dict[int, str]] = {}  # device -> seq -> batch id
        self.items: list[dict[str, object]] = []
        self.posted: list[bytes] = []  # every body POSTed to /v1/batches
        self.log: list[Request] = []
        self.faults: list[tuple[str, Fault | tuple[str, float]]] = []
        self.scripted = False
        self.signed_times: list[tuple[str, str]] = []  # (path, Fieldkit-Time) of signed requests
        self.hq_times: list[dict[str, object]] = []  # the signed times HQ gave
        self.health = 200
        self.reference_version = 1
        # HQ's clock is the real one shifted by this; its Date header too, shifted further by
        # date_shift (a lying proxy), or "omit"/"junk" for none or an unusable one.
        self.clock_shift = timedelta(0)
        self.date_shift = timedelta(0)
        self.date: str | None = None
        # What a clock-skew answer carries as hq_time: HQ's signed time (None), or this
        # function's answer given the signed time (a network in the way, or a broken HQ).
        self.hq_time: Callable[[dict[str, object]], object] | None = None
        self.lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None

    # -- what tests read -------------------------------------------------------------------------

    @property
    def requests(self) -> list[str]:
        """The path of every request, in order."""
        return [r.path for r in self.log]

    @property
    def sent(self) -> list[CaseInsensitiveDict[str]]:
        """The headers of every request, in order."""
        return [r.headers for r in self.log]

    @property
    def checkpoint_headers(self) -> list[CaseInsensitiveDict[str]]:
        """The headers of every checkpoint request, in order."""
        return [r.headers for r in self.log if r.path.endswith(_CHECKPOINT_SUFFIX)]

    @property
    def signing_public(self) -> bytes:
        """HQ's Ed25519 signing key, raw."""
        return self.signing.public_key().public_bytes_raw()

    @property
    def signing_kid(self) -> str:
        """The kid HQ-signed documents name (docs/PROTOCOL.md, "Receipt")."""
        return hashlib.sha256(self.signing_public).hexdigest()[:16]

    def now(self) -> datetime:
        """HQ's clock."""
        return datetime.now(UTC) + self.clock_shift

    def signed(self, document: dict[str, object]) -> dict[str, object]:
        """``document`` signed with HQ's signing key (``{"document": …, "sig": …}``)."""
        return envelope.sign_document(document, self.signing)

    def enroll_code(self, code: str | None = None) -> str:
        """Issue a one-time enrollment code (``code``, or a fresh one)."""
        code = code or "-".join(secrets.token_hex(2).upper() for _ in range(4))
        self.codes.add(code)
        return code

    def script(self, *answers: object) -> None:
        """Answer the next requests with ``answers`` in order (faults for any path), then 500."""
        self.scripted = True
        self.faults += [("", answer) for answer in answers]

    # -- one request ---------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> object:
        """The answer to one request: ``(status, headers, body)``, a fault, or ``"drop"``."""
        headers = CaseInsensitiveDict(headers)
        with self.lock:
            self.log.append(Request(method, path, headers, body))
            fault = self._take_fault(path)
        if fault == "drop":
            return "drop"
        if isinstance(fault, tuple) and fault[0] == "slow":
            time.sleep(fault[1])
            return (201, {}, b"{}")
        if fault is not None and not callable(fault):
            return fault
        if self.scripted:
            return (500, {}, b"script exhausted")
        with self.lock:
            status, answer, extra = self._route(method, path, headers, body)
        if callable(fault):
            status, answer = fault(status, answer)
        payload = json.dumps(answer).encode()
        media = PROBLEM_JSON if status >= 400 else "application/json"
        return status, {"Content-Type": media, **extra}, payload

    def _take_fault(self, path: str) -> object:
        for i, (prefix, fault) in enumerate(self.faults):
            if path.startswith(prefix):
                del self.faults[i]
                return fault
        return None

    def _route(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, object, dict[str, str]]:
        no_store = {"Cache-Control": "no-store"}
        try:
            if path == "/healthz":
                return self.health, {"status": "ok"}, {}
            if method == "POST" and path == "/v1/enroll":
                return 201, self._enroll(body), {}
            if method == "POST" and path == "/v1/batches":
                return (*self._batch(body), {})
            if method == "GET" and path == REFERENCE_PATH:
                return 200, self._reference(headers), no_store
            if (
                method == "GET"
                and path.startswith(_CHECKPOINT_PREFIX)
                and path.endswith(_CHECKPOINT_SUFFIX)
            ):
                device_id = path[len(_CHECKPOINT_PREFIX) : -len(_CHECKPOINT_SUFFIX)]
                return 200, self._checkpoint(device_id, headers), no_store
            raise Refused("not-found", f"{method} {path}")
        except Refused as refused:
            status, problem = refused.answer()
            return status, problem, (no_store if "hq_time" in problem else {})

    # -- enrollment ------------------------------------------------------------------------------

    def _enroll(self, body: bytes) -> dict[str, object]:
        try:
            raw = json.loads(body)
            code, device_id, vault_id = raw["code"], raw["device_id"], raw["vault_id"]
            public = base64.b64decode(raw["device_public_key"], validate=True)
            Ed25519PublicKey.from_public_bytes(public)
        except (ValueError, KeyError, TypeError, binascii.Error):
            detail = "Send code, device_id, vault_id and device_public_key."
            raise Refused("invalid-request", detail) from None
        if code in self.codes:
            if device_id in self.devices:
                raise Refused("device-exists", f"Device {device_id} is already enrolled.")
            self.codes.discard(code)
            self.used_codes[code] = (device_id, vault_id, public)
            self.devices[device_id] = public
            self.enrolled_at[device_id] = self.now().isoformat()
        elif self.used_codes.get(code) != (device_id, vault_id, public):  # not a retry
            raise Refused("enroll-code-invalid", "The enrollment code is unknown, expired or used.")
        return {
            "device_id": device_id,
            "hq_kid": envelope.hq_kid(self.public),
            "hq_encryption_public_key": _b64(self.public),
            "hq_signing_public_key": _b64(self.signing_public),
            "enrolled_at": self.enrolled_at[device_id],
        }

    # -- device-signed requests ------------------------------------------------------------------

    def _check_signed(self, path: str, headers: Mapping[str, str]) -> str:
        """HQ's checks of a device-signed request over ``path``; the signing device's id."""
        device_id = headers.get(DEVICE_HEADER, "")
        at = headers.get(TIME_HEADER, "")
        encoded = headers.get(SIGNATURE_HEADER, "")
        if not (device_id and at and encoded):
            raise Refused("unauthenticated", f"Send {DEVICE_HEADER}, {TIME_HEADER} and "
                          f"{SIGNATURE_HEADER} (docs/PROTOCOL.md).")  # fmt: skip
        self.signed_times.append((path, at))
        try:
            signed_at = datetime.fromisoformat(at)
            signature = base64.b64decode(encoded, validate=True)
            if signed_at.utcoffset() is None:
                raise ValueError(at)
        except (ValueError, binascii.Error):
            detail = f"{TIME_HEADER} or {SIGNATURE_HEADER} is malformed."
            raise Refused("unauthenticated", detail) from None
        key = self.devices.get(device_id)
        by_device = False
        if key is not None:
            try:
                message = request_message("GET", path, device_id, at)
                Ed25519PublicKey.from_public_bytes(key).verify(signature, message)
                by_device = True
            except InvalidSignature:
                pass
        if abs(signed_at - self.now()) > MAX_CLOCK_SKEW:
            extensions = {}
            if by_device:  # HQ's signed time, for the enrolled device only (docs/PROTOCOL.md)
                signed = self.signed(
                    {"v": 1, "kind": "hq-time", "device_id": device_id,
                     "at": self.now().isoformat(), "hq_signing_kid": self.signing_kid}
                )  # fmt: skip
                self.hq_times.append(signed)
                given = self.hq_time(signed) if self.hq_time is not None else signed
                if given is not None:
                    extensions["hq_time"] = given
            detail = f"Signed at {at}; HQ's clock is {self.now().isoformat()}."
            raise Refused("clock-skew", detail, **extensions)
        if key is None:
            raise Refused("unknown-device", f"Device {device_id} is not enrolled.")
        if not by_device:
            raise Refused("bad-signature", "Not signed by this device's key.")
        return device_id

    def _checkpoint(self, device_id: str, headers: Mapping[str, str]) -> dict[str, object]:
        """HQ's checkpoint, for a request signed by the device over this path (as HQ checks)."""
        if self._check_signed(checkpoint_path(device_id), headers) != device_id:
            raise Refused("device-mismatch", "Another device's checkpoint.")
        present = sorted(self.seqs.get(device_id, {}))
        missing = sorted(set(range(1, (present[-1] if present else 0) + 1)) - set(present))
        return self.signed(
            {
                "v": 1,
                "device_id": device_id,
                "next_seq": (present[-1] + 1) if present else 1,
                "received": [s for s in present if missing and s > missing[0]],
                "missing": missing,
                "at": self.now().isoformat(),
                "hq_signing_kid": self.signing_kid,
            }
        )

    def _reference(self, headers: Mapping[str, str]) -> dict[str, object]:
        """Reference data with nothing in it but HQ's keys, for a request the device signed."""
        device_id = self._check_signed(REFERENCE_PATH, headers)
        return self.signed(
            {
                "type": "reference", "v": 2, "device_id": device_id,
                "version": self.reference_version, "issued_at": self.now().isoformat(),
                "hq_signing_kid": self.signing_kid,
                "hq_keys": {
                    "encryption": {"kid": envelope.hq_kid(self.public),
                                   "public_key": _b64(self.public)},
                    "signing": {"kid": self.signing_kid, "public_key": _b64(self.signing_public)},
                },
                "revoked": None, "revoked_devices": [], "revoked_officers": [], "fees": None,
                "sealed": None,
            }
        )  # fmt: skip

    # -- batches ---------------------------------------------------------------------------------

    def _batch(self, data: bytes) -> tuple[int, dict[str, object]]:
        """Open a sealed batch as HQ does (docs/PROTOCOL.md, "Ingest"); its signed receipt."""
        self.posted.append(data)
        try:
            parsed = envelope.parse_envelope(data)
            header = parsed.header
            key = self.devices.get(header.device_id)
            if key is None:
                raise Refused("unknown-device", f"Device {header.device_id} is not enrolled.")
            envelope.verify_signature(parsed, key)
            if header.hq_kid != envelope.hq_kid(self.public):
                raise Refused("unknown-hq-key", f"No HQ key {header.hq_kid}.")
            ours = (header.device_id, header.batch_id)
            if ours in self.stored:
                ct_sha256, answer = self.stored[ours]
                if ct_sha256 != parsed.ct_sha256:
                    raise Refused("batch-id-reused", f"Batch {header.batch_id}, other bytes.")
                return 200, answer
            held = self.seqs.setdefault(header.device_id, {})
            if header.seq in held:
                raise Refused("sequence-reused", f"Seq {header.seq} holds another batch.")
            self.items += envelope.open_batch(parsed, self.private)
        except envelope.EnvelopeError as exc:
            return Refused(exc.code, exc.detail or exc.code).answer()
        except Refused as refused:
            return refused.answer()
        receipt: dict[str, object] = {
            "v": 1,
            "device_id": header.device_id,
            "batch_id": header.batch_id,
            "seq": header.seq,
            "ct_sha256": parsed.ct_sha256,
            "count": header.count,
            "accepted_at": self.now().isoformat(),
            "hq_signing_kid": self.signing_kid,
        }
        signed = self.signed(receipt)
        # On the wire a receipt is {"receipt": {…}, "sig": b64} (docs/PROTOCOL.md, "Receipt").
        answer = {"receipt": signed["document"], "sig": signed["sig"]}
        held[header.seq] = header.batch_id
        self.receipts[ours] = receipt
        self.stored[ours] = (parsed.ct_sha256, answer)
        return 201, answer

    # -- transports ------------------------------------------------------------------------------

    def session(self) -> requests.Session:
        """A ``requests.Session`` that hands every request to this fake, in process."""
        return _InProcess(self)

    @contextlib.contextmanager
    def serve(self) -> Iterator[FakeHq]:
        """Serve this fake over HTTP on 127.0.0.1 (``url``) for a ``with`` block."""
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        try:
            yield self
        finally:
            httpd.shutdown()
            httpd.server_close()

    def date_header(self) -> str | None:
        """The ``Date`` HQ sends: its clock, or as scripted (shifted, omitted, junk)."""
        if self.date == "omit":
            return None
        if self.date == "junk":
            return "some time today"
        return format_datetime(self.now() + self.date_shift, usegmt=True)


def _response(answer: object, url: str) -> requests.Response:
    if isinstance(answer, requests.Response):
        return answer
    status, headers, body = answer  # type: ignore[misc]
    response = requests.Response()
    response.status_code = status
    response.reason = "fake"
    response.url = url
    response.headers.update(headers)
    response._content = body
    return response


class _InProcess(requests.Session):
    """``requests.Session.request`` answered by a :class:`FakeHq` in this process."""

    def __init__(self, hq: FakeHq) -> None:
        super().__init__()
        self.hq = hq

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        json: object = None,
        **_: object,
    ) -> requests.Response:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = _json_bytes(json) if json is not None else (data or b"")
        answer = self.hq.handle(method.upper(), path, headers or {}, body)
        if answer == "drop":
            raise requests.ConnectionError(f"{self.hq!r} closed the connection")
        response = _response(answer, url)
        if not isinstance(answer, requests.Response) and (date := self.hq.date_header()):
            response.headers.setdefault("Date", date)
        return response


def _json_bytes(value: object) -> bytes:
    return json.dumps(value).encode()


def _handler(hq: FakeHq) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def send_header(self, keyword: str, value: str) -> None:
            if keyword == "Date":  # the one send_response adds: HQ's clock, or as scripted
                date = hq.date_header()
                if date is None:
                    return
                value = date
            super().send_header(keyword, value)

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            answer = hq.handle(self.command, self.path, self.headers, body)
            if answer == "drop":
                self.close_connection = True
                return
            if isinstance(answer, requests.Response):
                answer = (answer.status_code, dict(answer.headers), answer.content)
            status, headers, payload = answer  # type: ignore[misc]
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            # The client may have given up waiting (a timeout test).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(payload)

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

    return Handler
