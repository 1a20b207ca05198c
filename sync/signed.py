"""HQ-signed documents (receipts, checkpoints) as the field client reads them.

Each is verified with the HQ signing key pinned at enrollment (:func:`verify_signed`) before
anything in it is believed; a document that verifies but does not match this laptop's data is
refused too (:func:`untrusted_document`). Both are :class:`~sync.errors.HqUntrusted`: nothing is
marked as delivered.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fieldkit.domain.findings import Message
from fieldkit.vault.syncstate import Enrollment
from sync import envelope
from sync.errors import HqUntrusted


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
