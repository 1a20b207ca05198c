"""A field device as HQ sees it, without a vault: its own keys, real sealed batches.

Nothing here stands in for HQ or for the vault's crypto: the device side uses
``sync.wire.envelope`` exactly as a laptop does (its own Ed25519 key, batches sealed to the HQ
key it was given at enrollment, the audit chain computed from its vault id).
``tests/integration/test_support_kit.py`` checks it against a real vault and HQ's parser.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldkit.domain.synth import synthetic_applicants
from sync.wire import envelope
from sync.wire.reference import encryption_key_headers, open_personal
from sync.wire.requests import REFERENCE_PATH, request_headers


def workflow_fields() -> dict[str, object]:
    """What the vault adds to an applicant's checked data at capture (nothing done yet)."""
    return {
        "documents_seen": [],
        "payment": None,
        "biometrics_ref": None,
        "decision": None,
        "notes": "",
    }


def enroll_body(device_id: str, vault_id: str, key: Ed25519PrivateKey, code: str) -> dict[str, str]:
    """The body of ``POST /v1/enroll`` for a device with ``key``."""
    public = key.public_key().public_bytes_raw()
    return {
        "code": code,
        "device_id": device_id,
        "vault_id": vault_id,
        "device_public_key": base64.b64encode(public).decode("ascii"),
    }


@dataclass
class Device:
    """A field device as HQ sees it: an id, a vault id, a signing key and its counters."""

    hq_public: bytes
    hq_kid: str
    hq_signing_public: bytes
    device_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    vault_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    seq: int = 0
    outbox: int = 0
    audit_seq: int = 0
    audit_hash: bytes = b""
    people: Iterator[dict[str, object]] | None = None
    # The device's encryption key pair (private 96 B, public 1216 B) HQ seals reference data to.
    encryption: tuple[bytes, bytes] = field(default_factory=envelope.generate_hq_encryption_key)
    # Offer the encryption key on reference requests, as a device of reference format 2 does.
    offers_encryption_key: bool = True

    def __post_init__(self) -> None:
        self.audit_hash = envelope.audit_genesis(self.vault_id)
        seed = int(uuid.UUID(self.device_id)) % 10**6
        self.people = (a.as_json() for a in synthetic_applicants(10_000, seed))

    def applicant(self, visit_id: str) -> dict[str, object]:
        """A record item for a new synthetic applicant, with the vault's workflow fields."""
        self.outbox += 1
        data = {**next(self.people), **workflow_fields()}  # type: ignore[dict-item]
        return {
            "t": "r",
            "kind": "applicant",
            "id": str(uuid.uuid4()),
            "version": 1,
            "visit_id": visit_id,
            "state": "captured",
            "officer_id": "sup1",
            "at": "2025-03-08T02:00:00.000000+00:00",
            "outbox_seq": self.outbox,
            "data": data,
        }

    def audit_entries(self, n: int) -> list[dict[str, object]]:
        """The next ``n`` audit items, advancing the device's chain."""
        items = []
        for _ in range(n):
            self.audit_seq += 1
            item: dict[str, object] = {
                "t": "a",
                "seq": self.audit_seq,
                "at": "2025-03-08T02:00:00.000000+00:00",
                "officer_id": "sup1",
                "action": "applicant_created",
                "subject": f"applicant:{uuid.uuid4()}",
                "detail": '{"count":1}',
            }
            self.audit_hash = envelope.audit_hash(self.audit_hash, item)
            items.append(item)
        return items

    def cut(
        self,
        records: int = 2,
        audit: int = 1,
        *,
        seq: int | None = None,
        batch_id: str | None = None,
        hq_public: bytes | None = None,
        hq_kid: str | None = None,
        items: list[dict[str, object]] | None = None,
        audit_head: str | None = None,
    ) -> tuple[envelope.BatchHeader, bytes]:
        """Seal the next batch (or one with the given seq, id, HQ key, items or audit head)."""
        if items is None:
            visit = str(uuid.uuid4())
            items = [self.applicant(visit) for _ in range(records)] + self.audit_entries(audit)
        rec = [i for i in items if i["t"] == "r"]
        aud = [i for i in items if i["t"] == "a"]
        if seq is None:
            self.seq += 1
            seq = self.seq
        if aud and audit_head is None:
            audit_head = self.audit_hash.hex()
        header = envelope.BatchHeader(
            device_id=self.device_id,
            batch_id=batch_id or str(uuid.uuid4()),
            seq=seq,
            created_at="2025-03-08T02:05:00+00:00",
            hq_kid=hq_kid or self.hq_kid,
            count=len(items),
            outbox=(rec[0]["outbox_seq"], rec[-1]["outbox_seq"]) if rec else None,  # type: ignore[arg-type]
            audit=(aud[0]["seq"], aud[-1]["seq"]) if aud else None,  # type: ignore[arg-type]
            audit_head=audit_head,
        )
        sealed = envelope.seal_batch(
            header, items, hq_public=hq_public or self.hq_public, device_key=self.key
        )
        return header, sealed

    def signed_headers(
        self, path: str, *, at: str | None = None, key: Ed25519PrivateKey | None = None
    ) -> dict[str, str]:
        """The ``Fieldkit-*`` headers of a ``GET path`` signed by this device (or by ``key``).

        A reference request also offers the device's encryption key, as a laptop's does.
        """
        headers = request_headers(key or self.key, self.device_id, path=path, at=at)
        if path == REFERENCE_PATH and self.offers_encryption_key:
            headers.update(encryption_key_headers(self.key, self.device_id, self.encryption[1]))
        return headers

    def open_reference(self, document: dict[str, object]) -> dict[str, object]:
        """A verified reference document with its sealed part opened by this device's key and
        merged in (``rosters``, ``watchlist``; ``withdrawn`` only when there is one), as the
        format-1 document read."""
        opened = dict(document)
        sealed = opened.pop("sealed")
        personal: dict[str, object] = {"rosters": [], "watchlist": None, "withdrawn": []}
        if sealed is not None:
            raw = open_personal(
                sealed,  # type: ignore[arg-type]
                self.encryption[0],
                self.device_id,
                document["version"],  # type: ignore[arg-type]
            )
            personal = json.loads(raw)
        opened["rosters"], opened["watchlist"] = personal["rosters"], personal["watchlist"]
        if personal["withdrawn"]:
            opened["withdrawn"] = personal["withdrawn"]
        return opened

    def enroll_body(self, code: str) -> dict[str, str]:
        """The body of ``POST /v1/enroll``."""
        return enroll_body(self.device_id, self.vault_id, self.key, code)


def device_from_enrollment(answer: dict[str, str], device: Device | None = None) -> Device:
    """Pin the HQ keys from an enrollment answer into a device."""
    public = base64.b64decode(answer["hq_encryption_public_key"])
    signing = base64.b64decode(answer["hq_signing_public_key"])
    if device is None:
        return Device(public, answer["hq_kid"], signing)
    device.hq_public, device.hq_kid, device.hq_signing_public = public, answer["hq_kid"], signing
    return device


def verify_receipt(payload: object, hq_signing_public: bytes) -> dict[str, object]:
    """The receipt inside ``{"receipt": {…}, "sig": b64}`` once HQ's signature checks out."""
    assert isinstance(payload, dict) and set(payload) == {"receipt", "sig"}, payload
    signed = {"document": payload["receipt"], "sig": payload["sig"]}
    return envelope.verify_document(signed, hq_signing_public)
