"""HQ's receipts: a batch is acknowledged only on a receipt that verifies and names it.

A receipt reaches the laptop as HQ's answer to ``POST /v1/batches`` (:func:`check_receipt`,
called by the sync loop) or on a USB stick next to the exported batches, written by
``fieldkit-hq import`` (:func:`apply_receipt`, for ``fieldkit sync import-receipts``). Either
way it must verify with the pinned HQ signing key and name this device, the batch id, its seq,
its ciphertext hash and its item count; only then is it stored, marking the batch acknowledged.
"""

from __future__ import annotations

from typing import Any

from fieldkit.domain.findings import Message
from fieldkit.vault import syncstate
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.syncstate import Enrollment, StoredBatch
from sync.device.enrollment import require_enrollment
from sync.device.errors import ReceiptNotOurs
from sync.device.signed import pinned_signing_kid, untrusted_document, verify_signed

RECEIPT = Message("Tanda terima", "receipt")


def check_receipt(
    payload: object, pinned: Enrollment, batch: StoredBatch, device_id: str
) -> dict[str, Any]:
    """Verify a receipt and that it is this batch's: v 1, the pinned signing key's kid.

    It must name this device, the batch id, seq, ciphertext hash and item count.
    """
    receipt = verify_signed(payload, pinned, RECEIPT)
    expected = {
        "device_id": device_id,
        "batch_id": batch.batch_id,
        "seq": batch.seq,
        "ct_sha256": batch.ct_sha256,
        "count": batch.count,
        "hq_signing_kid": pinned_signing_kid(pinned),
    }
    mismatch = any(receipt.get(key) != value for key, value in expected.items())
    version = receipt.get("v")
    if mismatch or type(version) is not int or version != 1:
        raise untrusted_document(_receipt_of(batch.seq))
    return receipt


def apply_receipt(session: UnlockedVault, payload: object) -> tuple[StoredBatch, bool]:
    """Verify a receipt that came on a USB stick, find its batch and acknowledge it.

    Returns the batch and whether it was newly acknowledged (False: it already was). Raises
    :class:`ReceiptNotOurs` for another device's receipt, :class:`~sync.errors.HqUntrusted`
    for a bad signature or a receipt that names no batch of this device.
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
        raise untrusted_document(_receipt_of(document.get("batch_id")))
    receipt = check_receipt(payload, pinned, found, session.vault.device_id)
    return found, syncstate.acknowledge(session, found.seq, receipt)


def _receipt_of(seq: object) -> Message:
    return Message(f"Tanda terima batch {seq}", f"receipt of batch {seq}")
