"""HQ's HTTP API: its app in the test process (``TestClient``), real batches, both stores.

One app per store for the module (``tests.support.hq_app``); every test enrolls its own
devices through ``POST /v1/enroll``. Serving it (uvicorn, workers, real HTTP) is tested in
test_hq_serving and the sync end-to-end tests.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from unittest import mock

import httpx2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.hq import store
from sync.wire import envelope
from sync.wire.requests import (
    DEVICE_HEADER,
    SIGNATURE_HEADER,
    TIME_HEADER,
    checkpoint_path,
    request_headers,
)
from tests.support.hq import Device, init_hq, run_cli, verify_receipt
from tests.support.hq_app import HQApp, hq_app
from tests.support.hq_app import api_fixture as api_fixture  # the module's "api" fixture

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def assert_problem(response: httpx2.Response, status: int, slug: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    extensions = {"hq_time"} if slug == "clock-skew" else set()  # HQ's signed time (PROTOCOL.md)
    assert PROBLEM_KEYS <= set(body) <= PROBLEM_KEYS | extensions
    assert body["status"] == status
    assert body["type"].startswith("/problems/")
    if slug is not None:
        assert body["type"] == f"/problems/{slug}", body
    return body


def nothing_ingested(api: HQApp, header: envelope.BatchHeader) -> None:
    hq = api.hq
    assert hq.count(store.batches, store.batches.c.batch_id == header.batch_id) == 0
    assert hq.count(store.records, store.records.c.batch_id == header.batch_id) == 0
    assert hq.count(store.audit_entries, store.audit_entries.c.batch_id == header.batch_id) == 0


def rejections(api: HQApp, slug: str, header: envelope.BatchHeader | None = None) -> list:
    where = [store.rejections.c.problem == slug]
    if header is not None:
        where.append(store.rejections.c.batch_id == header.batch_id)
    return api.hq.rows(store.rejections, *where)


def get_checkpoint(
    api: HQApp,
    device: Device,
    *,
    path_device: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx2.Response:
    """``GET`` a checkpoint: ``device``'s own, signed by it, unless told otherwise."""
    path = checkpoint_path(path_device or device.device_id)
    if headers is None:
        headers = request_headers(device.key, device.device_id, path=path)
    return api.client.get(path, headers=headers)


def checkpoint(api: HQApp, device: Device) -> dict:
    answer = get_checkpoint(api, device)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    return envelope.verify_document(answer.json(), device.hq_signing_public)


# --- enrollment ----------------------------------------------------------------------------------


def test_a_code_from_the_cli_enrolls_one_device_once(api):
    done = run_cli(api.hq.env, "device", "enroll-code", "--expires", "10m")
    code = done.stdout.strip()
    assert len(code) == 19 and code.count("-") == 3
    device = api.enroll(code=code)
    assert len(device.hq_public) == 1216
    assert device.hq_kid == envelope.hq_kid(device.hq_public)
    assert len(device.hq_signing_public) == 32
    # HQ stored only the code's hash.
    assert api.hq.count(store.enroll_codes, store.enroll_codes.c.code_hash == code) == 0
    used = api.hq.rows(store.enroll_codes, store.enroll_codes.c.used_by == device.device_id)
    assert len(used) == 1 and used[0]["code_hash"] == store.hash_code(code)

    other = Device(b"", "", b"")
    again = api.client.post("/v1/enroll", json=other.enroll_body(code))
    assert_problem(again, 403, "enroll-code-invalid")
    assert api.hq.count(store.devices, store.devices.c.device_id == other.device_id) == 0
    refused = api.hq.rows(store.rejections, store.rejections.c.device_id == other.device_id)
    assert [r["problem"] for r in refused] == ["enroll-code-invalid"]
    assert refused[0]["client"] == "127.0.0.1"


def test_an_expired_code_is_refused(api):
    engine = api.hq.engine()
    code, _ = store.create_enroll_code(engine, timedelta(seconds=-1))
    engine.dispose()
    device = Device(b"", "", b"")
    answer = api.client.post("/v1/enroll", json=device.enroll_body(code))
    assert_problem(answer, 403, "enroll-code-invalid")


def test_an_enrolled_device_id_cannot_be_taken_over_and_the_code_is_not_spent(api):
    device = api.enroll()
    code = api.hq.enroll_code()
    impostor = Device(b"", "", b"", device_id=device.device_id)
    answer = api.client.post("/v1/enroll", json=impostor.enroll_body(code))
    assert_problem(answer, 409, "device-exists")
    api.enroll(code=code)  # the code still works for a new device


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{bad json", "application/json", 400),
        (b"\xff\xfe\x00garbage", "application/json", 400),
        (b"", "application/json", 400),
        (b"[" * 5_000 + b"]" * 5_000, "application/json", 400),
        (b"[]", "application/json", 422),
        (b"null", "application/json", 422),
        (b'{"code": 1}', "application/json", 422),
        (b'{"code": "A", "device_id": "x", "vault_id": "y", "device_public_key": "z"}',
         "application/json", 422),
        (b'{"code": "A", "device_id": "00000000-0000-0000-0000-000000000000", '
         b'"vault_id": "00000000-0000-0000-0000-000000000000", "device_public_key": "AAAA"}',
         "application/json", 422),
        (b'{"code": "A", "device_id": "00000000-0000-0000-0000-000000000000", '
         b'"vault_id": "00000000-0000-0000-0000-000000000000", '
         b'"device_public_key": "' + base64.b64encode(b"k" * 32) + b'", "extra": 1}',
         "application/json", 422),
        (b'{"code": "x"}', "text/plain", 415),
        (b'{"code": "x"}', None, 415),
        (b'{"a": "' + b"x" * 20_000 + b'"}', "application/json", 413),
    ],
)  # fmt: skip
def test_malformed_enrollment_requests_get_problem_details(api, body, content_type, status):
    headers = {"Content-Type": content_type} if content_type else {}
    answer = api.client.post("/v1/enroll", content=body, headers=headers)
    assert_problem(answer, status)


# --- batches ------------------------------------------------------------------------------------


def test_a_good_batch_gets_a_receipt_signed_by_hq_and_a_retry_the_same_receipt(api):
    device = api.enroll()
    header, sealed = device.cut(records=3, audit=2)
    answer = api.post(sealed)
    assert answer.status_code == 201, answer.text
    receipt = verify_receipt(answer.json(), device.hq_signing_public)
    assert receipt["v"] == 1
    assert receipt["device_id"] == device.device_id
    assert receipt["batch_id"] == header.batch_id
    assert receipt["seq"] == 1
    assert receipt["count"] == 5
    assert receipt["ct_sha256"] == envelope.parse_envelope(sealed).ct_sha256
    assert set(receipt) == {
        "v", "device_id", "batch_id", "seq", "ct_sha256", "count", "accepted_at",
        "hq_signing_kid",
    }  # fmt: skip

    hq = api.hq
    stored = hq.rows(store.records, store.records.c.batch_id == header.batch_id)
    assert len(stored) == 3
    assert all(r["findings"] == [] for r in stored), [r["findings"] for r in stored]
    entries = hq.rows(store.audit_entries, store.audit_entries.c.batch_id == header.batch_id)
    assert [e["verified"] for e in entries] == [True, True]
    assert entries[-1]["hash"] == header.audit_head

    again = api.post(sealed)
    assert again.status_code == 200
    assert again.content == answer.content
    assert hq.count(store.batches, store.batches.c.device_id == device.device_id) == 1
    assert hq.count(store.records, store.records.c.device_id == device.device_id) == 3


def test_a_gap_is_accepted_reported_missing_and_verified_once_filled(api):
    device = api.enroll()
    _, first = device.cut(audit=2)
    _, second = device.cut(audit=2)
    third_header, third = device.cut(audit=2)
    assert api.post(first).status_code == 201
    assert api.post(third).status_code == 201
    point = checkpoint(api, device)
    assert point["device_id"] == device.device_id
    assert (point["next_seq"], point["missing"], point["received"]) == (4, [2], [3])
    held = api.hq.rows(store.audit_entries, store.audit_entries.c.batch_id == third_header.batch_id)
    assert [e["verified"] for e in held] == [False, False]

    assert api.post(second).status_code == 201
    point = checkpoint(api, device)
    assert (point["next_seq"], point["missing"], point["received"]) == (4, [], [])
    entries = api.hq.rows(store.audit_entries, store.audit_entries.c.device_id == device.device_id)
    assert sorted(e["seq"] for e in entries) == [1, 2, 3, 4, 5, 6]
    assert all(e["verified"] for e in entries)


def test_a_reused_seq_with_a_new_batch_id_is_refused_and_flagged(api):
    device = api.enroll()
    assert api.post(device.cut()[1]).status_code == 201
    clone_header, clone = device.cut(seq=1)
    answer = api.post(clone)
    assert_problem(answer, 409, "sequence-reused")
    nothing_ingested(api, clone_header)
    flagged = api.hq.rows(store.flags, store.flags.c.device_id == device.device_id)
    assert [f["kind"] for f in flagged] == ["sequence-reused"]
    assert flagged[0]["batch_id"] == clone_header.batch_id
    assert len(rejections(api, "sequence-reused", clone_header)) == 1


def test_a_reused_batch_id_with_other_contents_is_refused(api):
    device = api.enroll()
    header, sealed = device.cut()
    assert api.post(sealed).status_code == 201
    _, other = device.cut(seq=1, batch_id=header.batch_id)
    assert_problem(api.post(other), 409, "batch-id-reused")
    assert api.hq.count(store.records, store.records.c.device_id == device.device_id) == 2


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


def _split(sealed: bytes) -> tuple[bytes, bytes, bytes]:
    parsed = envelope.parse_envelope(sealed)
    return parsed.header_bytes, parsed.signature, parsed.ciphertext


def _assemble(header_bytes: bytes, signature: bytes, ciphertext: bytes) -> bytes:
    return b"FKB1" + len(header_bytes).to_bytes(4, "big") + header_bytes + signature + ciphertext


def _resign(device: Device, header_bytes: bytes, ciphertext: bytes) -> bytes:
    import hashlib

    signature = device.key.sign(header_bytes + hashlib.sha256(ciphertext).digest())
    return _assemble(header_bytes, signature, ciphertext)


def attack_forged_signature(api, device):
    thief = Device(device.hq_public, device.hq_kid, b"", device_id=device.device_id)
    thief.key = Ed25519PrivateKey.generate()
    header, sealed = thief.cut(seq=2)
    return header, sealed, 401, "bad-signature"


def attack_unknown_device(api, device):
    stranger = Device(device.hq_public, device.hq_kid, b"")
    header, sealed = stranger.cut()
    return header, sealed, 403, "unknown-device"


def attack_revoked_device(api, device):
    run_cli(api.hq.env, "device", "revoke", device.device_id, "--reason", "stolen")
    header, sealed = device.cut(seq=2)
    return header, sealed, 403, "device-revoked"


def attack_tampered_ciphertext(api, device):
    header, sealed = device.cut(seq=2)
    return header, _flip_last_byte(sealed), 401, "bad-signature"


def attack_tampered_ciphertext_resigned(api, device):
    header, sealed = device.cut(seq=2)
    header_bytes, _, ciphertext = _split(sealed)
    return header, _resign(device, header_bytes, _flip_last_byte(ciphertext)), 422, "undecryptable"


def attack_header_swapped(api, device):
    header_a, sealed_a = device.cut(seq=2)
    _, sealed_b = device.cut(seq=3)
    header_bytes, signature, _ = _split(sealed_a)
    _, _, ciphertext = _split(sealed_b)
    return header_a, _assemble(header_bytes, signature, ciphertext), 401, "bad-signature"


def attack_header_swapped_resigned(api, device):
    header_a, sealed_a = device.cut(seq=2)
    _, sealed_b = device.cut(seq=3)
    header_bytes, _, _ = _split(sealed_a)
    _, _, ciphertext = _split(sealed_b)
    return header_a, _resign(device, header_bytes, ciphertext), 422, "undecryptable"


def attack_replay_under_new_id(api, device):
    accepted_header, accepted = device.cut(seq=2)
    assert api.post(accepted).status_code == 201
    _, signature, ciphertext = _split(accepted)
    replay = envelope.BatchHeader(
        **{**_fields(accepted_header), "batch_id": str(uuid.uuid4()), "seq": 3}
    )
    forged = _assemble(envelope.canonical(replay.as_json()), signature, ciphertext)
    return replay, forged, 401, "bad-signature"


def attack_sealed_to_another_hq_key(api, device):
    _, other_public = envelope.generate_hq_encryption_key()
    header, sealed = device.cut(seq=2, hq_public=other_public, hq_kid=envelope.hq_kid(other_public))
    return header, sealed, 422, "unknown-hq-key"


def attack_sealed_to_another_key_under_our_kid(api, device):
    _, other_public = envelope.generate_hq_encryption_key()
    visit = str(uuid.uuid4())
    items = [device.applicant(visit)]
    header = envelope.BatchHeader(
        device_id=device.device_id,
        batch_id=str(uuid.uuid4()),
        seq=2,
        created_at="2025-03-08T02:05:00+00:00",
        hq_kid=device.hq_kid,
        count=1,
        outbox=(items[0]["outbox_seq"], items[0]["outbox_seq"]),
        audit=None,
        audit_head=None,
    )
    header_bytes = envelope.canonical(header.as_json())
    ciphertext = envelope.SUITE.encrypt(
        envelope.encode_body(items),
        envelope.hq_public_key(other_public),
        info=envelope.BATCH_INFO_PREFIX + header_bytes,
    )
    return header, _resign(device, header_bytes, ciphertext), 422, "undecryptable"


def attack_malformed_body(api, device):
    item = device.applicant(str(uuid.uuid4()))
    del item["data"]
    header, sealed = device.cut(seq=2, items=[item])
    return header, sealed, 422, "malformed-body"


def attack_nul_in_record_text(api, device):
    item = device.applicant(str(uuid.uuid4()))
    item["data"]["notes"] = "a\x00b"
    # A device of ours refuses to seal this; an older or hostile one need not.
    with mock.patch.object(envelope, "_check_storable", lambda *args: None):
        header, sealed = device.cut(seq=2, items=[item])
    return header, sealed, 422, "malformed-body"


def _fields(header: envelope.BatchHeader) -> dict:
    return {f.name: getattr(header, f.name) for f in dataclasses.fields(header)}


ATTACKS = [
    attack_forged_signature,
    attack_unknown_device,
    attack_revoked_device,
    attack_tampered_ciphertext,
    attack_tampered_ciphertext_resigned,
    attack_header_swapped,
    attack_header_swapped_resigned,
    attack_replay_under_new_id,
    attack_sealed_to_another_hq_key,
    attack_sealed_to_another_key_under_our_kid,
    attack_malformed_body,
    attack_nul_in_record_text,
]


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.__name__.removeprefix("attack_"))
def test_each_attack_is_refused_with_its_problem_and_nothing_is_ingested(api, attack):
    device = api.enroll()
    assert api.post(device.cut()[1]).status_code == 201
    header, data, status, slug = attack(api, device)
    answer = api.post(data)
    assert_problem(answer, status, slug)
    nothing_ingested(api, header)
    logged = rejections(api, slug, header)
    assert len(logged) == 1
    assert logged[0]["device_id"] == header.device_id
    assert logged[0]["client"] == "127.0.0.1"
    # The device is proven only once its signature verified; before, it is what was claimed.
    assert logged[0]["device_verified"] is (slug not in _BEFORE_SIGNATURE), slug


_BEFORE_SIGNATURE = {"unknown-device", "device-revoked", "bad-signature", "malformed-envelope"}


def _count_rejections(api: HQApp, slug: str) -> int:
    return api.hq.count(store.rejections, store.rejections.c.problem == slug)


def test_an_oversized_body_is_refused_before_it_is_read(api):
    before = _count_rejections(api, "too-large")
    answer = api.post(b"FKB1" + os.urandom(envelope.MAX_ENVELOPE_BYTES))
    assert_problem(answer, 413, "too-large")

    def chunks():  # no Content-Length: the cap applies while streaming
        for _ in range(5):
            yield b"\0" * (1024 * 1024)

    streamed = api.client.post(
        "/v1/batches",
        content=chunks(),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert_problem(streamed, 413, "too-large")
    assert _count_rejections(api, "too-large") == before + 2


@pytest.mark.parametrize(
    "data",
    [os.urandom(3000), b"", b"FKB1", b"FKB1" + os.urandom(2000), b"FKB1\xff\xff\xff\xff{}"],
    ids=["random", "empty", "magic-only", "magic-random", "huge-length"],
)
def test_random_bytes_are_a_malformed_envelope(api, data):
    before = _count_rejections(api, "malformed-envelope")
    assert_problem(api.post(data), 400, "malformed-envelope")
    assert _count_rejections(api, "malformed-envelope") == before + 1


def test_a_wrong_content_type_is_refused(api):
    device = api.enroll()
    header, sealed = device.cut()
    assert_problem(api.post(sealed, **{"Content-Type": "application/json"}), 415)
    nothing_ingested(api, header)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/batches"),
        ("PUT", "/v1/enroll"),
        ("GET", "/nowhere"),
        ("GET", "/v1/devices/not-a-uuid/checkpoint"),
        ("GET", "/v1/devices/00000000-0000-4000-8000-000000000447/checkpoint"),
        ("POST", "/healthz"),
    ],
)
def test_other_requests_get_problem_details(api, method, path):
    answer = api.client.request(method, path)
    assert 400 <= answer.status_code < 500
    assert_problem(answer, answer.status_code)


# --- the checkpoint is the device's own --------------------------------------------------------


def refused_and_logged(
    api: HQApp, answer: httpx2.Response, status: int, slug: str, logged_as: str
) -> dict:
    """The answer is ``slug`` with ``status``, and HQ logged one such rejection for the device."""
    body = assert_problem(answer, status, slug)
    rows = api.hq.rows(
        store.rejections,
        store.rejections.c.device_id == logged_as,
        store.rejections.c.problem == slug,
    )
    assert len(rows) == 1, rows
    assert rows[0]["status"] == status and rows[0]["client"] == "127.0.0.1"
    assert rows[0]["device_verified"] is (slug in {"device-mismatch", "device-revoked"}), slug
    return body


def test_a_device_reads_its_own_checkpoint_with_signed_headers(api):
    device = api.enroll()
    _, sealed = device.cut()
    assert api.post(sealed).status_code == 201
    point = checkpoint(api, device)
    assert (point["device_id"], point["next_seq"], point["missing"]) == (device.device_id, 2, [])
    assert api.hq.count(store.rejections, store.rejections.c.device_id == device.device_id) == 0


def test_an_unsigned_checkpoint_request_is_refused(api):
    device = api.enroll()
    answer = get_checkpoint(api, device, headers={})
    body = refused_and_logged(api, answer, 401, "unauthenticated", device.device_id)
    assert DEVICE_HEADER in body["detail"]
    for missing in (DEVICE_HEADER, TIME_HEADER, SIGNATURE_HEADER):
        path = checkpoint_path(device.device_id)
        headers = request_headers(device.key, device.device_id, path=path)
        del headers[missing]
        assert_problem(get_checkpoint(api, device, headers=headers), 401, "unauthenticated")


def test_a_checkpoint_request_signed_by_another_key_is_refused(api):
    device = api.enroll()
    path = checkpoint_path(device.device_id)
    forged = request_headers(Ed25519PrivateKey.generate(), device.device_id, path=path)
    answer = get_checkpoint(api, device, headers=forged)
    refused_and_logged(api, answer, 401, "bad-signature", device.device_id)


def test_another_enrolled_device_cannot_sign_for_a_devices_checkpoint(api):
    device, other = api.enroll(), api.enroll()
    path = checkpoint_path(device.device_id)
    # The other device's key, claiming to be the device: the signature is not the device's.
    claimed = request_headers(other.key, device.device_id, path=path)
    answer = get_checkpoint(api, device, headers=claimed)
    refused_and_logged(api, answer, 401, "bad-signature", device.device_id)


def test_headers_signed_for_another_path_are_refused(api):
    device = api.enroll()
    for path in ("/v1/reference", checkpoint_path(str(uuid.uuid4()))):
        headers = request_headers(device.key, device.device_id, path=path)
        answer = get_checkpoint(api, device, headers=headers)
        assert_problem(answer, 401, "bad-signature")
    rows = api.hq.rows(store.rejections, store.rejections.c.device_id == device.device_id)
    assert [r["problem"] for r in rows] == ["bad-signature", "bad-signature"]


def test_a_device_asking_for_another_devices_checkpoint_is_refused(api):
    device, other = api.enroll(), api.enroll()
    _, sealed = other.cut()
    assert api.post(sealed).status_code == 201
    # Correctly signed by `device`, over the path of `other`'s checkpoint.
    path = checkpoint_path(other.device_id)
    headers = request_headers(device.key, device.device_id, path=path)
    answer = get_checkpoint(api, device, path_device=other.device_id, headers=headers)
    body = refused_and_logged(api, answer, 403, "device-mismatch", device.device_id)
    assert other.device_id in body["detail"]
    assert "next_seq" not in answer.text
    for junk in ("not-a-uuid", "x" * 300):
        signed = request_headers(device.key, device.device_id, path=checkpoint_path(junk))
        wrong = get_checkpoint(api, device, path_device=junk, headers=signed)
        # A path id that is no UUID is refused before anything else (docs/hq.md).
        assert_problem(wrong, 400, "malformed-request")


@pytest.mark.parametrize("minutes", [-11, 11])
def test_a_checkpoint_request_signed_at_a_stale_time_is_refused(api, minutes):
    device = api.enroll()
    at = (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()
    path = checkpoint_path(device.device_id)
    stale = request_headers(device.key, device.device_id, path=path, at=at)
    answer = get_checkpoint(api, device, headers=stale)
    body = refused_and_logged(api, answer, 401, "clock-skew", device.device_id)
    assert "Check the laptop's date and time" in body["detail"]
    assert body["hq_time"]["document"]["kind"] == "hq-time", "HQ's signed time for the device"


def test_an_unknown_device_gets_no_checkpoint(api):
    stranger = Device(b"", "", b"")
    answer = get_checkpoint(api, stranger)
    refused_and_logged(api, answer, 403, "unknown-device", stranger.device_id)


def test_a_revoked_device_gets_no_checkpoint(api):
    device = api.enroll()
    checkpoint(api, device)
    run_cli(api.hq.env, "device", "revoke", device.device_id)
    answer = get_checkpoint(api, device)
    refused_and_logged(api, answer, 403, "device-revoked", device.device_id)


def test_applicant_findings_are_stored_not_rejected(api):
    device = api.enroll()
    item = device.applicant(str(uuid.uuid4()))
    item["data"]["nik"] = "123"
    header, sealed = device.cut(items=[item])
    assert api.post(sealed).status_code == 201
    [stored] = api.hq.rows(store.records, store.records.c.batch_id == header.batch_id)
    codes = {f["code"] for f in stored["findings"]}
    assert any(code.startswith("nik.") for code in codes), codes
    assert stored["data"]["nik"] == "123"


def test_a_broken_audit_chain_is_accepted_and_flagged(api):
    device = api.enroll()
    header, sealed = device.cut(audit=3, audit_head="0" * 64)
    assert api.post(sealed).status_code == 201
    flagged = api.hq.rows(store.flags, store.flags.c.batch_id == header.batch_id)
    assert [f["kind"] for f in flagged] == ["audit-chain-broken"]
    entries = api.hq.rows(store.audit_entries, store.audit_entries.c.batch_id == header.batch_id)
    assert entries and not any(e["verified"] for e in entries)


def test_concurrent_uploads_from_many_devices_and_retries(api):
    devices = [api.enroll() for _ in range(6)]
    sealed = [device.cut()[1] for device in devices for _ in range(3)]
    retried = sealed[0]
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(api.post, [*sealed, retried, retried, retried]))
    statuses = [a.status_code for a in answers]
    assert statuses.count(201) == len(sealed), statuses
    assert statuses.count(200) == 3, statuses
    receipts = {a.content for a in answers if a.json()["receipt"]["batch_id"] == _id(retried)}
    assert len(receipts) == 1
    for device in devices:
        point = checkpoint(api, device)
        assert (point["next_seq"], point["missing"]) == (4, [])
    ids = [d.device_id for d in devices]
    assert api.hq.count(store.batches, store.batches.c.device_id.in_(ids)) == 18
    assert api.hq.count(store.records, store.records.c.device_id.in_(ids)) == 36
    unverified = store.audit_entries.c.verified.is_(False)
    assert api.hq.count(store.audit_entries, store.audit_entries.c.device_id.in_(ids)) == 18
    assert (
        api.hq.count(store.audit_entries, store.audit_entries.c.device_id.in_(ids), unverified) == 0
    )


def _id(sealed: bytes) -> str:
    return envelope.parse_envelope(sealed).header.batch_id


def test_status_reports_devices_missing_seqs_and_flags(api):
    device = api.enroll()
    api.post(device.cut()[1])
    device.seq += 2
    api.post(device.cut()[1])
    done = run_cli(api.hq.env, "status", "--json")
    report = json.loads(done.stdout)
    assert report["missing"][device.device_id] == [2, 3]
    assert report["devices"]["enrolled"] >= 1
    assert report["hq_kid"] == device.hq_kid
    listed = json.loads(run_cli(api.hq.env, "device", "list", "--json").stdout)
    [mine] = [d for d in listed if d["device_id"] == device.device_id]
    assert (mine["batches"], mine["last_seq"], mine["missing"]) == (2, 4, [2, 3])


@pytest.mark.postgres
def test_a_lost_store_is_a_503_with_retry_after_not_a_500(postgres_admin, postgres_url, tmp_path):
    hq = init_hq(tmp_path / "hq", postgres_url)
    with hq_app(hq) as running:
        device = running.enroll()
        name = postgres_url.rsplit("/", 1)[1]
        postgres_admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        answer = running.post(device.cut()[1])
        assert_problem(answer, 503, "store-unavailable")
        assert answer.headers["retry-after"] == "30"
    assert not running.failures, running.failures
