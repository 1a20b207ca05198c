"""HQ's checkpoint: which of this device's batches HQ holds, asked before every sync.

The laptop trusts HQ's signed answer rather than its own records (a vault restored from an old
copy, a receipt that never arrived): :func:`fetch_checkpoint` signs the request with the device
key (docs/PROTOCOL.md, "Checkpoint"), verifies the answer with the pinned HQ signing key and
reads it (:func:`read_checkpoint`: version 1, this device, the pinned signing key's kid);
:func:`disagreements` words what the laptop and HQ disagree on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fieldkit.domain.findings import Message
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.syncstate import Enrollment, StoredBatch
from sync.device.errors import HqRefused
from sync.device.retry import RetryPolicy
from sync.device.signed import pinned_signing_kid, untrusted_document, verify_signed
from sync.device.transport import RetryingHttp, garbled
from sync.wire.requests import checkpoint_path

CHECKPOINT = Message("Checkpoint", "checkpoint")
# The checkpoint document's version (docs/PROTOCOL.md, "Checkpoint").
VERSION = 1


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """HQ's signed view of which batches of this device it holds."""

    next_seq: int
    received: frozenset[int]
    missing: frozenset[int]

    def has(self, seq: int) -> bool:
        """True when HQ holds batch ``seq``."""
        return (seq < self.next_seq and seq not in self.missing) or seq in self.received


def fetch_checkpoint(
    http: RetryingHttp,
    session: UnlockedVault,
    pinned: Enrollment,
    policy: RetryPolicy | None = None,
) -> Checkpoint:
    """Ask HQ which batches of this device it holds (signed, verified).

    The request is signed with the device key over its path and the time, freshly for
    each try (docs/PROTOCOL.md, "Checkpoint"). Raises :class:`~sync.errors.HqRefused`,
    :class:`~sync.errors.HqUntrusted` and :class:`~sync.errors.NetworkUnavailable`.
    """
    device_id = session.vault.device_id
    path = checkpoint_path(device_id)
    key = session.device_signing_key()
    response = http.device_request("GET", path, key, device_id, policy=policy)
    if response.status_code >= 400:
        raise HqRefused.from_response(response)
    try:
        payload = response.json()
    except ValueError as exc:
        raise garbled(http.base_url, "checkpoint") from exc
    return read_checkpoint(payload, pinned, device_id)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _seqs(raw: object) -> frozenset[int]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list) or not all(_is_int(s) and s >= 1 for s in raw):
        raise ValueError("seqs are a list of positive integers")
    return frozenset(raw)


def read_checkpoint(payload: object, pinned: Enrollment, device_id: str) -> Checkpoint:
    """Verify HQ's signed checkpoint with the pinned key and read it.

    Refused as :class:`~sync.errors.HqUntrusted`, like a bad signature: a document whose ``v``
    is not ``1``, whose ``device_id`` is missing or another device's, whose ``hq_signing_kid``
    is not the pinned signing key's, or whose seqs are not positive integers.
    """
    document: dict[str, Any] = verify_signed(payload, pinned, CHECKPOINT)
    version = document.get("v")
    if (
        not _is_int(version)
        or version != VERSION
        or document.get("device_id") != device_id
        or document.get("hq_signing_kid") != pinned_signing_kid(pinned)
    ):
        raise untrusted_document(CHECKPOINT)
    try:
        next_seq = document["next_seq"]
        if not _is_int(next_seq) or next_seq < 1:
            raise ValueError("next_seq is a positive integer")
        return Checkpoint(
            next_seq=next_seq,
            received=_seqs(document.get("received")),
            missing=_seqs(document.get("missing")),
        )
    except (KeyError, ValueError) as exc:
        raise untrusted_document(CHECKPOINT) from exc


def disagreements(checkpoint: Checkpoint, stored: list[StoredBatch]) -> list[Message]:
    """Warnings where HQ's checkpoint and the vault's own record of its batches disagree."""
    warnings: list[Message] = []
    lost = [b.seq for b in stored if b.acked and not checkpoint.has(b.seq)]
    if lost:
        warnings.append(
            Message(
                f"HQ tidak lagi memegang batch yang sudah dikonfirmasinya: {lost}. Batch "
                "tidak dikirim ulang; laporkan ke HQ.",
                f"HQ no longer holds batches it acknowledged: {lost}. They are not resent; "
                "report this to HQ.",
            )
        )
    local_next = (stored[-1].seq if stored else 0) + 1
    if checkpoint.next_seq > local_next:
        warnings.append(
            Message(
                f"HQ sudah menerima batch sampai nomor {checkpoint.next_seq - 1}, laptop "
                f"ini baru sampai {local_next - 1}. Vault mungkin dipulihkan dari salinan "
                "lama; laporkan ke HQ.",
                f"HQ has batches up to {checkpoint.next_seq - 1}, this laptop only up to "
                f"{local_next - 1}. The vault may have been restored from an old copy; "
                "report this to HQ.",
            )
        )
    return warnings
