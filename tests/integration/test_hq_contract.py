"""The fake HQ keeps HQ's contract: the same checks against it and against `fieldkit-hq serve`.

Client tests run against :class:`tests.support.fake_hq.FakeHq`; what they rely on is checked
here on the fake and on the real HQ (a subprocess on 127.0.0.1 over SQLite and, marked
``postgres``, PostgreSQL), over HTTP, with a device that seals real batches
(``tests.support.device``) and the client's own readers where it has them: the enrollment
answer, a batch accepted with a signed receipt, a duplicate answered the stored receipt, the
signed checkpoint, the refusals of device-signed requests, the signed reference document, and
a real vault that enrolls and syncs.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldkit.vault.syncstate import Enrollment
from sync.device.checkpoint import Checkpoint, read_checkpoint
from sync.device.signed import read_hq_time
from sync.wire import envelope
from sync.wire.reference import DOCUMENT_KEYS
from sync.wire.requests import REFERENCE_PATH, checkpoint_path
from tests.support.device import Device, device_from_enrollment, verify_receipt
from tests.support.fake_hq import FakeHq
from tests.support.hq import running_hq_for
from tests.support.vault import add_applicants, enrolled_vault, no_wait_client, people, plan_visit

ENROLL_KEYS = {"device_id", "hq_kid", "hq_encryption_public_key", "hq_signing_public_key",
               "enrolled_at"}  # fmt: skip
RECEIPT_KEYS = {"v", "device_id", "batch_id", "seq", "ct_sha256", "count", "accepted_at",
                "hq_signing_kid"}  # fmt: skip
CHECKPOINT_KEYS = {"v", "device_id", "next_seq", "received", "missing", "at", "hq_signing_kid"}
HQ_TIME_KEYS = {"v", "kind", "device_id", "at", "hq_signing_kid"}
PROBLEM_KEYS = {"type", "title", "status", "detail"}


@pytest.fixture(
    scope="module",
    params=["fake", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def hq(request, tmp_path_factory) -> Iterator[object]:
    """The fake HQ, or ``fieldkit-hq serve`` over SQLite or PostgreSQL: ``url``, ``enroll_code``."""
    if request.param == "fake":
        with FakeHq().serve() as fake:
            yield fake
    else:
        yield from running_hq_for(request, tmp_path_factory)


def enroll(hq, device: Device | None = None, code: str | None = None) -> requests.Response:
    placeholder = device or Device(b"", "", b"")
    body = placeholder.enroll_body(code or hq.enroll_code())
    return requests.post(f"{hq.url}/v1/enroll", json=body, timeout=30)


def enrolled(hq) -> Device:
    device = Device(b"", "", b"")
    answer = enroll(hq, device)
    assert answer.status_code == 201, answer.text
    return device_from_enrollment(answer.json(), device)


def pinned(hq, device: Device) -> Enrollment:
    return Enrollment(hq.url, device.hq_kid, device.hq_public, device.hq_signing_public, "")


def post(hq, sealed: bytes) -> requests.Response:
    headers = {"Content-Type": "application/octet-stream"}
    return requests.post(f"{hq.url}/v1/batches", data=sealed, headers=headers, timeout=30)


def get(hq, path: str, headers: dict[str, str]) -> requests.Response:
    return requests.get(hq.url + path, headers=headers, timeout=30)


def kid(signing_public: bytes) -> str:
    return hashlib.sha256(signing_public).hexdigest()[:16]


def assert_problem(response: requests.Response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert PROBLEM_KEYS <= set(body) <= PROBLEM_KEYS | {"hq_time"}, body
    assert (body["type"], body["status"]) == (f"/problems/{slug}", status), body
    return body


def hours_ahead(hours: int = 3) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat(timespec="microseconds")


# -- enrollment -----------------------------------------------------------------------------------


def test_enrollment_answers_hqs_keys_once_per_code_and_again_for_a_retry(hq):
    device = Device(b"", "", b"")
    code = hq.enroll_code()
    answer = enroll(hq, device, code)
    assert answer.status_code == 201, answer.text
    pinned_keys = answer.json()
    assert set(pinned_keys) == ENROLL_KEYS
    assert pinned_keys["device_id"] == device.device_id
    public = base64.b64decode(pinned_keys["hq_encryption_public_key"])
    assert len(public) == envelope.HQ_PUBLIC_BYTES
    assert pinned_keys["hq_kid"] == envelope.hq_kid(public)
    assert len(base64.b64decode(pinned_keys["hq_signing_public_key"])) == 32
    assert datetime.fromisoformat(pinned_keys["enrolled_at"]).utcoffset() == timedelta(0)

    retried = enroll(hq, device, code)  # the answer was lost: the same device asks again
    assert retried.status_code == 201 and retried.json() == pinned_keys

    assert_problem(enroll(hq, code=code), 403, "enroll-code-invalid")  # used, by another
    assert_problem(enroll(hq, code="AAAA-BBBB-CCCC-DDDD"), 403, "enroll-code-invalid")
    assert_problem(enroll(hq, device), 409, "device-exists")  # a fresh code, the same device


# -- batches --------------------------------------------------------------------------------------


def test_a_batch_is_accepted_with_a_receipt_signed_by_hq_and_a_duplicate_gets_it_again(hq):
    device = enrolled(hq)
    header, sealed = device.cut(records=3, audit=2)
    accepted = post(hq, sealed)
    assert accepted.status_code == 201, accepted.text
    receipt = verify_receipt(accepted.json(), device.hq_signing_public)
    assert set(receipt) == RECEIPT_KEYS
    assert receipt["v"] == 1 and receipt["hq_signing_kid"] == kid(device.hq_signing_public)
    assert (receipt["device_id"], receipt["batch_id"], receipt["seq"], receipt["count"]) == (
        header.device_id, header.batch_id, header.seq, header.count,
    )  # fmt: skip
    assert receipt["ct_sha256"] == envelope.parse_envelope(sealed).ct_sha256

    again = post(hq, sealed)
    assert again.status_code == 200, again.text
    assert again.content == accepted.content, "the stored receipt, byte for byte"

    _, other_bytes = device.cut(batch_id=header.batch_id, seq=header.seq)
    assert_problem(post(hq, other_bytes), 409, "batch-id-reused")
    _, other_id = device.cut(seq=header.seq)
    assert_problem(post(hq, other_id), 409, "sequence-reused")


def test_a_batch_hq_cannot_trust_is_refused_with_the_protocols_codes(hq):
    device = enrolled(hq)
    _, sealed = device.cut()
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    assert_problem(post(hq, bytes(tampered)), 401, "bad-signature")
    stranger = Device(device.hq_public, device.hq_kid, device.hq_signing_public)
    assert_problem(post(hq, stranger.cut()[1]), 403, "unknown-device")
    other_public = envelope.generate_hq_encryption_key()[1]
    wrong_key = device.cut(hq_public=other_public, hq_kid=envelope.hq_kid(other_public))[1]
    assert_problem(post(hq, wrong_key), 422, "unknown-hq-key")
    assert_problem(post(hq, b"FKB1 not an envelope"), 400, "malformed-envelope")


# -- the checkpoint -------------------------------------------------------------------------------


def test_the_checkpoint_is_signed_and_says_which_batches_hq_holds(hq):
    device = enrolled(hq)
    path = checkpoint_path(device.device_id)

    def checkpoint() -> dict:
        response = get(hq, path, device.signed_headers(path))
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        document = envelope.verify_document(response.json(), device.hq_signing_public)
        assert set(document) == CHECKPOINT_KEYS
        assert document["v"] == 1 and document["device_id"] == device.device_id
        assert document["hq_signing_kid"] == kid(device.hq_signing_public)
        assert datetime.fromisoformat(document["at"]).utcoffset() == timedelta(0)
        assert read_checkpoint(response.json(), pinned(hq, device), device.device_id)
        return document

    first = checkpoint()
    assert (first["next_seq"], first["received"], first["missing"]) == (1, [], [])
    assert post(hq, device.cut()[1]).status_code == 201
    assert post(hq, device.cut(seq=3)[1]).status_code == 201
    later = checkpoint()
    assert (later["next_seq"], later["received"], later["missing"]) == (4, [3], [2])
    response = get(hq, path, device.signed_headers(path))
    assert read_checkpoint(response.json(), pinned(hq, device), device.device_id) == Checkpoint(
        next_seq=4, received=frozenset({3}), missing=frozenset({2})
    )


# -- device-signed requests -----------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["checkpoint", "reference"])
def test_device_signed_requests_are_refused_with_the_protocols_codes(hq, endpoint):
    device = enrolled(hq)
    path = checkpoint_path(device.device_id) if endpoint == "checkpoint" else REFERENCE_PATH
    assert_problem(get(hq, path, {}), 401, "unauthenticated")
    impostor = Ed25519PrivateKey.generate()
    assert_problem(get(hq, path, device.signed_headers(path, key=impostor)), 401, "bad-signature")
    stranger = Device(b"", "", b"")
    stranger_path = checkpoint_path(stranger.device_id) if endpoint == "checkpoint" else path
    unknown = get(hq, stranger_path, stranger.signed_headers(stranger_path))
    assert_problem(unknown, 403, "unknown-device")
    other = enrolled(hq)
    if endpoint == "checkpoint":  # one device reads only its own checkpoint
        assert_problem(get(hq, path, other.signed_headers(path)), 403, "device-mismatch")

    # A time too far from HQ's clock: HQ's own time, signed, for the enrolled device only.
    skewed = get(hq, path, device.signed_headers(path, at=hours_ahead()))
    problem = assert_problem(skewed, 401, "clock-skew")
    assert skewed.headers["cache-control"] == "no-store"
    signed = problem["hq_time"]
    assert set(signed) == {"document", "sig"} and set(signed["document"]) == HQ_TIME_KEYS
    document = envelope.verify_document(signed, device.hq_signing_public)
    assert (document["v"], document["kind"], document["device_id"]) == (
        1, "hq-time", device.device_id,
    )  # fmt: skip
    assert read_hq_time(signed, pinned(hq, device), device.device_id) is not None
    for headers, where in (
        (stranger.signed_headers(stranger_path, at=hours_ahead()), stranger_path),
        (device.signed_headers(path, at=hours_ahead(), key=impostor), path),
    ):
        refused = assert_problem(get(hq, where, headers), 401, "clock-skew")
        assert "hq_time" not in refused, "no oracle for strangers"


# -- the reference document -----------------------------------------------------------------------


def test_the_reference_document_is_signed_for_the_device_with_hqs_keys(hq):
    device = enrolled(hq)
    response = get(hq, REFERENCE_PATH, device.signed_headers(REFERENCE_PATH))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    payload = response.json()
    assert set(payload) == {"document", "sig"}
    doc = envelope.verify_document(payload, device.hq_signing_public)
    assert set(doc) == DOCUMENT_KEYS, "nothing withdrawn: no withdrawn member"
    assert (doc["type"], doc["v"], doc["device_id"]) == ("reference", 2, device.device_id)
    assert isinstance(doc["version"], int) and doc["version"] >= 1
    assert datetime.fromisoformat(doc["issued_at"]).utcoffset() == timedelta(0)
    assert doc["hq_signing_kid"] == kid(device.hq_signing_public)
    keys = doc["hq_keys"]
    assert keys["encryption"]["kid"] == device.hq_kid
    assert base64.b64decode(keys["encryption"]["public_key"]) == device.hq_public
    assert keys["signing"]["kid"] == kid(device.hq_signing_public)
    assert base64.b64decode(keys["signing"]["public_key"]) == device.hq_signing_public
    # Format 2: what is personal is sealed to the device's key (nothing here: no roster).
    doc = device.open_reference(doc)
    assert doc["revoked"] is None and doc["rosters"] == []
    assert isinstance(doc["revoked_devices"], list) and isinstance(doc["revoked_officers"], list)
    assert doc["fees"] is None and doc["watchlist"] is None


# -- a real vault ---------------------------------------------------------------------------------


def test_a_real_vault_enrolls_syncs_and_pulls_reference_data(hq, tmp_path):
    session = enrolled_vault(tmp_path / "device", hq.url, hq.enroll_code())
    add_applicants(session, plan_visit(session), people(30, 901))
    report = no_wait_client(hq.url, session).sync(once=True, reference=True)
    assert report.exit_code == 0 and report.complete, report.as_json("en")
    assert report.acked == report.cut >= 1 and report.duplicates == 0
    assert report.reference is not None and report.reference.new
    again = no_wait_client(hq.url, session).sync(once=True)
    assert again.exit_code == 0 and again.complete
    session.vault.close()
