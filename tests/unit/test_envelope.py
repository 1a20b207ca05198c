"""The sealed batch (sync/wire/envelope.py) with real cryptography: round trips, every refusal with
its problem code, fuzzing, the size budget, and the published test vector.

Regenerate docs/protocol-vector.json (new ephemeral key, same fixed long-term keys) with
``.venv/bin/python -m tests.unit.test_envelope``; then update the "Worked example" in
docs/PROTOCOL.md, which quotes the vector (a test below checks that it still does).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import sys
import zlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.wire import envelope as env
from sync.wire.envelope import BatchHeader, EnvelopeError
from tests.support.device import workflow_fields

ROOT = Path(__file__).resolve().parents[2]
VECTOR_PATH = ROOT / "docs" / "protocol-vector.json"
PROTOCOL_PATH = ROOT / "docs" / "PROTOCOL.md"

HQ_PRIVATE, HQ_PUBLIC = env.generate_hq_encryption_key()
OTHER_HQ_PRIVATE, OTHER_HQ_PUBLIC = env.generate_hq_encryption_key()
DEVICE = Ed25519PrivateKey.generate()
DEVICE_PUBLIC = DEVICE.public_key().public_bytes_raw()
OTHER_DEVICE = Ed25519PrivateKey.generate()
HQ_SIGNING = Ed25519PrivateKey.generate()
HQ_SIGNING_PUBLIC = HQ_SIGNING.public_key().public_bytes_raw()

DEVICE_ID = "5b0f6c1e-8d2a-4f3b-9c47-2e1d0a9b8c7d"
BATCH_ID = "019a8f2c-3b4d-7e5f-8a6b-1c2d3e4f5a6b"
OTHER_BATCH_ID = "019a8f2c-3b4d-7e5f-8a6b-1c2d3e4f5a6c"
VISIT_ID = "019a8f2c-0000-7000-8000-000000000001"
CREATED_AT = "2026-11-28T03:15:00.000000+00:00"
SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def audit_item(seq: int, subject: str = "applicant:x") -> dict[str, object]:
    return {
        "t": "a",
        "seq": seq,
        "at": CREATED_AT,
        "officer_id": "sup1",
        "action": "applicant_created",
        "subject": subject,
        "detail": '{"version":1}',
    }


def record_item(outbox_seq: int, record_id: str = "019a8f2c-0000-7000-8000-0000000000aa") -> dict:
    return {
        "t": "r",
        "kind": "applicant",
        "id": record_id,
        "version": 1,
        "visit_id": VISIT_ID,
        "state": "captured",
        "officer_id": "sup1",
        "at": CREATED_AT,
        "outbox_seq": outbox_seq,
        "data": {"name": "SITI NURHALIZA", "notes": "KK asli — sudah dicek", "fee": 350000},
    }


def items_and_header(
    records: int = 2, audits: int = 2, *, batch_id: str = BATCH_ID, seq: int = 1, kid: str = ""
) -> tuple[BatchHeader, list[dict[str, object]]]:
    items: list[dict[str, object]] = [record_item(n) for n in range(1, records + 1)]
    prev = env.audit_genesis("vault")
    for n in range(1, audits + 1):
        item = audit_item(n)
        prev = env.audit_hash(prev, item)
        items.append(item)
    header = BatchHeader(
        device_id=DEVICE_ID,
        batch_id=batch_id,
        seq=seq,
        created_at=CREATED_AT,
        hq_kid=kid or env.hq_kid(HQ_PUBLIC),
        count=len(items),
        outbox=(1, records) if records else None,
        audit=(1, audits) if audits else None,
        audit_head=prev.hex() if audits else None,
    )
    return header, items


def assemble(header_bytes: bytes, signature: bytes, ciphertext: bytes) -> bytes:
    return env.MAGIC + len(header_bytes).to_bytes(4, "big") + header_bytes + signature + ciphertext


def seal_by_hand(
    header_bytes: bytes,
    body: bytes,
    *,
    hq_public: bytes = HQ_PUBLIC,
    device: Ed25519PrivateKey = DEVICE,
    info: bytes | None = None,
) -> bytes:
    """An envelope built without seal_batch's checks: arbitrary body, key and info."""
    info = env.BATCH_INFO_PREFIX + header_bytes if info is None else info
    ct = env.SUITE.encrypt(body, env.hq_public_key(hq_public), info=info)
    sig = device.sign(header_bytes + hashlib.sha256(ct).digest())
    return assemble(header_bytes, sig, ct)


def code_of(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(EnvelopeError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value.code


def receive(data: bytes) -> list[dict[str, object]]:
    """What HQ does with the module, in order."""
    envelope = env.parse_envelope(data)
    env.verify_signature(envelope, DEVICE_PUBLIC)
    return env.open_batch(envelope, HQ_PRIVATE)


SEALED_HEADER, SEALED_ITEMS = items_and_header()
SEALED = env.seal_batch(SEALED_HEADER, SEALED_ITEMS, hq_public=HQ_PUBLIC, device_key=DEVICE)
HEADER_END = 8 + len(env.canonical(SEALED_HEADER.as_json()))


# -- round trips ---------------------------------------------------------------------------


def test_seal_parse_verify_open_gives_the_items_and_header_back():
    envelope = env.parse_envelope(SEALED)
    assert envelope.header == SEALED_HEADER
    assert envelope.header_bytes == env.canonical(SEALED_HEADER.as_json())
    assert envelope.ct_sha256 == hashlib.sha256(envelope.ciphertext).hexdigest()
    assert len(envelope.signature) == 64
    env.verify_signature(envelope, DEVICE_PUBLIC)
    assert env.open_batch(envelope, HQ_PRIVATE) == SEALED_ITEMS
    assert SEALED[:4] == b"FKB1"
    assert len(SEALED) == HEADER_END + 64 + len(envelope.ciphertext)


def test_the_ciphertext_is_the_encapsulated_key_then_the_aead_ciphertext_and_tag():
    envelope = env.parse_envelope(SEALED)
    body = env.encode_body(SEALED_ITEMS)
    assert env.ENC_BYTES == 1120 == 1088 + 32
    assert len(envelope.ciphertext) == env.ENC_BYTES + len(body) + 16


def test_an_empty_batch_round_trips():
    header, items = items_and_header(0, 0)
    assert header.count == 0
    sealed = env.seal_batch(header, items, hq_public=HQ_PUBLIC, device_key=DEVICE)
    assert receive(sealed) == []


def test_sealing_twice_gives_different_ciphertexts_that_both_open():
    again = env.seal_batch(SEALED_HEADER, SEALED_ITEMS, hq_public=HQ_PUBLIC, device_key=DEVICE)
    assert again != SEALED
    assert receive(again) == receive(SEALED) == SEALED_ITEMS


def test_header_fields_round_trip_through_json():
    header, _ = items_and_header(3, 4, seq=42)
    raw = header.as_json()
    assert raw["outbox"] == [1, 3] and raw["audit"] == [1, 4]
    assert raw["v"] == 1 and raw["codec"] == "jsonl+zlib"
    assert set(raw) == {
        "v",
        "device_id",
        "batch_id",
        "seq",
        "created_at",
        "hq_kid",
        "count",
        "codec",
        "outbox",
        "audit",
        "audit_head",
    }
    assert BatchHeader.from_json(json.loads(json.dumps(raw))) == header
    nulls = replace(header, outbox=None, audit=None, audit_head=None)
    assert BatchHeader.from_json(nulls.as_json()) == nulls


def test_hq_kid_is_stable_and_is_the_sha256_prefix_of_the_public_key():
    assert (
        env.hq_kid(HQ_PUBLIC)
        == env.hq_kid(bytes(HQ_PUBLIC))
        == hashlib.sha256(HQ_PUBLIC).hexdigest()[:16]
    )
    assert env.hq_kid(HQ_PUBLIC) != env.hq_kid(OTHER_HQ_PUBLIC)
    assert env.hq_kid(env.hq_public_from_private(HQ_PRIVATE)) == env.hq_kid(HQ_PUBLIC)


def test_hq_keys_serialise_and_load_back():
    assert len(HQ_PRIVATE) == 96 and len(HQ_PUBLIC) == 1216
    assert env.hq_public_from_private(HQ_PRIVATE) == HQ_PUBLIC
    kem = mlkem.MLKEM768PrivateKey.from_seed_bytes(HQ_PRIVATE[:64])
    assert kem.public_key().public_bytes_raw() == HQ_PUBLIC[:1184]
    dh = x25519.X25519PrivateKey.from_private_bytes(HQ_PRIVATE[64:])
    assert dh.public_key().public_bytes_raw() == HQ_PUBLIC[1184:]
    ct = env.SUITE.encrypt(b"x", env.hq_public_key(HQ_PUBLIC), info=b"i")
    assert env.SUITE.decrypt(ct, env.hq_private_key(HQ_PRIVATE), info=b"i") == b"x"


@pytest.mark.parametrize(
    ("call", "value"),
    [
        (env.hq_private_key, b"\x00" * 95),
        (env.hq_private_key, b"\x00" * 97),
        (env.hq_private_key, "not bytes"),
        (env.hq_public_from_private, b""),
        (env.hq_public_key, b"\x00" * 1215),
        (env.hq_public_key, b"\xff" * 1216),  # ML-KEM coefficients out of range
        (env.hq_kid, b"\x00" * 32),
    ],
)
def test_malformed_keys_are_bad_key(call, value):
    assert code_of(call, value) == "bad-key"


def test_canonical_json_is_sorted_compact_utf8_and_refuses_floats():
    assert (
        env.canonical({"b": 1, "a": [True, None, "é—"]}) == '{"a":[true,null,"é—"],"b":1}'.encode()
    )
    assert env.canonical(["x", 2]) == b'["x",2]'
    for bad in (1.0, {"a": [0.5]}, {1: "a"}, float("nan"), b"bytes", {"a": object()}):
        with pytest.raises(TypeError):
            env.canonical(bad)


def test_the_error_carries_its_code_and_detail():
    error = EnvelopeError("too-large", "5 bytes")
    assert (error.code, error.detail, str(error)) == ("too-large", "5 bytes", "too-large: 5 bytes")
    with pytest.raises(ValueError):
        EnvelopeError("no-such-code")


# -- malformed envelopes -------------------------------------------------------------------


def test_wrong_magic_is_malformed():
    for magic in (b"FKB2", b"fkb1", b"\x00\x00\x00\x00", b"PK\x03\x04"):
        assert code_of(env.parse_envelope, magic + SEALED[4:]) == "malformed-envelope"


def test_every_truncation_up_to_the_smallest_ciphertext_is_malformed():
    # Positions in the magic, the length, the header, the signature, the encapsulated key and
    # the first bytes of the AEAD ciphertext: every prefix shorter than a minimal ciphertext.
    smallest = HEADER_END + 64 + env.ENC_BYTES + 16
    for cut in range(smallest):
        assert code_of(env.parse_envelope, SEALED[:cut]) == "malformed-envelope", cut


def test_a_ciphertext_truncated_past_its_minimum_length_fails_the_signature():
    # The header does not carry the ciphertext length; the signed ct hash catches the cut.
    envelope = env.parse_envelope(SEALED[:-1])
    assert code_of(env.verify_signature, envelope, DEVICE_PUBLIC) == "bad-signature"


@pytest.mark.parametrize("length", [2**32 - 1, len(SEALED), HEADER_END - 8 + 64 + 1120 + 100])
def test_a_header_length_pointing_past_the_end_is_malformed(length):
    data = SEALED[:4] + length.to_bytes(4, "big") + SEALED[8:]
    assert code_of(env.parse_envelope, data) == "malformed-envelope"


def test_a_header_length_pointing_inside_the_header_is_malformed():
    for delta in (-1, -50, 1):
        length = HEADER_END - 8 + delta
        data = SEALED[:4] + length.to_bytes(4, "big") + SEALED[8:]
        assert code_of(env.parse_envelope, data) == "malformed-envelope", delta


def non_canonical_encodings(raw: dict[str, object]) -> list[bytes]:
    canonical = env.canonical(raw)
    return [
        json.dumps(raw, sort_keys=True).encode(),  # spaces after separators
        json.dumps(raw, sort_keys=True, separators=(",", ":"), indent=1).encode(),
        json.dumps(dict(reversed(list(raw.items()))), separators=(",", ":")).encode(),  # order
        b" " + canonical,
        canonical + b"\n",
        canonical.replace(b"{", b"{ ", 1),
        canonical.replace(b'"codec"', b'"\\u0063odec"'),  # an escape where none is needed
        canonical.replace(b'"seq":1', b'"seq":01'),
        canonical.replace(b'"count":4', b'"count":4,"count":4'),  # duplicate key
    ]


def test_non_canonical_header_bytes_are_malformed_even_when_signed():
    raw = SEALED_HEADER.as_json()
    envelope = env.parse_envelope(SEALED)
    for header_bytes in non_canonical_encodings(raw):
        assert header_bytes != envelope.header_bytes
        signed = DEVICE.sign(header_bytes + hashlib.sha256(envelope.ciphertext).digest())
        data = assemble(header_bytes, signed, envelope.ciphertext)
        assert code_of(env.parse_envelope, data) == "malformed-envelope", header_bytes


def header_variants() -> list[tuple[str, object]]:
    good = SEALED_HEADER.as_json()

    def edit(**changes: object) -> dict[str, object]:
        return {**good, **changes}

    missing = dict(good)
    del missing["audit_head"]
    return [
        ("missing key", missing),
        ("extra key", edit(note="x")),
        ("bool seq", edit(seq=True)),
        ("seq 0", edit(seq=0)),
        ("negative seq", edit(seq=-1)),
        ("seq too big", edit(seq=2**63)),
        ("seq as text", edit(seq="1")),
        ("count too big", edit(count=501)),
        ("negative count", edit(count=-1)),
        ("bool count", edit(count=False)),
        ("v 2", edit(v=2)),
        ("bool v", edit(v=True)),
        ("codec", edit(codec="jsonl+gzip")),
        ("upper-case uuid", edit(device_id=DEVICE_ID.upper())),
        ("uuid without dashes", edit(batch_id=BATCH_ID.replace("-", ""))),
        ("short kid", edit(hq_kid="abc")),
        ("upper-case kid", edit(hq_kid=env.hq_kid(HQ_PUBLIC).upper())),
        ("naive time", edit(created_at="2026-11-28T03:15:00")),
        ("time in WIB", edit(created_at="2026-11-28T10:15:00+07:00")),
        ("not a time", edit(created_at="yesterday")),
        ("time as int", edit(created_at=1764299700)),
        ("range reversed", edit(outbox=[2, 1])),
        ("range from 0", edit(outbox=[0, 1])),
        ("range of three", edit(outbox=[1, 2, 3])),
        ("range with bool", edit(outbox=[True, 2])),
        ("range as object", edit(outbox={"first": 1})),
        ("audit without head", edit(audit_head=None)),
        ("head without audit", edit(audit=None)),
        ("short head", edit(audit_head="ab")),
        ("list", [good]),
        ("null", None),
    ]


@pytest.mark.parametrize(("name", "raw"), header_variants(), ids=[n for n, _ in header_variants()])
def test_invalid_headers_are_malformed(name, raw):
    assert code_of(BatchHeader.from_json, raw) == "malformed-envelope"
    header_bytes = env.canonical(raw)
    data = assemble(header_bytes, bytes(64), env.parse_envelope(SEALED).ciphertext)
    assert code_of(env.parse_envelope, data) == "malformed-envelope"


@pytest.mark.parametrize("text", ['"seq":1.0', '"seq":1e0', '"seq":NaN', '"seq":Infinity'])
def test_floats_and_constants_in_the_header_are_malformed(text):
    header_bytes = env.canonical(SEALED_HEADER.as_json()).replace(b'"seq":1', text.encode())
    data = assemble(header_bytes, bytes(64), env.parse_envelope(SEALED).ciphertext)
    assert code_of(env.parse_envelope, data) == "malformed-envelope"
    assert code_of(BatchHeader.from_json, {**SEALED_HEADER.as_json(), "seq": 1.0}) == (
        "malformed-envelope"
    )


def test_header_bytes_that_are_not_utf8_or_nest_deeply_are_malformed():
    ct = env.parse_envelope(SEALED).ciphertext
    for header_bytes in (b"\xff\xfe{}", b"[" * 100_000 + b"]" * 100_000):
        assert code_of(env.parse_envelope, assemble(header_bytes, bytes(64), ct)) == (
            "malformed-envelope"
        )


def test_sealing_refuses_a_header_the_receiver_would_refuse():
    header, items = items_and_header()
    for bad in (replace(header, seq=0), replace(header, seq=True), replace(header, v=2)):
        assert code_of(env.seal_batch, bad, items, hq_public=HQ_PUBLIC, device_key=DEVICE) == (
            "malformed-envelope"
        )
    with pytest.raises(EnvelopeError) as caught:
        env.seal_batch(header, items[:-1], hq_public=HQ_PUBLIC, device_key=DEVICE)
    assert caught.value.code == "malformed-body"
    with pytest.raises(EnvelopeError) as caught:
        env.seal_batch(header, items, hq_public=OTHER_HQ_PUBLIC, device_key=DEVICE)
    assert caught.value.code == "bad-key"


# -- size ----------------------------------------------------------------------------------


def test_more_than_four_mib_is_too_large_before_anything_else():
    assert code_of(env.parse_envelope, b"X" * (env.MAX_ENVELOPE_BYTES + 1)) == "too-large"
    padded = SEALED + bytes(env.MAX_ENVELOPE_BYTES + 1 - len(SEALED))
    assert code_of(env.parse_envelope, padded) == "too-large"
    exactly = SEALED + bytes(env.MAX_ENVELOPE_BYTES - len(SEALED))
    assert env.parse_envelope(exactly).header == SEALED_HEADER  # the limit itself is allowed


def test_sealing_refuses_a_batch_over_four_mib():
    # 500 incompressible lines just under the line limit: within the body's limits, but ≈ 5 MiB
    # once sealed.
    noise = [{"t": "r", "blob": base64.b64encode(os.urandom(10_500)).decode()} for _ in range(500)]
    header = replace(SEALED_HEADER, count=500, outbox=(1, 500), audit=None, audit_head=None)
    with pytest.raises(EnvelopeError) as caught:
        env.seal_batch(header, noise, hq_public=HQ_PUBLIC, device_key=DEVICE)
    assert caught.value.code == "too-large"


# -- signatures ----------------------------------------------------------------------------


def test_a_forged_signature_is_refused():
    envelope = env.parse_envelope(SEALED)
    for sig in (
        bytes(64),
        os.urandom(64),
        bytes([envelope.signature[0] ^ 1]) + envelope.signature[1:],
    ):
        forged = assemble(envelope.header_bytes, sig, envelope.ciphertext)
        assert code_of(env.verify_signature, env.parse_envelope(forged), DEVICE_PUBLIC) == (
            "bad-signature"
        )


def test_a_signature_by_another_device_key_is_refused():
    other = env.seal_batch(
        SEALED_HEADER, SEALED_ITEMS, hq_public=HQ_PUBLIC, device_key=OTHER_DEVICE
    )
    assert (
        code_of(env.verify_signature, env.parse_envelope(other), DEVICE_PUBLIC) == "bad-signature"
    )
    env.verify_signature(env.parse_envelope(other), OTHER_DEVICE.public_key().public_bytes_raw())


def test_a_header_changed_after_signing_is_refused():
    envelope = env.parse_envelope(SEALED)
    for changed in (
        replace(SEALED_HEADER, seq=2),
        replace(SEALED_HEADER, batch_id=OTHER_BATCH_ID),
        replace(SEALED_HEADER, created_at="2026-11-28T03:15:01.000000+00:00"),
    ):
        header_bytes = env.canonical(changed.as_json())
        data = assemble(header_bytes, envelope.signature, envelope.ciphertext)
        assert code_of(env.verify_signature, env.parse_envelope(data), DEVICE_PUBLIC) == (
            "bad-signature"
        )


def test_a_changed_ciphertext_fails_the_signature_because_its_hash_is_signed():
    for offset in (0, 500, env.ENC_BYTES, len(SEALED) - HEADER_END - 64 - 1):
        position = HEADER_END + 64 + offset
        data = bytearray(SEALED)
        data[position] ^= 0x01
        assert code_of(env.verify_signature, env.parse_envelope(bytes(data)), DEVICE_PUBLIC) == (
            "bad-signature"
        )
    appended = env.parse_envelope(SEALED + b"\x00")
    assert code_of(env.verify_signature, appended, DEVICE_PUBLIC) == "bad-signature"


def test_a_device_key_of_the_wrong_length_is_bad_key():
    assert (
        code_of(env.verify_signature, env.parse_envelope(SEALED), DEVICE_PUBLIC[:31]) == "bad-key"
    )


# -- decryption ----------------------------------------------------------------------------


def test_a_header_swapped_onto_another_batchs_ciphertext_does_not_decrypt():
    # The device itself signs batch B's header over batch A's ciphertext: the signature holds,
    # but the ciphertext was sealed with A's header in the HPKE info.
    header_a, items_a = items_and_header(2, 2, batch_id=BATCH_ID, seq=1)
    header_b, _ = items_and_header(1, 3, batch_id=OTHER_BATCH_ID, seq=2)
    header_b = replace(header_b, count=header_a.count)  # even with the same count
    a = env.parse_envelope(
        env.seal_batch(header_a, items_a, hq_public=HQ_PUBLIC, device_key=DEVICE)
    )
    header_b_bytes = env.canonical(header_b.as_json())
    sig = DEVICE.sign(header_b_bytes + hashlib.sha256(a.ciphertext).digest())
    swapped = env.parse_envelope(assemble(header_b_bytes, sig, a.ciphertext))
    env.verify_signature(swapped, DEVICE_PUBLIC)
    assert code_of(env.open_batch, swapped, HQ_PRIVATE) == "undecryptable"


def test_a_batch_sealed_to_another_hq_key_does_not_decrypt():
    header_bytes = env.canonical(SEALED_HEADER.as_json())  # names HQ_PUBLIC's kid
    data = seal_by_hand(header_bytes, env.encode_body(SEALED_ITEMS), hq_public=OTHER_HQ_PUBLIC)
    envelope = env.parse_envelope(data)
    env.verify_signature(envelope, DEVICE_PUBLIC)
    assert code_of(env.open_batch, envelope, HQ_PRIVATE) == "undecryptable"
    # ...and the key it was sealed to is refused too, because the header names another.
    assert code_of(env.open_batch, envelope, OTHER_HQ_PRIVATE) == "undecryptable"


def test_a_batch_sealed_without_the_header_in_the_info_does_not_decrypt():
    header_bytes = env.canonical(SEALED_HEADER.as_json())
    for info in (b"", header_bytes, b"fieldkit/v1/batch|"):
        data = seal_by_hand(header_bytes, env.encode_body(SEALED_ITEMS), info=info)
        assert code_of(receive, data) == "undecryptable"


def test_open_batch_with_a_malformed_private_key_is_bad_key():
    assert code_of(env.open_batch, env.parse_envelope(SEALED), HQ_PRIVATE[:64]) == "bad-key"


# -- bodies --------------------------------------------------------------------------------


def zip_bomb() -> bytes:
    """About 65 KB of zlib that inflates to 64 MiB + 1 MiB of zeros (zlib's ratio is ~1030:1,
    so 64 MiB cannot come from "a few KB" in one zlib layer)."""
    deflater = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    return b"".join([deflater.compress(chunk) for _ in range(65)] + [deflater.flush()])


BAD_BODIES = [
    ("not zlib", b"this is not zlib", 1),
    ("empty", b"", 0),
    ("truncated zlib", zlib.compress(b'{"a":1}\n')[:-3], 1),
    ("bytes after the stream", zlib.compress(b'{"a":1}\n') + b"extra", 1),
    ("not JSON", zlib.compress(b"not json\n"), 1),
    ("a list line", zlib.compress(b"[1,2]\n"), 1),
    ("no final newline", zlib.compress(b'{"a":1}'), 1),
    ("blank line", zlib.compress(b'{"a":1}\n\n'), 2),
    ("CRLF", zlib.compress(b'{"a":1}\r\n{"b":2}\r'), 2),
    ("float", zlib.compress(b'{"a":1.5}\n'), 1),
    ("NaN", zlib.compress(b'{"a":NaN}\n'), 1),
    ("duplicate key", zlib.compress(b'{"a":1,"a":2}\n'), 1),
    ("not UTF-8", zlib.compress(b'{"a":"\xff"}\n'), 1),
    ("deep nesting", zlib.compress(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"), 1),
    ("too few lines", zlib.compress(b'{"a":1}\n'), 2),
    ("too many lines", zlib.compress(b'{"a":1}\n{"a":2}\n{"a":3}\n'), 2),
]


@pytest.mark.parametrize(("name", "body", "count"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_bodies_are_malformed_body(name, body, count):
    assert code_of(env.decode_body, body, count) == "malformed-body"
    header = replace(SEALED_HEADER, count=count, outbox=(1, count) if count else None)
    header = replace(header, audit=None, audit_head=None)
    data = seal_by_hand(env.canonical(header.as_json()), body)
    assert code_of(receive, data) == "malformed-body"


def test_a_zip_bomb_is_refused_without_inflating_it_all():
    bomb = zip_bomb()
    assert len(bomb) < 70_000
    assert code_of(env.decode_body, bomb, 1) == "malformed-body"
    data = seal_by_hand(env.canonical(replace(SEALED_HEADER, count=1).as_json()), bomb)
    assert code_of(receive, data) == "malformed-body"


def test_a_body_at_the_inflation_limits_decodes_and_one_byte_more_is_refused():
    # 500 lines of exactly MAX_LINE_BYTES (plus newline): exactly MAX_BODY_BYTES.
    line = b'{"pad":"' + b"x" * (env.MAX_LINE_BYTES - 10) + b'"}'
    assert len(line) == env.MAX_LINE_BYTES
    body = (line + b"\n") * env.MAX_ITEMS
    assert len(body) == env.MAX_BODY_BYTES
    items = env.decode_body(zlib.compress(body, 1), env.MAX_ITEMS)
    assert len(items) == env.MAX_ITEMS
    longer = b'{"pad":"' + b"x" * (env.MAX_LINE_BYTES - 9) + b'"}\n'
    assert code_of(env.decode_body, zlib.compress(longer, 1), 1) == "malformed-body"


def test_body_lines_may_be_non_canonical_but_are_objects():
    body = zlib.compress(b'{ "b" : 1 , "a" : "\\u00e9" }\n{}\n')
    assert env.decode_body(body, 2) == [{"b": 1, "a": "é"}, {}]
    assert env.decode_body(env.encode_body([]), 0) == []


def test_encode_body_is_zlib_of_canonical_json_lines():
    body = env.encode_body([{"b": 1, "a": "é"}, {"t": "a"}])
    assert zlib.decompress(body) == '{"a":"é","b":1}\n{"t":"a"}\n'.encode()
    with pytest.raises(TypeError):
        env.encode_body([["not", "an", "object"]])  # type: ignore[list-item]


# -- audit chain ---------------------------------------------------------------------------


def test_audit_hash_is_the_documented_formula():
    item = audit_item(7, subject="catatan:Ñoño")
    prev = env.audit_genesis("v-1")
    assert prev == hashlib.sha256(b"fieldkit/v1/audit-genesis|v-1").digest()
    fields = (
        '[7,"2026-11-28T03:15:00.000000+00:00","sup1","applicant_created",'
        '"catatan:Ñoño","{\\"version\\":1}"]'
    )
    assert env.audit_hash(prev, item) == hashlib.sha256(prev + fields.encode()).digest()
    assert env.audit_hash(prev, {k: v for k, v in item.items() if k != "t"}) == env.audit_hash(
        prev, item
    )
    assert env.audit_hash(prev, {**item, "officer_id": None, "subject": None}) != env.audit_hash(
        prev, item
    )


@pytest.mark.parametrize(
    "item",
    [{}, {**audit_item(1), "seq": True}, {**audit_item(1), "detail": {"version": 1}}, [], None],
)
def test_a_malformed_audit_item_is_malformed_body(item):
    assert code_of(env.audit_hash, b"", item) == "malformed-body"


# -- signed documents ----------------------------------------------------------------------


def receipt_for(data: bytes) -> dict[str, object]:
    envelope = env.parse_envelope(data)
    return {
        "v": 1,
        "device_id": envelope.header.device_id,
        "batch_id": envelope.header.batch_id,
        "seq": envelope.header.seq,
        "ct_sha256": envelope.ct_sha256,
        "count": envelope.header.count,
        "accepted_at": "2026-11-28T03:20:00.000000+00:00",
        "hq_signing_kid": hashlib.sha256(HQ_SIGNING_PUBLIC).hexdigest()[:16],
    }


def test_a_signed_receipt_verifies_after_travelling_as_json():
    receipt = receipt_for(SEALED)
    signed = env.sign_document(receipt, HQ_SIGNING)
    assert set(signed) == {"document", "sig"}
    sig = base64.b64decode(signed["sig"])
    HQ_SIGNING.public_key().verify(sig, env.canonical(receipt))
    travelled = json.loads(json.dumps(signed, indent=2))
    assert env.verify_document(travelled, HQ_SIGNING_PUBLIC) == receipt


def non_canonical_padding_bits(sig: str) -> str:
    """The same 64 bytes in base64 with non-zero unused bits in the last character."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    assert sig.endswith("==")
    last = alphabet[alphabet.index(sig[-3]) ^ 0b0001]
    changed = sig[:-3] + last + "=="
    assert base64.b64decode(changed) == base64.b64decode(sig) and changed != sig
    return changed


def test_tampered_or_foreign_signed_documents_are_bad_receipt():
    receipt = receipt_for(SEALED)
    signed = env.sign_document(receipt, HQ_SIGNING)
    sig = signed["sig"]
    raw_sig = base64.b64decode(sig)
    cases = [
        {**signed, "document": {**receipt, "count": 5}},
        {**signed, "document": {**receipt, "extra": 1}},
        {**signed, "sig": base64.b64encode(bytes(64)).decode()},
        {**signed, "sig": sig.rstrip("=")},
        {**signed, "sig": non_canonical_padding_bits(sig)},
        {**signed, "sig": " " + sig},
        {**signed, "sig": base64.b64encode(raw_sig + b"\x00").decode()},
        {**signed, "sig": raw_sig.hex()},
        {**signed, "sig": list(raw_sig)},
        {**signed, "extra": 1},
        {"receipt": receipt, "sig": sig},
        {"document": [receipt], "sig": sig},
        {**signed, "document": {**receipt, "seq": 1.0}},
        env.sign_document(receipt, Ed25519PrivateKey.generate()),
        None,
        "text",
    ]
    for case in cases:
        assert code_of(env.verify_document, case, HQ_SIGNING_PUBLIC) == "bad-receipt", case
    assert code_of(env.verify_document, signed, HQ_SIGNING_PUBLIC[:-1]) == "bad-key"


# -- nothing but EnvelopeError ---------------------------------------------------------------

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40))
json_like = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(max_size=12), st.integers()), inner, max_size=5),
    ),
    max_leaves=20,
)
header_values = st.one_of(
    json_like,
    st.sampled_from([1, 0, 2**63, DEVICE_ID, BATCH_ID, CREATED_AT, "jsonl+zlib", [1, 2], None]),
    st.sampled_from(list(SEALED_HEADER.as_json().values())),
)
header_like = st.fixed_dictionaries(
    {key: header_values for key in SEALED_HEADER.as_json()},
    optional={"extra": json_like},
)


@SLOW
@given(st.binary(max_size=3000))
def test_parse_envelope_on_arbitrary_bytes_raises_only_envelope_error(data):
    for candidate in (data, env.MAGIC + data, env.MAGIC + len(data).to_bytes(4, "big") + data):
        try:
            env.parse_envelope(candidate)
        except EnvelopeError as exc:
            assert exc.code in {"malformed-envelope", "too-large"}


@SLOW
@given(header_like, st.binary(max_size=64))
def test_parse_envelope_on_arbitrary_headers_raises_only_envelope_error(raw, tail):
    text = json.dumps(raw, default=str).encode("utf-8", "surrogatepass")
    data = assemble(text, bytes(64), bytes(env.ENC_BYTES + 16) + tail)
    try:
        envelope = env.parse_envelope(data)
    except EnvelopeError as exc:
        assert exc.code == "malformed-envelope"
    else:
        assert envelope.header_bytes == text


@SLOW
@given(st.lists(st.tuples(st.integers(0, len(SEALED) - 1), st.integers(1, 255)), max_size=4))
def test_a_mutated_envelope_raises_only_envelope_error_along_the_whole_path(flips):
    data = bytearray(SEALED)
    for position, mask in flips:
        data[position] ^= mask
    try:
        items = receive(bytes(data))
    except EnvelopeError:
        assert flips
    else:
        assert items == SEALED_ITEMS


@SLOW
@given(st.one_of(json_like, header_like))
def test_header_from_json_on_arbitrary_values_raises_only_envelope_error(raw):
    try:
        header = BatchHeader.from_json(raw)
    except EnvelopeError as exc:
        assert exc.code == "malformed-envelope"
    else:
        assert BatchHeader.from_json(header.as_json()) == header


@SLOW
@given(
    st.one_of(
        json_like,
        st.fixed_dictionaries({"document": json_like, "sig": st.one_of(json_like, st.text())}),
        st.fixed_dictionaries(
            {
                "document": st.dictionaries(st.text(max_size=5), json_like, max_size=4),
                "sig": st.binary(min_size=64, max_size=64).map(
                    lambda b: base64.b64encode(b).decode()
                ),
            }
        ),
    )
)
def test_verify_document_on_arbitrary_values_raises_only_envelope_error(signed):
    with pytest.raises(EnvelopeError) as caught:
        env.verify_document(signed, HQ_SIGNING_PUBLIC)
    assert caught.value.code == "bad-receipt"


@SLOW
@given(
    st.one_of(st.binary(max_size=200), st.binary(max_size=200).map(zlib.compress)),
    st.integers(0, 3),
)
def test_decode_body_on_arbitrary_bytes_raises_only_envelope_error(body, count):
    try:
        items = env.decode_body(body, count)
    except EnvelopeError as exc:
        assert exc.code == "malformed-body"
    else:
        assert len(items) == count and all(isinstance(i, dict) for i in items)


@SLOW
@given(json_like)
def test_audit_hash_on_arbitrary_values_raises_only_envelope_error(item):
    try:
        digest = env.audit_hash(b"\x00" * 32, item)  # type: ignore[arg-type]
    except EnvelopeError as exc:
        assert exc.code == "malformed-body"
    else:
        assert len(digest) == 32


# -- the size budget -----------------------------------------------------------------------


def realistic_batches(per_batch: int, *, capture_fields: bool = False) -> list[bytes]:
    """500 synthetic applicants captured one by one, each with its audit entry, sealed in
    batches of ``per_batch`` applicants (records first, then their audit entries)."""
    from fieldkit.domain.applicant import check_applicant
    from fieldkit.domain.ids import new_ids
    from fieldkit.domain.synth import synthetic_applicants

    people = list(synthetic_applicants(500, 1))
    ids = new_ids(len(people))
    visit_id = new_ids(1)[0]
    start = datetime(2026, 11, 28, 1, 30, tzinfo=UTC)
    records, audits = [], []
    prev = env.audit_genesis(DEVICE_ID)
    for n, (person, record_id) in enumerate(zip(people, ids, strict=True), start=1):
        data = check_applicant(person.as_json(), on=date(2026, 11, 28), visit_kind="eazy").value
        assert data is not None
        if capture_fields:
            data = {**data, **workflow_fields()}
        stamp = (start + timedelta(seconds=47 * n, microseconds=n * 7919)).isoformat(
            timespec="microseconds"
        )
        records.append(
            {
                "t": "r",
                "kind": "applicant",
                "id": record_id,
                "version": 1,
                "visit_id": visit_id,
                "state": "captured",
                "officer_id": "sup1",
                "at": stamp,
                "outbox_seq": n + 1,
                "data": data,
            }
        )
        audit = {
            "t": "a",
            "seq": n + 3,
            "at": stamp,
            "officer_id": "sup1",
            "action": "applicant_created",
            "subject": f"applicant:{record_id}",
            "detail": '{"version":1}',
        }
        prev = env.audit_hash(prev, audit)
        audits.append((audit, prev))
    batches = []
    for seq, first in enumerate(range(0, len(records), per_batch), start=1):
        chunk = records[first : first + per_batch]
        chunk_audits = audits[first : first + per_batch]
        items = chunk + [a for a, _ in chunk_audits]
        header = BatchHeader(
            device_id=DEVICE_ID,
            batch_id=new_ids(1)[0],
            seq=seq,
            created_at=CREATED_AT,
            hq_kid=env.hq_kid(HQ_PUBLIC),
            count=len(items),
            outbox=(chunk[0]["outbox_seq"], chunk[-1]["outbox_seq"]),
            audit=(chunk_audits[0][0]["seq"], chunk_audits[-1][0]["seq"]),
            audit_head=chunk_audits[-1][1].hex(),
        )
        batches.append(env.seal_batch(header, items, hq_public=HQ_PUBLIC, device_key=DEVICE))
    return batches


def test_five_hundred_applicants_fit_the_budget_of_250_bytes_each_on_the_wire():
    # MAX_ITEMS counts lines, records and audit entries alike: 250 applicants with their 250
    # audit entries fill a batch, so 500 applicants travel in two.
    batches = realistic_batches(250)
    per_record = sum(len(b) for b in batches) / 500
    with_capture_fields = sum(len(b) for b in realistic_batches(250, capture_fields=True)) / 500
    print(
        f"\n500 applicants + 500 audit items in {len(batches)} envelopes: "
        f"{sum(len(b) for b in batches)} bytes, {per_record:.1f} bytes per applicant "
        f"({with_capture_fields:.1f} with the vault's capture fields)"
    )
    assert all(len(receive(b)) == 500 for b in batches)
    assert per_record <= 250
    assert with_capture_fields <= 250


# -- the published test vector --------------------------------------------------------------


def _hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()


def _hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out, counter = out + block, counter + 1
    return out[:length]


# RFC 9180 suite id: "HPKE" ‖ KEM 0x647A (MLKEM768-X25519, i.e. X-Wing) ‖ KDF 0x0001 ‖ AEAD 0x0002
HPKE_SUITE_ID = b"HPKE" + bytes.fromhex("647a") + bytes.fromhex("0001") + bytes.fromhex("0002")
XWING_LABEL = b"\\.//^\\"


def hpke_open_by_hand(ct: bytes, private96: bytes, info: bytes) -> tuple[bytes, dict[str, str]]:
    """Open an HPKE ciphertext from primitives alone (RFC 9180 base mode + X-Wing), as a
    second implementation would; return the plaintext and the key schedule's values."""
    kem = mlkem.MLKEM768PrivateKey.from_seed_bytes(private96[:64])
    dh = x25519.X25519PrivateKey.from_private_bytes(private96[64:])
    ct_m, ct_x, aead_ct = ct[:1088], ct[1088:1120], ct[1120:]
    ss_m = kem.decapsulate(ct_m)
    ss_x = dh.exchange(x25519.X25519PublicKey.from_public_bytes(ct_x))
    pk_x = dh.public_key().public_bytes_raw()
    shared_secret = hashlib.sha3_256(ss_m + ss_x + ct_x + pk_x + XWING_LABEL).digest()

    def labeled_extract(salt: bytes, label: bytes, ikm: bytes) -> bytes:
        return _hkdf_extract(salt, b"HPKE-v1" + HPKE_SUITE_ID + label + ikm)

    def labeled_expand(prk: bytes, label: bytes, context: bytes, length: int) -> bytes:
        labeled = length.to_bytes(2, "big") + b"HPKE-v1" + HPKE_SUITE_ID + label + context
        return _hkdf_expand(prk, labeled, length)

    context = (
        b"\x00"
        + labeled_extract(b"", b"psk_id_hash", b"")
        + labeled_extract(b"", b"info_hash", info)
    )
    secret = labeled_extract(shared_secret, b"secret", b"")
    key = labeled_expand(secret, b"key", context, 32)
    base_nonce = labeled_expand(secret, b"base_nonce", context, 12)
    plaintext = AESGCM(key).decrypt(base_nonce, aead_ct, b"")
    return plaintext, {
        "shared_secret": shared_secret.hex(),
        "key": key.hex(),
        "base_nonce": base_nonce.hex(),
    }


def _fixed(label: str, length: int) -> bytes:
    return hashlib.shake_256(f"fieldkit/v1/test-vector/{label}".encode()).digest(length)


def build_protocol_vector() -> dict[str, object]:
    """A fresh vector: fixed (published, test-only) keys, a fresh HPKE encapsulation."""
    hq_private = _fixed("hq-mlkem-seed", 64) + _fixed("hq-x25519", 32)
    hq_public = env.hq_public_from_private(hq_private)
    hq_signing = Ed25519PrivateKey.from_private_bytes(_fixed("hq-signing", 32))
    device = Ed25519PrivateKey.from_private_bytes(_fixed("device", 32))
    vault_id = "3f6c2a9e-1b7d-4c5e-8f90-a1b2c3d4e5f6"
    device_id = "8e1f4b2c-6a3d-4e7f-9b05-c4d3e2f1a0b9"
    officer = "sup1"
    visit_id = "019ac9d0-5e00-7000-8000-3b1c2d4e5f60"
    applicant_id = "019ac9d2-1a40-7000-8000-7a6b5c4d3e2f"
    t0, t1, t2 = (
        "2026-11-28T01:02:03.000000+00:00",
        "2026-11-28T01:05:00.000000+00:00",
        "2026-11-28T02:10:30.250000+00:00",
    )
    records = [
        {
            "t": "r",
            "kind": "visit",
            "id": visit_id,
            "version": 1,
            "visit_id": visit_id,
            "state": "planned",
            "officer_id": officer,
            "at": t1,
            "outbox_seq": 1,
            "data": {
                "kind": "eazy",
                "date": "2026-11-28",
                "session": "pagi",
                "site": "SMAN 1 Karawang",
                "coordinator_name": "Budi Santoso",
                "coordinator_phone": "+6281234567890",
            },
        },
        {
            "t": "r",
            "kind": "applicant",
            "id": applicant_id,
            "version": 1,
            "visit_id": visit_id,
            "state": "captured",
            "officer_id": officer,
            "at": t2,
            "outbox_seq": 2,
            "data": {
                "name": "ASEP RUSTANDI",
                "nik": "1671131105009399",
                "kk": "1671131009239443",
                "sex": "M",
                "birth_date": "2000-05-11",
                "birth_place": "PALEMBANG",
                "phone": "+6281193393106",
                "married": False,
                "application_type": "expired",
                "old_passport_issued": "2014-12-28",
                "product": "ordinary",
                "validity_years": 5,
                "booking_code": "GWBBBA2P5B",
                "fee": {
                    "regulation": "PP 45/2024",
                    "total": 350000,
                    "lines": [{"item": "passport.ordinary.5", "amount": 350000}],
                },
                "documents_seen": [],
                "payment": None,
                "biometrics_ref": None,
                "decision": None,
                "notes": "Paspor lama rusak — dibawa",
            },
        },
    ]
    audit_rows = [
        (1, t0, officer, "vault_created", device_id, '{"format":1}'),
        (2, t0, officer, "unlock", None, "{}"),
        (3, t1, officer, "visit_created", f"visit:{visit_id}", '{"version":1}'),
        (4, t2, officer, "applicant_created", f"applicant:{applicant_id}", '{"version":1}'),
    ]
    audits = []
    chain = [env.audit_genesis(vault_id)]
    for seq, at, officer_id, action, subject, detail in audit_rows:
        item = {
            "t": "a",
            "seq": seq,
            "at": at,
            "officer_id": officer_id,
            "action": action,
            "subject": subject,
            "detail": detail,
        }
        audits.append(item)
        chain.append(env.audit_hash(chain[-1], item))
    items = records + audits
    header = BatchHeader(
        device_id=device_id,
        batch_id="019ac9e0-7c00-7000-8000-0f1e2d3c4b5a",
        seq=1,
        created_at="2026-11-28T02:15:00.000000+00:00",
        hq_kid=env.hq_kid(hq_public),
        count=len(items),
        outbox=(1, 2),
        audit=(1, 4),
        audit_head=chain[-1].hex(),
    )
    sealed = env.seal_batch(header, items, hq_public=hq_public, device_key=device)
    envelope = env.parse_envelope(sealed)
    body = env.encode_body(items)
    info = env.BATCH_INFO_PREFIX + envelope.header_bytes
    _, schedule = hpke_open_by_hand(envelope.ciphertext, hq_private, info)
    hq_signing_public = hq_signing.public_key().public_bytes_raw()
    receipt = {
        "v": 1,
        "device_id": device_id,
        "batch_id": header.batch_id,
        "seq": header.seq,
        "ct_sha256": envelope.ct_sha256,
        "count": header.count,
        "accepted_at": "2026-11-28T02:15:07.000000+00:00",
        "hq_signing_kid": hashlib.sha256(hq_signing_public).hexdigest()[:16],
    }
    return {
        "about": (
            "fieldkit sync protocol v1 test vector (docs/PROTOCOL.md, 'Worked example'). "
            "All keys here are public test keys: never use them for anything else. "
            "The HPKE encapsulation is random, so envelope, ct_sha256, signature, hpke and "
            "receipt change when the vector is regenerated; everything else is fixed."
        ),
        "suite": {
            "mode": "base (0x00)",
            "kem": "MLKEM768-X25519 (X-Wing), HPKE KEM id 0x647a",
            "kdf": "HKDF-SHA256, id 0x0001",
            "aead": "AES-256-GCM, id 0x0002",
        },
        "keys": {
            "hq_encryption_private": hq_private.hex(),
            "hq_encryption_public": hq_public.hex(),
            "hq_kid": env.hq_kid(hq_public),
            "hq_signing_private": hq_signing.private_bytes_raw().hex(),
            "hq_signing_public": hq_signing_public.hex(),
            "device_private": device.private_bytes_raw().hex(),
            "device_public": device.public_key().public_bytes_raw().hex(),
        },
        "vault_id": vault_id,
        "audit_chain": [h.hex() for h in chain],
        "header": header.as_json(),
        "header_bytes": envelope.header_bytes.decode("utf-8"),
        "items": items,
        "body_jsonl": zlib.decompress(body).decode("utf-8"),
        "body": body.hex(),
        "hpke_info": info.hex(),
        "hpke": schedule,
        "envelope": sealed.hex(),
        "ct_sha256": envelope.ct_sha256,
        "signed_message": (
            envelope.header_bytes + hashlib.sha256(envelope.ciphertext).digest()
        ).hex(),
        "signature": envelope.signature.hex(),
        "receipt": env.sign_document(receipt, hq_signing),
    }


def check_vector(vector: dict) -> None:
    """Every claim the vector makes, checked with the module and with primitives alone."""
    keys = vector["keys"]
    hq_private = bytes.fromhex(keys["hq_encryption_private"])
    hq_public = bytes.fromhex(keys["hq_encryption_public"])
    assert env.hq_public_from_private(hq_private) == hq_public
    assert env.hq_kid(hq_public) == keys["hq_kid"] == vector["header"]["hq_kid"]
    device = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(keys["device_private"]))
    device_public = bytes.fromhex(keys["device_public"])
    assert device.public_key().public_bytes_raw() == device_public
    hq_signing = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(keys["hq_signing_private"]))
    hq_signing_public = bytes.fromhex(keys["hq_signing_public"])
    assert hq_signing.public_key().public_bytes_raw() == hq_signing_public

    data = bytes.fromhex(vector["envelope"])
    header_bytes = vector["header_bytes"].encode("utf-8")
    assert header_bytes == env.canonical(vector["header"])
    # The layout, byte by byte.
    assert data[:4] == b"FKB1"
    assert int.from_bytes(data[4:8], "big") == len(header_bytes)
    assert data[8 : 8 + len(header_bytes)] == header_bytes
    signature = data[8 + len(header_bytes) : 8 + len(header_bytes) + 64]
    ct = data[8 + len(header_bytes) + 64 :]
    body = bytes.fromhex(vector["body"])
    assert len(ct) == 1120 + len(body) + 16
    assert signature.hex() == vector["signature"]
    assert hashlib.sha256(ct).hexdigest() == vector["ct_sha256"]
    assert bytes.fromhex(vector["signed_message"]) == header_bytes + hashlib.sha256(ct).digest()
    device.public_key().verify(signature, bytes.fromhex(vector["signed_message"]))
    assert zlib.decompress(body).decode("utf-8") == vector["body_jsonl"]
    assert vector["body_jsonl"].encode() == b"".join(
        env.canonical(i) + b"\n" for i in vector["items"]
    )
    # HPKE opened from primitives, and the key schedule's published values.
    info = bytes.fromhex(vector["hpke_info"])
    assert info == b"fieldkit/v1/batch|" + header_bytes
    plaintext, schedule = hpke_open_by_hand(ct, hq_private, info)
    assert plaintext == body
    assert schedule == vector["hpke"]
    # The module agrees.
    envelope = env.parse_envelope(data)
    assert envelope.header == BatchHeader.from_json(vector["header"])
    assert envelope.ct_sha256 == vector["ct_sha256"]
    env.verify_signature(envelope, device_public)
    assert env.open_batch(envelope, hq_private) == vector["items"]
    # The audit chain ends at the header's audit_head.
    chain = [env.audit_genesis(vector["vault_id"])]
    for item in vector["items"]:
        if item["t"] == "a":
            chain.append(env.audit_hash(chain[-1], item))
    assert [h.hex() for h in chain] == vector["audit_chain"]
    assert chain[-1].hex() == vector["header"]["audit_head"]
    # The receipt.
    receipt = env.verify_document(vector["receipt"], hq_signing_public)
    assert receipt["ct_sha256"] == vector["ct_sha256"]
    assert receipt["batch_id"] == vector["header"]["batch_id"]
    assert receipt["hq_signing_kid"] == hashlib.sha256(hq_signing_public).hexdigest()[:16]


def test_the_published_vector_still_verifies_and_opens():
    check_vector(json.loads(VECTOR_PATH.read_text(encoding="utf-8")))


def test_a_freshly_built_vector_checks_out_too():
    check_vector(json.loads(json.dumps(build_protocol_vector())))


def test_the_worked_example_in_the_protocol_quotes_the_published_vector():
    vector = json.loads(VECTOR_PATH.read_text(encoding="utf-8"))
    example = PROTOCOL_PATH.read_text(encoding="utf-8").split("## Worked example", 1)[1]
    assert vector["ct_sha256"] in example
    assert vector["header_bytes"] in example
    assert vector["keys"]["hq_kid"] in example
    # Every abbreviated hex value ("0634f5a6…3cd11ff3") is a piece of some value in the vector.
    strings = [s for s in _strings(vector) if s]
    abbreviated = re.findall(r"`([0-9a-f]{8})…([0-9a-f]{8})`", example)
    assert len(abbreviated) >= 10
    for first, last in abbreviated:
        assert any(first in s and last in s[s.index(first) :] for s in strings), (first, last)
    header_length = len(vector["header_bytes"].encode())
    body_length = len(bytes.fromhex(vector["body"]))
    assert f"= {header_length}" in example
    assert f"{len(bytes.fromhex(vector['envelope'])):,} bytes" in example
    assert f"{body_length}-byte body" in example


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def write_protocol_vector(path: Path = VECTOR_PATH) -> None:
    """Write a fresh vector to docs/protocol-vector.json."""
    vector = build_protocol_vector()
    check_vector(vector)
    path.write_text(json.dumps(vector, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_protocol_vector(Path(sys.argv[1]) if len(sys.argv) > 1 else VECTOR_PATH)
    print(f"wrote {VECTOR_PATH if len(sys.argv) == 1 else sys.argv[1]}")
