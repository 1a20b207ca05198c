"""HQ-signed documents (receipts, checkpoints, HQ's time) as the field client reads them.

Each is verified with the HQ signing key pinned at enrollment (:func:`verify_signed`) before
anything in it is believed; a document that verifies but does not match this laptop's data is
refused too (:func:`untrusted_document`). Both are :class:`~sync.errors.HqUntrusted`: nothing is
marked as delivered. :func:`read_hq_time` reads the signed time of a ``401 clock-skew`` answer.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from fieldkit.domain.findings import Message
from fieldkit.vault.syncstate import Enrollment
from sync.device.errors import HqUntrusted
from sync.wire import envelope

HQ_TIME_KIND = "hq-time"
_HQ_TIME = Message("waktu HQ", "HQ's time")
_MAX_TIME_CHARS = 40


def pinned_signing_kid(pinned: Enrollment) -> str:
    """The pinned HQ signing key's kid, as HQ-signed documents give it in ``hq_signing_kid``.

    The first 16 hex characters of SHA-256 of the raw public key (docs/PROTOCOL.md, "Receipt").
    """
    return hashlib.sha256(pinned.hq_signing_public_key).hexdigest()[:16]


def _signed(payload: object) -> object:
    """HQ's signed document in the shape :func:`envelope.verify_document` takes.

    On the wire (and on a USB stick) a receipt is ``{"receipt": {…}, "sig": …}``; the
    checkpoint and the reference data are ``{"document": {…}, "sig": …}``, the form
    :func:`envelope.sign_document` makes and :func:`envelope.verify_document` reads
    (docs/PROTOCOL.md, "Receipt"). The signature is over the inner object either way.
    """
    if isinstance(payload, dict) and "document" not in payload and "sig" in payload:
        others = [key for key in payload if key != "sig"]
        if len(others) == 1:
            return {"document": payload[others[0]], "sig": payload["sig"]}
    return payload


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


def untrusted_document(what: Message) -> HqUntrusted:
    """The error for a document from HQ that is signed but does not match this laptop's data."""
    return HqUntrusted(
        Message(
            f"{what.id} dari HQ ditandatangani tetapi tidak cocok dengan data laptop ini. Tidak "
            "ada yang ditandai terkirim; laporkan ke HQ.",
            f"The {what.en} from HQ is signed but does not match this laptop's data. Nothing "
            "was marked as delivered; report it to HQ.",
        )
    )


def read_hq_time(payload: object, pinned: Enrollment, device_id: str) -> datetime | None:
    """HQ's time from the signed ``hq_time`` of a ``401 clock-skew`` answer, or None.

    ``payload`` is ``{"document": {…}, "sig": …}`` (docs/PROTOCOL.md, "Device-signed
    requests"): it counts only when it verifies with the pinned HQ signing key and its
    document is ``v`` 1, ``kind`` ``hq-time``, for ``device_id``, names the pinned signing key
    and gives ``at`` as ISO 8601 with an offset. Anything else (missing, forged, another
    device's, another kind) is None: the caller then has no time it may sign with.
    """
    if payload is None:
        return None
    try:
        document = verify_signed(payload, pinned, _HQ_TIME)
    except HqUntrusted:
        return None
    version, at = document.get("v"), document.get("at")
    if (
        type(version) is not int
        or version != 1
        or document.get("kind") != HQ_TIME_KIND
        or document.get("device_id") != device_id
        or document.get("hq_signing_kid") != pinned_signing_kid(pinned)
        or not isinstance(at, str)
        or len(at) > _MAX_TIME_CHARS
    ):
        return None
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        return None
    if when.utcoffset() is None or not 1970 <= when.year < 9000:
        return None
    return when.astimezone(UTC)
