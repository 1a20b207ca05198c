"""Enrollment: a laptop proves itself to HQ once with a one-time code and pins HQ's keys.

:func:`enroll` sends the device id, vault id and device public key with the code
(``POST /v1/enroll``), checks that HQ's answer names this device and that ``hq_kid`` really
names the encryption key it carries, and pins both HQ keys in the vault (audited). Every later
batch is sealed to the pinned encryption key and every receipt, checkpoint and reference
document must carry the pinned signing key's signature. :func:`require_enrollment` gives the
pinned keys to the rest of sync.

Enrollment also makes the device's encryption key pair (ML-KEM-768 + X25519, the batches'
HPKE suite), its private half sealed in the vault under the data key: HQ seals the personal
part of its reference data to it (docs/PROTOCOL.md, "Reference data"). The device offers the
public half, signed by its device key, on its reference requests; HQ keeps the first.
A device enrolled before this change makes its key at its next reference pull
(:func:`encryption_key`), so field units need not enroll again.
"""

from __future__ import annotations

import base64
import hashlib

import requests

from fieldkit.domain.findings import Message
from fieldkit.vault import db, syncstate
from fieldkit.vault.clock import now
from fieldkit.vault.errors import NotAllowed
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.syncstate import Enrollment
from fieldkit.vault.vault import Vault
from sync.device.errors import AlreadyEnrolled, HqRefused, HqUntrusted, NotEnrolled
from sync.device.retry import RetryPolicy
from sync.device.transport import RetryingHttp, garbled
from sync.wire import envelope

ENROLL_PATH = "/v1/enroll"


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


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def enroll(
    session: UnlockedVault, http: RetryingHttp, code: str, policy: RetryPolicy
) -> Enrollment:
    """Enroll with a one-time code from HQ and pin HQ's keys in the vault (audited).

    Only a supervisor may, and only once (:class:`AlreadyEnrolled`). ``policy`` bounds the
    tries. Raises :class:`HqRefused` (an expired or used code), :class:`HqUntrusted` (an
    answer that does not match itself or this device; nothing is stored) and
    :class:`~sync.errors.NetworkUnavailable`.
    """
    vault = session.vault
    if session.role != "supervisor":
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
    response = http.request("POST", ENROLL_PATH, policy=policy, json_body=body)
    if response.status_code >= 400:
        raise HqRefused.from_response(response)
    pinned = pinned_from(response, http.base_url, vault.device_id)
    signing_kid = hashlib.sha256(pinned.hq_signing_public_key).hexdigest()[:16]
    syncstate.save_enrollment(session, pinned, {"hq_signing_key": signing_kid})
    encryption_key(session)
    return pinned


def encryption_key(session: UnlockedVault) -> tuple[bytes, bytes]:
    """The device's encryption key pair ``(public 1216 B, private 96 B)``, made if it has none.

    Made at enrollment; a vault enrolled before reference format 2 gets its key here, at its
    first reference pull (one transaction; the private half sealed under the data key).
    """
    held = syncstate.device_encryption_key(session)
    if held is not None:
        return held
    private, public = envelope.generate_hq_encryption_key()
    with db.transaction(session.conn):
        syncstate.store_device_encryption_key(session, public, private)
    session.vault.reload_meta()
    return public, private


def pinned_from(response: requests.Response, base_url: str, device_id: str) -> Enrollment:
    """The keys to pin from HQ's enrollment answer, checked against themselves and the device.

    :class:`HqUntrusted` when ``hq_kid`` does not name the encryption key, the answer is for
    another device or a key has the wrong length; a ``2xx`` that is not HQ's JSON is a network
    problem (:func:`~sync.transport.garbled`).
    """
    try:
        answer = response.json()
        encryption = base64.b64decode(answer["hq_encryption_public_key"], validate=True)
        signing = base64.b64decode(answer["hq_signing_public_key"], validate=True)
        kid, answered_device = str(answer["hq_kid"]), answer["device_id"]
    except (ValueError, KeyError, TypeError) as exc:
        raise garbled(base_url, "enroll") from exc
    try:
        envelope.hq_public_key(encryption)
        kid_matches = envelope.hq_kid(encryption) == kid
    except envelope.EnvelopeError:
        kid_matches = False
    if (
        not kid_matches
        or answered_device != device_id
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
        hq_url=base_url,
        hq_kid=kid,
        hq_encryption_public_key=encryption,
        hq_signing_public_key=signing,
        enrolled_at=str(answer.get("enrolled_at") or now()),
    )
