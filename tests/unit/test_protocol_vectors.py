"""Published test vectors for a device-signed request, a signed checkpoint and a signed reference
document (docs/PROTOCOL.md, "Test vectors for requests and signed documents").

Each vector is made by the real code (``sync.wire.requests``, ``sync.hq.api``,
``sync.hq.reference``) from fixed, published test keys and synthetic people, and is
deterministic (Ed25519 signatures are), so every test run rebuilds it and compares it with the
file in docs/. The one exception is the reference document's sealed part (format 2): HPKE draws
a fresh ephemeral key at every sealing, so its ciphertext (and the signature over it) is
compared by what it opens to with the published device encryption key (``sealed_plaintext``).
Each is then checked twice more: with the device's own readers (``sync.device``), and from bare
``cryptography`` primitives and canonical JSON written again here, as a second implementation
would.

Regenerate the three files (after a change to the wire format; update PROTOCOL.md's quotes too)
with ``.venv/bin/python -m tests.unit.test_protocol_vectors``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from fieldkit.domain.nik import parse_nik
from fieldkit.domain.roster import ENTRY_FIELDS
from fieldkit.domain.synth import is_synthetic_serial, synthetic_applicants
from fieldkit.vault.syncstate import Enrollment
from sync.device.checkpoint import read_checkpoint
from sync.device.reference import read_reference
from sync.device.signed import read_hq_time
from sync.hq import reference, store
from sync.hq.api.devices import checkpoint_document
from sync.hq.api.refusals import hq_time_document
from sync.hq.ingest import HttpProblem
from sync.hq.keys import EncryptionKey, HQKeys
from sync.wire import envelope
from sync.wire.reference import (
    WATCHLIST_AD,
    WATCHLIST_SCHEME,
    WatchlistParams,
    open_personal,
    watchlist_tag,
)
from sync.wire.requests import (
    DEVICE_HEADER,
    REFERENCE_PATH,
    SIGNATURE_HEADER,
    TIME_HEADER,
    checkpoint_path,
    request_headers,
    request_message,
)

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
REQUEST_PATH = DOCS / "protocol-vector-request.json"
CHECKPOINT_PATH = DOCS / "protocol-vector-checkpoint.json"
REFERENCE_PATH_FILE = DOCS / "protocol-vector-reference.json"
BATCH_VECTOR_PATH = DOCS / "protocol-vector.json"
PROTOCOL_PATH = DOCS / "PROTOCOL.md"

# The device and vault of docs/protocol-vector.json.
DEVICE_ID = "8e1f4b2c-6a3d-4e7f-9b05-c4d3e2f1a0b9"
VAULT_ID = "3f6c2a9e-1b7d-4c5e-8f90-a1b2c3d4e5f6"
SIGNED_AT = "2026-11-28T02:15:00.000000+00:00"
WARNING = "All keys here are public test keys: never use them for anything else."


def _fixed(label: str, length: int) -> bytes:
    """A published test secret, as docs/protocol-vector.json derives its keys."""
    return hashlib.shake_256(f"fieldkit/v1/test-vector/{label}".encode()).digest(length)


def _device_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_fixed("device", 32))


def _hq_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_fixed("hq-signing", 32))


def _device_encryption_key() -> tuple[bytes, bytes]:
    private = _fixed("device-mlkem-seed", 64) + _fixed("device-x25519", 32)
    return private, envelope.hq_public_from_private(private)


def _hq_encryption_key() -> tuple[bytes, bytes]:
    private = _fixed("hq-mlkem-seed", 64) + _fixed("hq-x25519", 32)
    return private, envelope.hq_public_from_private(private)


def _public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes_raw().hex()


def _kid(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _signing_keys() -> dict[str, str]:
    hq_signing = _hq_signing_key()
    return {
        "hq_signing_private": hq_signing.private_bytes_raw().hex(),
        "hq_signing_public": _public_hex(hq_signing),
        "hq_signing_kid": _kid(hq_signing.public_key().public_bytes_raw()),
    }


def _signed_entry(document: dict[str, object], key: Ed25519PrivateKey) -> dict[str, object]:
    """A signed document and the exact bytes its signature covers (as UTF-8 text)."""
    return {
        "signed_bytes": envelope.canonical(document).decode("utf-8"),
        "signed": envelope.sign_document(document, key),
    }


# -- the vectors, made by the real code --------------------------------------------------------


def build_request_vector() -> dict[str, object]:
    """Device-signed requests, a ``401 clock-skew`` answer with ``hq_time``, and the re-signing."""
    device = _device_key()
    hq_signing = _hq_signing_key()
    requests = []
    for method, path in (("GET", REFERENCE_PATH), ("GET", checkpoint_path(DEVICE_ID))):
        requests.append(
            {
                "method": method,
                "path": path,
                "device_id": DEVICE_ID,
                "time": SIGNED_AT,
                "signed_message": request_message(method, path, DEVICE_ID, SIGNED_AT).decode(),
                "headers": request_headers(
                    device, DEVICE_ID, method=method, path=path, at=SIGNED_AT
                ),
            }
        )
    # The laptop's clock is three hours behind HQ's: HQ refuses, with its time signed.
    hq_clock = _at("2026-11-28T05:15:00.123456+00:00")
    refused_headers = requests[0]["headers"]
    try:
        reference.credentials(refused_headers, clock=hq_clock)  # type: ignore[arg-type]
    except HttpProblem as problem:
        refusal = problem
    else:  # pragma: no cover - the clock above is three hours off
        raise AssertionError("HQ accepted a time three hours off")
    kid = _kid(hq_signing.public_key().public_bytes_raw())
    hq_time = _signed_entry(hq_time_document(DEVICE_ID, hq_clock, kid), hq_signing)
    resigned_at = store.iso(hq_clock)
    return {
        "about": (
            "fieldkit sync protocol v1 test vector: device-signed requests (docs/PROTOCOL.md, "
            "'Device-signed requests'; 'Test vectors for requests and signed documents'). "
            f"{WARNING} The device key is the device key of protocol-vector.json, the HQ "
            "signing key its HQ signing key. Ed25519 is deterministic: everything is fixed."
        ),
        "keys": {
            "device_private": device.private_bytes_raw().hex(),
            "device_public": _public_hex(device),
            **_signing_keys(),
        },
        "requests": requests,
        "clock_skew": {
            "request": requests[0],
            "hq_clock": store.iso(hq_clock),
            "answer_status": refusal.status,
            "answer": {**refusal.as_json(), "hq_time": hq_time["signed"]},
            "hq_time_signed_bytes": hq_time["signed_bytes"],
            "resigned": {
                "about": (
                    "The same request signed again with HQ's signed time, as if no time passed "
                    "on the laptop between the answer and the new signature (offset = hq_time.at "
                    "minus the laptop's clock, added to the laptop's clock)."
                ),
                "time": resigned_at,
                "signed_message": request_message(
                    "GET", REFERENCE_PATH, DEVICE_ID, resigned_at
                ).decode(),
                "headers": request_headers(
                    device, DEVICE_ID, method="GET", path=REFERENCE_PATH, at=resigned_at
                ),
            },
        },
    }


# HQ holds batches 1 and 4 of the device: 2 and 3 are missing.
CHECKPOINT_HELD = [1, 4]


def build_checkpoint_vector() -> dict[str, object]:
    """HQ's signed checkpoint for a device whose batches 1 and 4 HQ holds."""
    hq_signing = _hq_signing_key()
    missing = store.missing_seqs(CHECKPOINT_HELD)
    point = store.Checkpoint(
        next_seq=max(CHECKPOINT_HELD) + 1,
        received=[s for s in CHECKPOINT_HELD if missing and s > missing[0]],
        missing=missing,
    )
    kid = _kid(hq_signing.public_key().public_bytes_raw())
    at = _at("2026-11-28T02:15:00.250000+00:00")
    entry = _signed_entry(checkpoint_document(DEVICE_ID, point, at, kid), hq_signing)
    return {
        "about": (
            "fieldkit sync protocol v1 test vector: HQ's signed checkpoint (docs/PROTOCOL.md, "
            "'Checkpoint'; 'Test vectors for requests and signed documents'). "
            f"{WARNING} HQ holds batches {CHECKPOINT_HELD} of the device. Everything is fixed."
        ),
        "keys": _signing_keys(),
        "held": CHECKPOINT_HELD,
        **entry,
    }


VISIT_ID = "019ad0a0-6000-7000-8000-6a7b8c9d0e1f"
ENTRY_IDS = ("019ad0a0-6000-7000-8000-6a7b8c9d0e20", "019ad0a0-6000-7000-8000-6a7b8c9d0e21")
WITHDRAWN_VISIT_ID = "019ac9d0-5e00-7000-8000-3b1c2d4e5f61"
OTHER_DEVICE_ID = "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"
ROSTER_TODAY = date(2026, 11, 28)
FEES = {
    "format": 1,
    "schedules": [
        {
            "regulation": "PP 45/2024",
            "effective_from": "2024-12-17",
            "source": "Peraturan Pemerintah Nomor 45 Tahun 2024 (test vector)",
            "note": "Test vector: the PP 45/2024 rows of fieldkit/domain/data/fees.json.",
            "items": {
                "passport.ordinary.5": 350000,
                "passport.ordinary.10": 650000,
                "passport.electronic.5": 650000,
                "passport.electronic.10": 950000,
                "service.same_day": 1000000,
                "fine.lost": 1000000,
                "fine.damaged": 500000,
                "fine.force_majeure": 0,
            },
        }
    ],
}


def _roster_people() -> list[Any]:
    served = (a for a in synthetic_applicants(50, 28) if a.application_type in ("new", "expired"))
    return [next(served), next(served)]


def _watchlist_niks() -> list[str]:
    """Two synthetic NIKs: the first roster entry's, and one of nobody on the roster."""
    first = _roster_people()[0].nik
    other = next(a.nik for a in synthetic_applicants(50, 29))
    return [first, other]


def build_reference_vector() -> dict[str, object]:
    """HQ's signed reference document for the device, with every part filled in."""
    hq_signing = _hq_signing_key()
    private, public = _hq_encryption_key()
    kid = envelope.hq_kid(public)
    people = _roster_people()
    device_private, device_public = _device_encryption_key()
    roster_file = {
        "visit": {
            "kind": "eazy",
            "date": "2026-12-01",
            "session": "pagi",
            "site": "SMAN 1 Karawang",
            "coordinator_name": "Budi Santoso",
            "coordinator_phone": "081234567890",
        },
        "entries": [
            {
                "name": p.name,
                "birth_date": p.birth_date.isoformat(),
                "nik": p.nik,
                "application_type": p.application_type,
                "phone": p.phone,
            }
            for p in people
        ],
    }
    checked, findings = reference.check_roster_file(roster_file, today=ROSTER_TODAY)
    assert checked is not None, findings
    # HQ gives fresh UUIDv7 ids when it assigns; the vector fixes them.
    entries = [
        {"id": entry_id, "data": entry["data"]}
        for entry_id, entry in zip(ENTRY_IDS, checked.entries, strict=True)
    ]
    fees = reference.check_fees(FEES)
    assert fees.value is not None, fees.findings
    niks = _watchlist_niks()
    salt = _fixed("watchlist-salt", 16)
    params = WatchlistParams(bits=16)  # the default cost: two slow hashes
    snapshot = store.ReferenceSnapshot(
        version=7,
        hq_kid=kid,
        fees=fees.value,
        fees_published_at=_at("2026-11-20T08:00:00+00:00"),
        watchlist_updated_at=_at("2026-11-21T09:30:00+00:00"),
        watchlist_publication={
            "scheme": WATCHLIST_SCHEME,
            "salt": base64.b64encode(salt).decode("ascii"),
            **params.as_dict(),
            "entries": len(niks),
            "tags": sorted({watchlist_tag(nik, salt, params) for nik in niks}),
        },
        rosters=[
            {
                "visit_id": VISIT_ID,
                "assigned_at": _at("2026-11-27T03:00:00+00:00"),
                "visit": checked.visit,
                "entries": entries,
            }
        ],
        revoked_devices=[
            store.Device(
                device_id=OTHER_DEVICE_ID,
                vault_id="5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
                public_key=bytes(32),
                enrolled_at=_at("2026-10-01T00:00:00+00:00"),
                revoked_at=_at("2026-11-25T10:00:00+00:00"),
                revoke_reason="laptop hilang / laptop lost",
            )
        ],
        withdrawn=[
            {
                "visit_id": WITHDRAWN_VISIT_ID,
                "withdraw_reason": "salah perangkat / wrong device",
                "withdrawn_at": _at("2026-11-26T04:00:00+00:00"),
            }
        ],
        revoked_officers=[
            {
                "officer_id": "ptg7",
                "scope": "*",
                "revoked_at": _at("2026-11-24T01:00:00+00:00"),
                "reason": "pindah tugas / transferred",
            }
        ],
    )
    device = store.Device(
        device_id=DEVICE_ID,
        vault_id=VAULT_ID,
        public_key=_device_key().public_key().public_bytes_raw(),
        enrolled_at=_at("2026-11-01T00:00:00+00:00"),
        revoked_at=None,
        revoke_reason=None,
        encryption_public_key=device_public,
    )
    keys = HQKeys(
        encryption_keys=(EncryptionKey(kid, public, private, "2026-11-01T00:00:00+00:00"),),
        current_kid=kid,
        signing_key=hq_signing,
    )
    document = reference.document_for(
        snapshot, device, keys, _at("2026-11-28T02:16:00.500000+00:00")
    )
    opened = open_personal(document["sealed"], device_private, DEVICE_ID, 7)  # type: ignore[arg-type]
    return {
        "about": (
            "fieldkit sync protocol test vector: HQ's signed reference document, format 2 "
            "(docs/PROTOCOL.md, 'Reference data'; 'Test vectors for requests and signed "
            f"documents'). {WARNING} The HQ keys are those of protocol-vector.json; the roster "
            "holds synthetic people only (NIK serials 9000-9999, never a real person's). "
            "Everything is fixed except the sealed part's ciphertext (HPKE draws a fresh "
            "ephemeral key each time) and so the signature: sealed_plaintext is what it opens "
            "to with device_encryption_private."
        ),
        "keys": {
            **_signing_keys(),
            "hq_encryption_public": public.hex(),
            "hq_kid": kid,
            "device_encryption_private": device_private.hex(),
            "device_encryption_public": device_public.hex(),
            "device_encryption_kid": envelope.hq_kid(device_public),
            "watchlist_salt": salt.hex(),
        },
        "watchlist_niks": niks,
        "sealed_plaintext": opened.decode("utf-8"),
        **_signed_entry(document, hq_signing),
    }


def _without_ciphertext(vector: dict[str, Any]) -> dict[str, Any]:
    """A reference vector without what a fresh HPKE sealing changes (ct, sig, signed bytes)."""
    document = dict(vector["signed"]["document"])
    sealed = document.get("sealed")
    if isinstance(sealed, dict):
        document["sealed"] = {k: v for k, v in sealed.items() if k != "ct"}
    return {
        **{k: v for k, v in vector.items() if k not in ("signed", "signed_bytes")},
        "document": document,
    }


VECTORS = {
    REQUEST_PATH: build_request_vector,
    CHECKPOINT_PATH: build_checkpoint_vector,
    REFERENCE_PATH_FILE: build_reference_vector,
}


def _published(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _file_text(vector: dict[str, object]) -> str:
    return json.dumps(vector, indent=2, ensure_ascii=False) + "\n"


# -- canonical JSON and verification from primitives ---------------------------------------------

_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _string(text: str) -> str:
    out = []
    for char in text:
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _encode(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items())  # keys are strings: sorted by code point
        return "{" + ",".join(f"{_string(k)}:{_encode(v)}" for k, v in items) + "}"
    raise TypeError(f"canonical JSON has no {type(value).__name__}")


def canonical_by_hand(value: object) -> bytes:
    """Canonical JSON as PROTOCOL.md defines it, written without ``json``: keys sorted, no white
    space, UTF-8, characters as themselves (only ``"``, ``\\`` and controls escaped), integers
    only."""
    return _encode(value).encode("utf-8")


def verify_by_hand(signed: dict[str, Any], public_hex: str) -> dict[str, Any]:
    """Check ``{"document" | "receipt": {…}, "sig": b64}`` with bare Ed25519; the document."""
    assert set(signed) in ({"document", "sig"}, {"receipt", "sig"})
    document = signed["document"] if "document" in signed else signed["receipt"]
    signature = base64.b64decode(signed["sig"], validate=True)
    assert len(signature) == 64
    assert base64.b64encode(signature).decode() == signed["sig"]  # standard, padded
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
    public.verify(signature, canonical_by_hand(document))  # raises InvalidSignature
    return document


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [True, False, None, -7, 2**63 - 1], "c": {"z": "", "y": "x"}},
        {"text": 'quote " backslash \\ tab \t newline \n nul \x00 unit \x1f del \x7f'},
        {"é": "Paspor lama rusak — dibawa", "ü": "\u2028 \U0001f600", "A": "b"},
        [],
        {},
    ],
)
def test_the_hand_written_canonical_json_is_the_codes(value):
    assert canonical_by_hand(value) == envelope.canonical(value)


def test_the_hand_written_canonical_json_refuses_floats():
    with pytest.raises(TypeError):
        canonical_by_hand({"fee": 1.5})


@pytest.mark.parametrize("path", [CHECKPOINT_PATH, REFERENCE_PATH_FILE], ids=lambda p: p.name)
def test_a_changed_document_fails_the_check_from_primitives(path):
    signed = _published(path)["signed"]
    public = _published(path)["keys"]["hq_signing_public"]
    changed = {**signed, "document": {**signed["document"], "device_id": OTHER_DEVICE_ID}}
    with pytest.raises(InvalidSignature):
        verify_by_hand(changed, public)


# -- each published file is what the code makes ------------------------------------------------


@pytest.mark.parametrize("path", list(VECTORS), ids=lambda p: p.name)
def test_the_published_vector_is_what_the_code_makes_now(path):
    stale = f"{path.name} is stale: run .venv/bin/python -m tests.unit.test_protocol_vectors"
    if path == REFERENCE_PATH_FILE:
        published = _published(path)
        assert _without_ciphertext(published) == _without_ciphertext(VECTORS[path]()), stale
        keys = published["keys"]
        opened = open_personal(
            published["signed"]["document"]["sealed"],
            bytes.fromhex(keys["device_encryption_private"]),
            DEVICE_ID,
            published["signed"]["document"]["version"],
        )
        assert opened.decode("utf-8") == published["sealed_plaintext"], stale
        return
    assert path.read_text(encoding="utf-8") == _file_text(VECTORS[path]()), stale


def test_the_vectors_use_the_keys_of_the_batch_vector():
    batch = _published(BATCH_VECTOR_PATH)["keys"]
    for path in VECTORS:
        keys = _published(path)["keys"]
        for name in ("device_private", "device_public", "hq_signing_private", "hq_signing_public"):
            if name in keys:
                assert keys[name] == batch[name], (path.name, name)
    reference_keys = _published(REFERENCE_PATH_FILE)["keys"]
    assert reference_keys["hq_encryption_public"] == batch["hq_encryption_public"]
    assert reference_keys["hq_kid"] == batch["hq_kid"]


# -- (a) device-signed requests -------------------------------------------------------------------


def _check_request_by_hand(request: dict[str, Any], device_public: str) -> None:
    message = canonical_by_hand(
        [
            "fieldkit/v1/request",
            request["method"].upper(),
            request["path"],
            request["device_id"],
            request["time"],
        ]
    )
    assert message.decode() == request["signed_message"]
    headers = request["headers"]
    assert set(headers) == {"Fieldkit-Device", "Fieldkit-Time", "Fieldkit-Signature"}
    assert headers["Fieldkit-Device"] == request["device_id"]
    assert headers["Fieldkit-Time"] == request["time"]
    signature = base64.b64decode(headers["Fieldkit-Signature"], validate=True)
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(device_public)).verify(signature, message)


def test_the_request_vector_verifies_from_primitives():
    vector = _published(REQUEST_PATH)
    device_public = vector["keys"]["device_public"]
    for request in vector["requests"]:
        _check_request_by_hand(request, device_public)
    skew = vector["clock_skew"]
    resigned = {**skew["request"], "time": skew["resigned"]["time"], **skew["resigned"]}
    _check_request_by_hand(resigned, device_public)
    answer = skew["answer"]
    assert skew["answer_status"] == answer["status"] == 401
    assert answer["type"] == "/problems/clock-skew"
    hq_time = verify_by_hand(answer["hq_time"], vector["keys"]["hq_signing_public"])
    assert canonical_by_hand(hq_time).decode() == skew["hq_time_signed_bytes"]
    assert hq_time == {
        "v": 1,
        "kind": "hq-time",
        "device_id": skew["request"]["device_id"],
        "at": skew["hq_clock"],
        "hq_signing_kid": vector["keys"]["hq_signing_kid"],
    }
    assert (
        hashlib.sha256(bytes.fromhex(vector["keys"]["hq_signing_public"])).hexdigest()[:16]
        == (vector["keys"]["hq_signing_kid"])
    )
    assert skew["resigned"]["time"] == hq_time["at"]


def _hq_device(public_hex: str) -> store.Device:
    return store.Device(
        device_id=DEVICE_ID,
        vault_id=VAULT_ID,
        public_key=bytes.fromhex(public_hex),
        enrolled_at=_at("2026-11-01T00:00:00+00:00"),
        revoked_at=None,
        revoke_reason=None,
    )


def test_hq_accepts_the_published_requests_for_their_own_path_only():
    vector = _published(REQUEST_PATH)
    device = _hq_device(vector["keys"]["device_public"])
    paths = [r["path"] for r in vector["requests"]]
    for request in vector["requests"]:
        creds = reference.credentials(request["headers"], clock=_at(request["time"]))
        reference.verify_request(device, creds, request["path"], request["method"])
        for other in paths:
            if other != request["path"]:
                with pytest.raises(HttpProblem) as refused:
                    reference.verify_request(device, creds, other)
                assert refused.value.slug == "bad-signature"
    resigned = vector["clock_skew"]["resigned"]
    creds = reference.credentials(resigned["headers"], clock=_at(vector["clock_skew"]["hq_clock"]))
    reference.verify_request(device, creds, REFERENCE_PATH)


def _pinned(vector: dict[str, Any], hq_kid: str = "", hq_public: bytes = b"") -> Enrollment:
    if not hq_kid:
        hq_public = _hq_encryption_key()[1]
        hq_kid = envelope.hq_kid(hq_public)
    return Enrollment(
        hq_url="https://hq.invalid",
        hq_kid=hq_kid,
        hq_encryption_public_key=hq_public,
        hq_signing_public_key=bytes.fromhex(vector["keys"]["hq_signing_public"]),
        enrolled_at="2026-11-01T00:00:00.000000+00:00",
    )


def test_the_device_reads_the_published_hq_time():
    vector = _published(REQUEST_PATH)
    skew = vector["clock_skew"]
    when = read_hq_time(skew["answer"]["hq_time"], _pinned(vector), DEVICE_ID)
    assert when == _at(skew["hq_clock"])
    assert read_hq_time(skew["answer"]["hq_time"], _pinned(vector), OTHER_DEVICE_ID) is None
    assert set(skew["request"]["headers"]) == {DEVICE_HEADER, TIME_HEADER, SIGNATURE_HEADER}


# -- (b) the checkpoint -------------------------------------------------------------------------


def test_the_checkpoint_vector_verifies_from_primitives():
    vector = _published(CHECKPOINT_PATH)
    document = verify_by_hand(vector["signed"], vector["keys"]["hq_signing_public"])
    assert canonical_by_hand(document).decode() == vector["signed_bytes"]
    assert set(document) == {
        "v",
        "device_id",
        "next_seq",
        "received",
        "missing",
        "at",
        "hq_signing_kid",
    }
    held = vector["held"]
    assert document["next_seq"] == max(held) + 1
    assert document["missing"] == [n for n in range(1, max(held)) if n not in held]
    assert document["received"] == [n for n in held if n > document["missing"][0]]
    assert document["hq_signing_kid"] == vector["keys"]["hq_signing_kid"]


def test_the_device_reads_the_published_checkpoint():
    vector = _published(CHECKPOINT_PATH)
    point = read_checkpoint(vector["signed"], _pinned(vector), DEVICE_ID)
    assert [n for n in range(1, point.next_seq + 2) if point.has(n)] == vector["held"]
    assert point.missing == {2, 3}


# -- (c) the reference document -----------------------------------------------------------------


def test_the_reference_vector_verifies_from_primitives():
    vector = _published(REFERENCE_PATH_FILE)
    keys = vector["keys"]
    document = verify_by_hand(vector["signed"], keys["hq_signing_public"])
    assert canonical_by_hand(document).decode() == vector["signed_bytes"]
    assert (document["type"], document["v"], document["device_id"]) == ("reference", 2, DEVICE_ID)
    assert document["hq_signing_kid"] == keys["hq_signing_kid"]
    encryption = document["hq_keys"]["encryption"]
    public = base64.b64decode(encryption["public_key"], validate=True)
    assert len(public) == 1216 and public.hex() == keys["hq_encryption_public"]
    assert encryption["kid"] == hashlib.sha256(public).hexdigest()[:16] == keys["hq_kid"]
    signing = document["hq_keys"]["signing"]
    assert base64.b64decode(signing["public_key"]).hex() == keys["hq_signing_public"]
    assert signing["kid"] == keys["hq_signing_kid"]
    # The sealed part: HPKE (ML-KEM-768 + X25519, HKDF-SHA256, AES-256-GCM) to the device's
    # key, info = "fieldkit/v2/reference|" + canonical([device_id, version, kid]).
    from cryptography.hazmat.primitives import hpke
    from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    sealed = document["sealed"]
    assert set(sealed) == {"kid", "ct"} and sealed["kid"] == keys["device_encryption_kid"]
    private = bytes.fromhex(keys["device_encryption_private"])
    suite = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    info = b"fieldkit/v2/reference|" + canonical_by_hand([DEVICE_ID, 7, sealed["kid"]])
    plaintext = suite.decrypt(
        base64.b64decode(sealed["ct"]),
        hpke.MLKEM768X25519PrivateKey(
            mlkem.MLKEM768PrivateKey.from_seed_bytes(private[:64]),
            x25519.X25519PrivateKey.from_private_bytes(private[64:]),
        ),
        info=info,
    )
    assert plaintext.decode() == vector["sealed_plaintext"]
    personal = json.loads(plaintext)
    assert canonical_by_hand(personal) == plaintext
    assert set(personal) == {"rosters", "watchlist", "withdrawn"}
    watchlist = personal["watchlist"]
    assert watchlist["scheme"] == "argon2id-truncated" and watchlist["entries"] == 2
    salt = base64.b64decode(watchlist["salt"], validate=True)
    assert salt.hex() == keys["watchlist_salt"] and "key" not in watchlist

    def tag(nik: str) -> int:
        digest = Argon2id(
            salt=salt,
            length=32,
            iterations=watchlist["iterations"],
            lanes=watchlist["lanes"],
            memory_cost=watchlist["memory_kib"],
            ad=b"fieldkit/v2/watchlist",
        ).derive(nik.encode("ascii"))
        return int.from_bytes(digest[:4], "big") >> (32 - watchlist["bits"])

    assert WATCHLIST_AD == b"fieldkit/v2/watchlist"
    assert watchlist["tags"] == sorted({tag(nik) for nik in vector["watchlist_niks"]})
    # The first roster entry is on the watchlist: a device finds it by its truncated tag alone.
    first_nik = personal["rosters"][0]["entries"][0]["data"]["nik"]
    assert tag(first_nik) in watchlist["tags"]
    assert set(personal["withdrawn"][0]) == {"visit_id", "reason", "withdrawn_at"}


def test_the_reference_vector_holds_synthetic_people_only():
    vector = _published(REFERENCE_PATH_FILE)
    personal = json.loads(vector["sealed_plaintext"])
    niks = [e["data"]["nik"] for r in personal["rosters"] for e in r["entries"]]
    niks += vector["watchlist_niks"]
    for nik in niks:
        parsed = parse_nik(nik, today=ROSTER_TODAY).value
        assert parsed is not None and is_synthetic_serial(parsed.serial), nik


def test_the_device_reads_the_published_reference_document():
    vector = _published(REFERENCE_PATH_FILE)
    public = bytes.fromhex(vector["keys"]["hq_encryption_public"])
    pinned = _pinned(vector, vector["keys"]["hq_kid"], public)
    keys = vector["keys"]
    mine = (
        bytes.fromhex(keys["device_encryption_public"]),
        bytes.fromhex(keys["device_encryption_private"]),
    )
    read = read_reference(vector["signed"], pinned, DEVICE_ID, mine)
    document = vector["signed"]["document"]
    assert read.version == document["version"] == 7
    assert read.hq_kid == vector["keys"]["hq_kid"]
    assert read.hq_encryption_public_key == public
    assert read.revoked is None
    assert [o["officer_id"] for o in read.revoked_officers] == ["ptg7"]
    assert read.fees is not None and read.watchlist_size == 2
    assert [r.visit_id for r in read.rosters] == [VISIT_ID]
    assert [entry_id for entry_id, _ in read.rosters[0].entries] == list(ENTRY_IDS)
    assert all(set(ENTRY_FIELDS) <= set(data) for _, data in read.rosters[0].entries)
    assert [w.visit_id for w in read.withdrawn] == [WITHDRAWN_VISIT_ID]
    with pytest.raises(Exception, match="another device"):
        read_reference(vector["signed"], pinned, OTHER_DEVICE_ID, mine)
    with pytest.raises(Exception, match="a key this laptop does not hold"):
        read_reference(vector["signed"], pinned, DEVICE_ID, None)


# -- PROTOCOL.md documents them -----------------------------------------------------------------


def test_the_protocol_documents_and_quotes_each_vector():
    text = PROTOCOL_PATH.read_text(encoding="utf-8")
    section = text.split("## Test vectors for requests and signed documents", 1)[1]
    section = section.split("\n## ", 1)[0]
    for path in VECTORS:
        assert f"docs/{path.name}" in section, path.name
    request = _published(REQUEST_PATH)
    assert request["requests"][0]["signed_message"] in section
    assert request["requests"][0]["headers"]["Fieldkit-Signature"] in section
    assert request["clock_skew"]["hq_time_signed_bytes"] in section
    checkpoint = _published(CHECKPOINT_PATH)
    assert checkpoint["signed_bytes"] in section
    assert checkpoint["signed"]["sig"] in section
    reference_vector = _published(REFERENCE_PATH_FILE)
    assert reference_vector["signed"]["sig"] in section
    assert request["requests"][1]["headers"]["Fieldkit-Signature"] in section
    assert request["clock_skew"]["answer"]["hq_time"]["sig"] in section
    assert request["clock_skew"]["resigned"]["headers"]["Fieldkit-Signature"] in section
    for key in request["keys"].values():
        assert key in section
    for length in (
        len(request["requests"][0]["signed_message"].encode()),
        len(request["requests"][1]["signed_message"].encode()),
        len(request["clock_skew"]["hq_time_signed_bytes"].encode()),
        len(checkpoint["signed_bytes"].encode()),
        len(reference_vector["signed_bytes"].encode()),
    ):
        assert (
            f"{length} bytes" in section
            or f"{length} signed bytes" in section
            or (f"{length} canonical bytes" in section)
        ), length


def write_vectors() -> list[Path]:
    """Write the three vector files to docs/; the paths written."""
    for path, build in VECTORS.items():
        vector = build()
        # A fresh sealing differs every time: keep the published one if nothing else did.
        if (
            path == REFERENCE_PATH_FILE
            and path.exists()
            and _without_ciphertext(_published(path)) == _without_ciphertext(vector)
        ):
            continue
        path.write_text(_file_text(vector), encoding="utf-8")
    return list(VECTORS)


if __name__ == "__main__":
    for written in write_vectors():
        print(f"wrote {written.relative_to(ROOT)}")
    sys.exit(0)
