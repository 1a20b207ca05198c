"""The field side of sync: enroll with HQ, then deliver sealed batches exactly once.

:class:`SyncClient` asks HQ's signed checkpoint for this device before sending (rather than
trusting local state), sends every stored batch that has no receipt yet, cuts new batches as
needed, verifies each receipt with the HQ signing key pinned at enrollment and stores it in the
same vault transaction that marks the batch acknowledged. Acknowledged batches are never sent
again; unacknowledged ones are resent byte for byte with their original batch id, which HQ
deduplicates, so a sync killed at any point resumes safely.

Retries (:class:`RetryPolicy`): only connection failures and timeouts, 5xx and 429 are retried,
with full-jitter exponential backoff honouring ``Retry-After``. Any other 4xx is HQ refusing:
it is never retried, and is reported with HQ's problem detail in the officer's language.
"""

from __future__ import annotations

import base64
import hashlib
import random as _random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from fieldkit import __version__
from fieldkit.domain.findings import Lang, Message
from fieldkit.vault import syncstate
from fieldkit.vault.errors import NotAllowed, VaultError
from fieldkit.vault.syncstate import Enrollment, StoredBatch
from fieldkit.vault.vault import Session, Vault, now
from sync import envelope
from sync.batches import cut_batch, waiting
from sync.reference import (
    REFERENCE_PATH,
    ReferenceOutcome,
    UntrustedReference,
    apply_reference,
    checkpoint_path,
    request_headers,
)

USER_AGENT = f"fieldkit/{__version__}"
BATCH_MEDIA_TYPE = "application/octet-stream"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Statuses that mean "not now" rather than "no": everything 5xx, and Too Many Requests.
RETRY_STATUSES = frozenset({429})

Progress = Callable[[int, int], None]
EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_UNTRUSTED = 3
EXIT_PARTIAL = 4
CHECKPOINT = Message("Checkpoint", "checkpoint")
RECEIPT = Message("Tanda terima", "receipt")


# -- errors ----------------------------------------------------------------------------------


class SyncError(VaultError):
    """A sync failure with a message for the officer (and the CLI's exit code)."""


class BadHqUrl(SyncError):
    """The HQ address is not usable (usage error)."""

    exit_code = 2


class NotEnrolled(SyncError):
    """The device has not enrolled with HQ yet."""


class AlreadyEnrolled(SyncError):
    """The device is already enrolled; enrolling again would orphan its batches."""


class HqRefused(SyncError):
    """HQ answered with a 4xx other than 429: not retried."""

    def __init__(self, message: Message, problem: Problem) -> None:
        super().__init__(message)
        self.problem = problem


class HqUntrusted(SyncError):
    """A document from HQ failed verification against the pinned key (or did not match)."""

    exit_code = EXIT_UNTRUSTED


class ReceiptNotOurs(SyncError):
    """A valid receipt for another device (a USB stick shared by several laptops)."""


class NetworkUnavailable(SyncError):
    """HQ could not be reached (or kept failing) within the retry budget."""

    exit_code = EXIT_PARTIAL


# -- retry policy ----------------------------------------------------------------------------


def is_retryable(status: int) -> bool:
    """True for the statuses worth retrying: 5xx and 429."""
    return status >= 500 or status in RETRY_STATUSES


def parse_retry_after(value: str | None, *, clock: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - clock())


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Full-jitter exponential backoff: wait ``uniform(0, min(cap, base * 2**attempt))``.

    ``Retry-After`` from HQ raises the wait to at least what HQ asked for, clamped to ``cap``
    so a misconfigured proxy cannot park a device for a day. ``max_attempts`` bounds the tries
    of one request (None: keep trying).
    """

    base: float = 1.0
    cap: float = 300.0
    max_attempts: int | None = None

    def backoff(self, attempt: int, random: Callable[[], float]) -> float:
        """The jittered wait after failed try number ``attempt`` (0 for the first)."""
        return random() * min(self.cap, self.base * 2.0 ** min(attempt, 64))

    def delay(self, attempt: int, retry_after: float | None, random: Callable[[], float]) -> float:
        """The wait before the next try, honouring ``retry_after`` seconds if given."""
        jittered = self.backoff(attempt, random)
        if retry_after is None:
            return jittered
        return min(self.cap, max(jittered, retry_after))


ONCE_ATTEMPTS = 5


# -- HQ's answers ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """An RFC 9457 problem detail from HQ (or what could be made of a non-problem answer)."""

    status: int
    type: str
    title: str
    detail: str

    @property
    def slug(self) -> str:
        """The last part of the problem type, e.g. ``device-revoked``."""
        return self.type.rstrip("/").rsplit("/", 1)[-1] if self.type else ""

    @classmethod
    def from_response(cls, response: requests.Response) -> Problem:
        """Read the problem detail of an error response, tolerating a body that is not one."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        return cls(
            status=response.status_code,
            type=str(body.get("type") or ""),
            title=str(body.get("title") or response.reason or ""),
            detail=str(body.get("detail") or ""),
        )

    def as_json(self) -> dict[str, object]:
        """The problem as JSON."""
        return {
            "status": self.status,
            "type": self.type,
            "title": self.title,
            "detail": self.detail,
        }


# Problems that concern the device, not one batch: no other batch can succeed either.
DEVICE_PROBLEMS = frozenset({"device-revoked", "unknown-device", "bad-signature", "unknown-hq-key"})


def problem_message(problem: Problem, batch: StoredBatch | None = None) -> Message:
    """What an officer reads for HQ's refusal, in both languages."""
    why = (problem.detail or problem.title or str(problem.status)).rstrip(".")
    which = f"Batch {batch.seq} ({batch.batch_id}) " if batch else ""
    slug = problem.slug
    if slug == "device-revoked":
        return Message(
            f"Perangkat ini dicabut di HQ: {why}. Tidak ada yang dikirim; data tetap aman di "
            "laptop. Hubungi HQ.",
            f"This device was revoked at HQ: {why}. Nothing was sent; the data stays safe on "
            "this laptop. Contact HQ.",
        )
    if slug == "unknown-device":
        return Message(
            f"HQ tidak mengenal perangkat ini: {why}. Daftarkan ulang dengan 'fieldkit enroll'.",
            f"HQ does not know this device: {why}. Enroll it again with 'fieldkit enroll'.",
        )
    if slug == "enroll-code-invalid":
        return Message(
            f"Kode pendaftaran ditolak (kedaluwarsa atau sudah dipakai): {why}. Minta kode baru "
            "ke HQ.",
            f"The enrollment code was refused (expired or already used): {why}. Ask HQ for a "
            "new code.",
        )
    if slug == "unknown-hq-key":
        return Message(
            f"{which}disegel untuk kunci HQ yang tidak berlaku lagi ({why}). Hubungi HQ untuk "
            "pendaftaran ulang; data tetap aman di laptop.",
            f"{which}is sealed to an HQ key that is no longer current ({why}). Contact HQ to "
            "enroll again; the data stays safe on this laptop.",
        )
    if slug == "clock-skew":
        return Message(
            f"Jam laptop ini terlalu jauh dari jam HQ ({why}). Setel tanggal dan jam laptop, "
            "lalu coba lagi.",
            f"This laptop's clock is too far from HQ's ({why}). Set the laptop's date and time, "
            "then try again.",
        )
    if slug == "device-exists":
        return Message(
            f"Perangkat ini sudah terdaftar di HQ: {why}. Tanyakan ke HQ.",
            f"This device is already enrolled at HQ: {why}. Ask HQ.",
        )
    if slug in {"batch-id-reused", "sequence-reused"}:
        return Message(
            f"{which}ditolak HQ: nomornya sudah dipakai batch lain ({why}). Laptop ini "
            "mungkin dipulihkan dari salinan lama; laporkan ke HQ.",
            f"{which}was refused by HQ: its number was used by another batch ({why}). This "
            "laptop may have been restored from an old copy; report it to HQ.",
        )
    return Message(
        f"{which}ditolak HQ ({problem.status} {slug or problem.title}): {why}. Laporkan ke HQ.",
        f"{which}was refused by HQ ({problem.status} {slug or problem.title}): {why}. "
        "Report it to HQ.",
    )


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """HQ's signed view of which batches of this device it holds."""

    next_seq: int
    received: frozenset[int]
    missing: frozenset[int]

    def has(self, seq: int) -> bool:
        """True when HQ holds batch ``seq``."""
        return (seq < self.next_seq and seq not in self.missing) or seq in self.received


@dataclass(frozen=True, slots=True)
class Refusal:
    """A batch (or the whole device) that HQ refused in this run."""

    seq: int | None
    batch_id: str | None
    problem: Problem
    message: Message

    def as_json(self, lang: Lang) -> dict[str, object]:
        """The refusal as JSON, with the message in ``lang``."""
        return {
            "seq": self.seq,
            "batch_id": self.batch_id,
            "problem": self.problem.as_json(),
            "message": self.message.text(lang),
        }


@dataclass(slots=True)
class SyncReport:
    """What one :meth:`SyncClient.sync` did, and what is left."""

    cut: int = 0
    acked: int = 0
    duplicates: int = 0
    items: int = 0
    bytes_sent: int = 0
    refused: list[Refusal] = field(default_factory=list)
    untrusted: Message | None = None
    network: Message | None = None
    warnings: list[Message] = field(default_factory=list)
    unacked: int = 0
    records_waiting: int = 0
    audit_waiting: int = 0
    checkpoint: Checkpoint | None = None
    reference: ReferenceOutcome | None = None

    @property
    def complete(self) -> bool:
        """True when every batch is acknowledged and no record waits to be cut."""
        return (
            not self.refused
            and self.untrusted is None
            and self.network is None
            and self.unacked == 0
            and self.records_waiting == 0
        )

    @property
    def exit_code(self) -> int:
        """0 complete; 3 HQ's signature failed; 1 HQ refused; 4 HQ unreachable (partial)."""
        if self.untrusted is not None:
            return EXIT_UNTRUSTED
        if self.refused or (self.reference is not None and self.reference.device_revoked):
            return EXIT_REFUSED
        if not self.complete:
            return EXIT_PARTIAL
        return EXIT_OK

    def as_json(self, lang: Lang) -> dict[str, object]:
        """The report as JSON, messages in ``lang``."""
        return {
            "complete": self.complete,
            "exit_code": self.exit_code,
            "cut": self.cut,
            "acked": self.acked,
            "duplicates": self.duplicates,
            "items": self.items,
            "bytes_sent": self.bytes_sent,
            "unacked": self.unacked,
            "records_waiting": self.records_waiting,
            "audit_waiting": self.audit_waiting,
            "refused": [r.as_json(lang) for r in self.refused],
            "untrusted": self.untrusted.text(lang) if self.untrusted else None,
            "network": self.network.text(lang) if self.network else None,
            "warnings": [w.text(lang) for w in self.warnings],
            "checkpoint": None
            if self.checkpoint is None
            else {
                "next_seq": self.checkpoint.next_seq,
                "received": sorted(self.checkpoint.received),
                "missing": sorted(self.checkpoint.missing),
            },
            "reference": None if self.reference is None else self.reference.as_json(lang),
        }


# -- the HTTP layer --------------------------------------------------------------------------


class SyncCancelled(Exception):
    """:meth:`SyncClient.cancel` was called while waiting or between requests."""


class RetryingHttp:
    """HTTP requests to HQ with the retry rules of this module.

    Returns every response that is not worth retrying (2xx, 3xx, 4xx but 429) to the caller;
    raises :class:`NetworkUnavailable` when the attempts run out.
    """

    def __init__(
        self,
        base_url: str,
        http: requests.Session,
        *,
        policy: RetryPolicy,
        timeout: tuple[float, float],
        sleep: Callable[[float], object],
        random: Callable[[], float],
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.policy = policy
        self.timeout = timeout
        self.sleep = sleep
        self.random = random
        self.cancelled = cancelled

    def request(
        self,
        method: str,
        path: str,
        *,
        policy: RetryPolicy | None = None,
        headers: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
        data: bytes | None = None,
        json_body: object = None,
    ) -> requests.Response:
        """Send one request, retrying transient failures; return the final response.

        ``headers`` may be a function, called before each try (headers that carry a time).
        """
        policy = policy or self.policy
        attempt = 0
        while True:
            if self.cancelled():
                raise SyncCancelled
            retry_after: float | None = None
            try:
                response = self.http.request(
                    method,
                    self.base_url + path,
                    headers={
                        "User-Agent": USER_AGENT,
                        **((headers() if callable(headers) else headers) or {}),
                    },
                    data=data,
                    json=json_body,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,  # an answer cut short
                requests.exceptions.ContentDecodingError,
            ) as exc:
                # The exception text repeats the URL and nested causes; its type says enough.
                failure = type(exc).__name__
            else:
                if not is_retryable(response.status_code):
                    return response
                failure = f"HTTP {response.status_code} {response.reason}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                response.close()
            attempt += 1
            if policy.max_attempts is not None and attempt >= policy.max_attempts:
                raise NetworkUnavailable(_network_message(self.base_url, attempt, failure))
            self.sleep(policy.delay(attempt - 1, retry_after, self.random))


def _network_message(base_url: str, attempts: int, failure: str) -> Message:
    return Message(
        f"HQ ({base_url}) belum bisa dihubungi setelah {attempts} percobaan ({failure}). "
        "Data tetap tersimpan; jalankan 'fieldkit sync' lagi saat ada jaringan, atau kirim "
        "lewat USB ('fieldkit sync export').",
        f"HQ ({base_url}) could not be reached after {attempts} attempts ({failure}). The data "
        "is kept; run 'fieldkit sync' again when there is a network, or send it by USB "
        "('fieldkit sync export').",
    )


def _garbled(base_url: str, what: str) -> NetworkUnavailable:
    # A 2xx that is not HQ's JSON is most often a captive portal or a proxy in the way.
    return NetworkUnavailable(
        Message(
            f"Jawaban dari {base_url} untuk {what} bukan jawaban HQ (portal Wi-Fi atau proxy?). "
            "Data tetap tersimpan; coba lagi di jaringan lain.",
            f"The answer from {base_url} to {what} is not HQ's (a Wi-Fi portal or a proxy?). "
            "The data is kept; try again on another network.",
        )
    )


def _signed(payload: object) -> object:
    """HQ's signed document in the shape :func:`envelope.verify_document` takes.

    Receipts travel as ``{"receipt": {…}, "sig": …}`` (docs/PROTOCOL.md); other documents as
    ``{"document": {…}, "sig": …}``.
    """
    if isinstance(payload, dict) and "document" not in payload and "sig" in payload:
        others = [key for key in payload if key != "sig"]
        if len(others) == 1:
            return {"document": payload[others[0]], "sig": payload["sig"]}
    return payload


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def check_hq_url(url: str, *, allow_http: bool = False) -> str:
    """Normalise HQ's base URL; plain HTTP only to this machine unless ``allow_http``.

    Batches and receipts are protected end to end, but enrollment pins HQ's keys from the
    answer itself, so it must come over TLS (or from a test server on loopback).
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise BadHqUrl(
            Message(
                f"Alamat HQ tidak sah: {url!r} (contoh: https://hq.example.go.id).",
                f"Not a valid HQ address: {url!r} (for example https://hq.example.go.id).",
            )
        )
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS and not allow_http:
        raise BadHqUrl(
            Message(
                "HQ harus dihubungi lewat https://, agar kunci HQ tidak bisa dipalsukan saat "
                "pendaftaran.",
                "HQ must be reached over https://, so HQ's keys cannot be forged during "
                "enrollment.",
            )
        )
    return url.strip().rstrip("/")


def require_enrollment(vault: Vault) -> Enrollment:
    """The pinned enrollment, or :class:`NotEnrolled`."""
    pinned = syncstate.enrollment(vault)
    if pinned is None:
        raise NotEnrolled(
            Message(
                "Perangkat ini belum terdaftar di HQ. Jalankan 'fieldkit enroll --hq URL "
                "--code KODE' dahulu.",
                "This device is not enrolled with HQ. Run 'fieldkit enroll --hq URL "
                "--code CODE' first.",
            )
        )
    return pinned


def verify_signed(payload: object, pinned: Enrollment, what: Message) -> dict[str, Any]:
    """Verify an HQ-signed document with the pinned HQ signing key; return the document."""
    try:
        return envelope.verify_document(_signed(payload), pinned.hq_signing_public_key)
    except envelope.EnvelopeError as exc:
        raise HqUntrusted(
            Message(
                f"Tanda tangan HQ pada {what.id.lower()} tidak sah ({exc.detail}). Tidak ada "
                "yang ditandai terkirim. Laporkan ke HQ: jaringan ini mungkin disadap.",
                f"HQ's signature on the {what.en} does not verify ({exc.detail}). Nothing was "
                "marked as delivered. Report it to HQ: this network may be tampered with.",
            )
        ) from exc


def check_receipt(
    payload: object, pinned: Enrollment, batch: StoredBatch, device_id: str
) -> dict[str, Any]:
    """Verify a receipt and that it names this device, the batch id, seq and ciphertext."""
    receipt = verify_signed(payload, pinned, RECEIPT)
    expected = {
        "device_id": device_id,
        "batch_id": batch.batch_id,
        "seq": batch.seq,
        "ct_sha256": batch.ct_sha256,
    }
    mismatch = any(receipt.get(key) != value for key, value in expected.items())
    if mismatch or receipt.get("count", batch.count) != batch.count:
        raise _untrusted_document(_receipt_of(batch.seq))
    return receipt


def apply_receipt(session: Session, payload: object) -> tuple[StoredBatch, bool]:
    """Verify a receipt that came on a USB stick, find its batch and acknowledge it.

    Returns the batch and whether it was newly acknowledged (False: it already was). Raises
    :class:`ReceiptNotOurs` for another device's receipt, :class:`HqUntrusted` for a bad
    signature or a receipt that names no batch of this device.
    """
    pinned = require_enrollment(session.vault)
    document = verify_signed(payload, pinned, RECEIPT)
    if document.get("device_id") != session.vault.device_id:
        raise ReceiptNotOurs(
            Message(
                f"Tanda terima untuk perangkat lain ({document.get('device_id')}).",
                f"A receipt for another device ({document.get('device_id')}).",
            )
        )
    found = syncstate.batch_by_id(session.conn, str(document.get("batch_id")))
    if found is None:
        raise _untrusted_document(_receipt_of(document.get("batch_id")))
    receipt = check_receipt(payload, pinned, found, session.vault.device_id)
    return found, syncstate.acknowledge(session.conn, found.seq, receipt)


# -- the client ------------------------------------------------------------------------------


class SyncClient:
    """Enrolls this device with HQ and delivers its sealed batches exactly once."""

    def __init__(
        self,
        base_url: str,
        session: Session,
        http: requests.Session | None = None,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        policy: RetryPolicy | None = None,
        once_attempts: int = ONCE_ATTEMPTS,
        sleep: Callable[[float], object] | None = None,
        random: Callable[[], float] | None = None,
        wake: threading.Event | None = None,
    ) -> None:
        """Talk to HQ at ``base_url`` for the unlocked vault ``session``.

        ``wake``, when given, cuts a backoff wait short as soon as it is set (the connectivity
        monitor sets it when HQ becomes reachable); ``sleep`` and ``random`` are injectable for
        tests. ``once_attempts`` bounds each request's tries in ``sync(once=True)``.
        """
        self.session = session
        self.policy = policy or RetryPolicy()
        self.once_attempts = once_attempts
        self._wake = wake or threading.Event()
        self._cancelled = threading.Event()
        self.http = RetryingHttp(
            base_url,
            http or requests.Session(),
            policy=self.policy,
            timeout=(connect_timeout, read_timeout),
            sleep=sleep or self._wait,
            random=random or _random.random,
            cancelled=self._cancelled.is_set,
        )

    @property
    def vault_device_id(self) -> str:
        """The id of this device."""
        return self.session.vault.device_id

    def _wait(self, seconds: float) -> None:
        if self._wake.wait(seconds):
            self._wake.clear()
        if self._cancelled.is_set():
            raise SyncCancelled

    def wake(self) -> None:
        """Cut the current backoff wait short: retry at once (connectivity came back)."""
        self._wake.set()

    def cancel(self) -> None:
        """Stop at the next wait or request; what was acknowledged stays acknowledged."""
        self._cancelled.set()
        self._wake.set()

    # -- enrollment ---------------------------------------------------------------------------

    def enroll(self, code: str) -> Enrollment:
        """Enroll with a one-time code from HQ and pin HQ's keys in the vault (audited)."""
        vault = self.session.vault
        if self.session.role != "supervisor":
            raise NotAllowed(
                Message(
                    "Hanya supervisor yang boleh mendaftarkan perangkat ke HQ.",
                    "Only a supervisor may enroll the device with HQ.",
                )
            )
        existing = syncstate.enrollment(vault)
        if existing is not None:
            raise AlreadyEnrolled(
                Message(
                    f"Perangkat ini sudah terdaftar di {existing.hq_url} sejak "
                    f"{existing.enrolled_at}; tidak didaftarkan ulang.",
                    f"This device is already enrolled with {existing.hq_url} since "
                    f"{existing.enrolled_at}; it was not enrolled again.",
                )
            )
        body = {
            "code": code.strip(),
            "device_id": vault.device_id,
            "vault_id": vault.vault_id,
            "device_public_key": _b64(bytes.fromhex(vault.meta["device_public_key"])),
        }
        once = replace(self.policy, max_attempts=self.once_attempts)
        response = self.http.request("POST", "/v1/enroll", policy=once, json_body=body)
        if response.status_code >= 400:
            problem = Problem.from_response(response)
            raise HqRefused(problem_message(problem), problem)
        pinned = self._pinned_from(response)
        signing_kid = hashlib.sha256(pinned.hq_signing_public_key).hexdigest()[:16]
        syncstate.save_enrollment(self.session, pinned, {"hq_signing_key": signing_kid})
        return pinned

    def _pinned_from(self, response: requests.Response) -> Enrollment:
        try:
            answer = response.json()
            encryption = base64.b64decode(answer["hq_encryption_public_key"], validate=True)
            signing = base64.b64decode(answer["hq_signing_public_key"], validate=True)
            kid, device_id = str(answer["hq_kid"]), answer["device_id"]
        except (ValueError, KeyError, TypeError) as exc:
            raise _garbled(self.http.base_url, "enroll") from exc
        try:
            envelope.hq_public_key(encryption)
            kid_matches = envelope.hq_kid(encryption) == kid
        except envelope.EnvelopeError:
            kid_matches = False
        if (
            not kid_matches
            or device_id != self.vault_device_id
            or len(signing) != envelope.ED25519_PUBLIC_BYTES
        ):
            raise HqUntrusted(
                Message(
                    "Jawaban pendaftaran dari HQ tidak cocok (perangkat, panjang kunci atau "
                    "hq_kid). Tidak ada yang disimpan.",
                    "HQ's enrollment answer does not match (device, key lengths or hq_kid). "
                    "Nothing was stored.",
                )
            )
        return Enrollment(
            hq_url=self.http.base_url,
            hq_kid=kid,
            hq_encryption_public_key=encryption,
            hq_signing_public_key=signing,
            enrolled_at=str(answer.get("enrolled_at") or now()),
        )

    # -- documents from HQ --------------------------------------------------------------------

    def checkpoint(self, pinned: Enrollment, policy: RetryPolicy | None = None) -> Checkpoint:
        """Ask HQ which batches of this device it holds (signed, verified).

        The request is signed with the device key over its path and the time, freshly for
        each try (docs/PROTOCOL.md, "Checkpoint").
        """
        device_id = self.vault_device_id
        path = checkpoint_path(device_id)
        key = self.session.device_signing_key()

        def headers() -> dict[str, str]:
            return {"Accept": "application/json", **request_headers(key, device_id, path=path)}

        response = self.http.request("GET", path, policy=policy, headers=headers)
        if response.status_code >= 400:
            problem = Problem.from_response(response)
            raise HqRefused(problem_message(problem), problem)
        try:
            payload = response.json()
        except ValueError as exc:
            raise _garbled(self.http.base_url, "checkpoint") from exc
        document = verify_signed(payload, pinned, CHECKPOINT)
        try:
            device = document.get("device_id", self.vault_device_id)
            checkpoint = Checkpoint(
                next_seq=int(document["next_seq"]),
                received=frozenset(int(s) for s in document.get("received") or ()),
                missing=frozenset(int(s) for s in document.get("missing") or ()),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise _untrusted_document(CHECKPOINT) from exc
        if device != self.vault_device_id:
            raise _untrusted_document(CHECKPOINT)
        return checkpoint

    # -- sending ------------------------------------------------------------------------------

    def _send(self, batch: StoredBatch, pinned: Enrollment, policy: RetryPolicy) -> tuple[int, int]:
        """POST one stored batch; acknowledge it on a verified receipt.

        Returns HQ's status (201 new, 200 a duplicate) and the number of bytes sent.
        """
        data = syncstate.envelope(self.session.conn, batch.seq)
        try:
            response = self.http.request(
                "POST",
                "/v1/batches",
                policy=policy,
                headers={"Content-Type": BATCH_MEDIA_TYPE, "Accept": "application/json"},
                data=data,
            )
        except NetworkUnavailable as exc:
            syncstate.record_attempt(self.session.conn, batch.seq, exc.message.en)
            raise
        if response.status_code >= 400:
            problem = Problem.from_response(response)
            syncstate.record_attempt(
                self.session.conn, batch.seq, f"{problem.status} {problem.slug or problem.title}"
            )
            raise HqRefused(problem_message(problem, batch), problem)
        try:
            payload = response.json()
        except ValueError as exc:
            raise _garbled(self.http.base_url, f"batch {batch.seq}") from exc
        receipt = check_receipt(payload, pinned, batch, self.vault_device_id)
        syncstate.acknowledge(self.session.conn, batch.seq, receipt)
        return response.status_code, len(data)

    def sync(
        self,
        progress: Progress | None = None,
        *,
        once: bool = False,
        flush: bool = False,
        reference: bool = False,
    ) -> SyncReport:
        """Deliver every batch HQ lacks, cutting new ones as needed; report what happened.

        ``once``: one pass with a bounded number of tries per request (no open-ended waiting).
        Otherwise transient failures are retried until HQ answers. ``progress(done, total)`` is
        called as batches are acknowledged. ``reference``: then pull and apply HQ's reference
        data (:meth:`pull_reference`), also after a refusal (a revoked device learns of it so).
        HQ's refusals, unreachable HQ and bad signatures are reported in the
        :class:`SyncReport`, never raised; :class:`NotEnrolled` is raised, and
        :class:`~fieldkit.vault.syncstate.DeviceRevoked` once HQ's reference data said so.
        """
        pinned = require_enrollment(self.session.vault)
        syncstate.require_active_device(self.session.vault)
        policy = replace(self.policy, max_attempts=self.once_attempts) if once else self.policy
        report = SyncReport()
        self._guard(report, lambda: self._deliver(pinned, policy, report, progress, flush))
        if reference and report.network is None and report.untrusted is None:

            def pull() -> None:
                report.reference = outcome = self.pull_reference(policy)
                if (outcome.visits_added or outcome.entries_added) and not report.refused:
                    # The assigned visits and rosters it wrote go back to HQ in this sync,
                    # sealed to HQ's key as now pinned, so the sync ends with nothing waiting.
                    fresh = require_enrollment(self.session.vault)
                    self._send_new(fresh, policy, report, progress, flush, report.acked)

            self._guard(report, pull)
        self._finish(report)
        return report

    @staticmethod
    def _guard(report: SyncReport, step: Callable[[], None]) -> None:
        """Run a step of a sync, putting what stops it into the report."""
        try:
            step()
        except HqUntrusted as exc:
            report.untrusted = exc.message
        except NetworkUnavailable as exc:
            report.network = exc.message
        except SyncCancelled:
            report.network = Message("Sinkronisasi dihentikan.", "Sync was stopped.")
        except HqRefused as exc:
            report.refused.append(Refusal(None, None, exc.problem, exc.message))

    def pull_reference(self, policy: RetryPolicy | None = None) -> ReferenceOutcome:
        """Fetch HQ's signed reference data for this device, verify it and apply it.

        The request is signed with the device key (docs/PROTOCOL.md, "Reference data"). Raises
        :class:`HqRefused`, :class:`NetworkUnavailable`, :class:`HqUntrusted` (bad signature,
        another device's document, an older version: nothing is applied), :class:`NotEnrolled`
        and :class:`~fieldkit.vault.syncstate.DeviceRevoked` (already revoked: nothing is asked).
        """
        vault = self.session.vault
        require_enrollment(vault)
        syncstate.require_active_device(vault)
        key = self.session.device_signing_key()

        def headers() -> dict[str, str]:
            return {"Accept": "application/json", **request_headers(key, vault.device_id)}

        response = self.http.request("GET", REFERENCE_PATH, policy=policy, headers=headers)
        if response.status_code >= 400:
            problem = Problem.from_response(response)
            raise HqRefused(problem_message(problem), problem)
        try:
            payload = response.json()
        except ValueError as exc:
            raise _garbled(self.http.base_url, "reference data") from exc
        try:
            return apply_reference(self.session, payload)
        except UntrustedReference as exc:
            raise HqUntrusted(exc.message) from exc

    def _deliver(
        self,
        pinned: Enrollment,
        policy: RetryPolicy,
        report: SyncReport,
        progress: Progress | None,
        flush: bool,
    ) -> None:
        conn = self.session.conn
        checkpoint = report.checkpoint = self.checkpoint(pinned, policy)
        stored = syncstate.batches(conn)
        self._compare(checkpoint, stored, report)
        # HQ's known gaps first: they hold up its audit-chain verification.
        queue = sorted(
            (b for b in stored if not b.acked),
            key=lambda b: (b.seq not in checkpoint.missing, b.seq),
        )
        total = len(queue) + waiting(self.session).batches_needed(flush=flush)
        done = 0
        if progress:
            progress(done, total)
        for batch in queue:
            if self._send_one(batch, pinned, policy, report):
                done += 1
                total = max(total, done)
                if progress:
                    progress(done, total)
        self._send_new(pinned, policy, report, progress, flush, done, total)

    def _send_new(
        self,
        pinned: Enrollment,
        policy: RetryPolicy,
        report: SyncReport,
        progress: Progress | None,
        flush: bool,
        done: int,
        total: int | None = None,
    ) -> None:
        """Cut and send batches until nothing waits (or a batch is refused)."""
        if total is None:
            total = done + waiting(self.session).batches_needed(flush=flush)
        while True:
            cut = cut_batch(self.session, pinned, flush=flush)
            if cut is None:
                break
            report.cut += 1
            if self._send_one(cut, pinned, policy, report):
                done += 1
                total = max(total, done)
                if progress:
                    progress(done, total)

    def _send_one(
        self, batch: StoredBatch, pinned: Enrollment, policy: RetryPolicy, report: SyncReport
    ) -> bool:
        """Send a batch; True when acknowledged. A device-wide refusal propagates."""
        try:
            status, sent = self._send(batch, pinned, policy)
        except HqRefused as exc:
            if exc.problem.slug in DEVICE_PROBLEMS:
                raise
            report.refused.append(Refusal(batch.seq, batch.batch_id, exc.problem, exc.message))
            return False
        report.acked += 1
        report.duplicates += status == 200
        report.items += batch.count
        report.bytes_sent += sent
        return True

    def _compare(
        self, checkpoint: Checkpoint, stored: list[StoredBatch], report: SyncReport
    ) -> None:
        """Warn about disagreements between HQ's checkpoint and the vault's own record."""
        lost = [b.seq for b in stored if b.acked and not checkpoint.has(b.seq)]
        if lost:
            report.warnings.append(
                Message(
                    f"HQ tidak lagi memegang batch yang sudah dikonfirmasinya: {lost}. Batch "
                    "tidak dikirim ulang; laporkan ke HQ.",
                    f"HQ no longer holds batches it acknowledged: {lost}. They are not resent; "
                    "report this to HQ.",
                )
            )
        local_next = (stored[-1].seq if stored else 0) + 1
        if checkpoint.next_seq > local_next:
            report.warnings.append(
                Message(
                    f"HQ sudah menerima batch sampai nomor {checkpoint.next_seq - 1}, laptop "
                    f"ini baru sampai {local_next - 1}. Vault mungkin dipulihkan dari salinan "
                    "lama; laporkan ke HQ.",
                    f"HQ has batches up to {checkpoint.next_seq - 1}, this laptop only up to "
                    f"{local_next - 1}. The vault may have been restored from an old copy; "
                    "report this to HQ.",
                )
            )

    def _finish(self, report: SyncReport) -> None:
        """Count what is left and audit the run when it did something."""
        conn = self.session.conn
        left = syncstate.summary(conn)
        report.unacked = left.unacked
        report.records_waiting = left.outbox_waiting
        report.audit_waiting = left.audit_waiting
        subject = f"device:{self.vault_device_id}"
        if report.refused:
            first = report.refused[0].problem
            self.session.note(
                "sync_refused",
                subject,
                {"status": first.status, "problem": first.slug, "refused": len(report.refused)},
            )
        elif report.acked or report.untrusted:
            self.session.note(
                "sync_completed",
                subject,
                {
                    "acked": report.acked,
                    "items": report.items,
                    "unacked": report.unacked,
                    "untrusted": report.untrusted is not None,
                    **(
                        {"reference_version": report.reference.version}
                        if report.reference is not None
                        else {}
                    ),
                },
            )


def _untrusted_document(what: Message) -> HqUntrusted:
    return HqUntrusted(
        Message(
            f"{what.id} dari HQ ditandatangani tetapi tidak cocok dengan data laptop ini. Tidak "
            "ada yang ditandai terkirim; laporkan ke HQ.",
            f"The {what.en} from HQ is signed but does not match this laptop's data. Nothing "
            "was marked as delivered; report it to HQ.",
        )
    )


def _receipt_of(seq: object) -> Message:
    return Message(f"Tanda terima batch {seq}", f"receipt of batch {seq}")
