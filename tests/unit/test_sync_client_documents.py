"""What the client believes of HQ's checkpoint, and what the officer reads for HQ's refusals."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldkit.vault.syncstate import Enrollment
from sync.device.checkpoint import Checkpoint, read_checkpoint
from sync.device.errors import DEVICE_PROBLEMS, HqProblem, HqUntrusted, problem_message
from sync.wire import envelope

DEVICE = "8e1f4b2c-6a3d-4e7f-9b05-c4d3e2f1a0b9"
HQ_SIGNING = Ed25519PrivateKey.generate()
HQ_PUBLIC = HQ_SIGNING.public_key().public_bytes_raw()
KID = hashlib.sha256(HQ_PUBLIC).hexdigest()[:16]
PINNED = Enrollment(
    hq_url="https://hq.example.test",
    hq_kid="3675a819dd97d361",
    hq_encryption_public_key=b"\0" * 1216,
    hq_signing_public_key=HQ_PUBLIC,
    enrolled_at="2026-11-28T06:00:00.000000+00:00",
)
GOOD = {
    "v": 1,
    "device_id": DEVICE,
    "next_seq": 5,
    "received": [4],
    "missing": [2],
    "at": "2026-11-28T06:00:00.000000+00:00",
    "hq_signing_kid": KID,
}


def signed(document: dict, key: Ed25519PrivateKey = HQ_SIGNING) -> dict:
    return envelope.sign_document(document, key)


def without(key: str) -> dict:
    return {k: v for k, v in GOOD.items() if k != key}


# -- the checkpoint -----------------------------------------------------------------------------


def test_hqs_checkpoint_for_this_device_is_read():
    assert read_checkpoint(signed(GOOD), PINNED, DEVICE) == Checkpoint(
        next_seq=5, received=frozenset({4}), missing=frozenset({2})
    )
    unknown_keys = {**GOOD, "note": "a later HQ may add keys"}
    assert read_checkpoint(signed(unknown_keys), PINNED, DEVICE).next_seq == 5


@pytest.mark.parametrize(
    ("document", "why"),
    [
        (without("v"), "no version"),
        ({**GOOD, "v": 2}, "a later version"),
        ({**GOOD, "v": 0}, "another version"),
        ({**GOOD, "v": "1"}, "a version that is text"),
        ({**GOOD, "v": True}, "a version that is a boolean (True == 1 in Python)"),
        (without("device_id"), "no device_id"),
        ({**GOOD, "device_id": None}, "a null device_id"),
        ({**GOOD, "device_id": "00000000-0000-4000-8000-000000000000"}, "another device"),
        ({**GOOD, "device_id": DEVICE.upper()}, "this device's id, spelt otherwise"),
        (without("hq_signing_kid"), "no hq_signing_kid"),
        ({**GOOD, "hq_signing_kid": "0123456789abcdef"}, "another signing key's kid"),
        ({**GOOD, "hq_signing_kid": KID.upper()}, "the kid in upper case"),
        (without("next_seq"), "no next_seq"),
        ({**GOOD, "next_seq": "5"}, "next_seq as text"),
        ({**GOOD, "next_seq": 0}, "next_seq below 1"),
        ({**GOOD, "missing": ["2"]}, "a seq that is text"),
        ({**GOOD, "missing": [-1]}, "a seq below 1"),
        ({**GOOD, "received": "4"}, "seqs that are not a list"),
    ],
)
def test_a_signed_checkpoint_that_is_not_this_devices_v1_is_refused(document, why):
    with pytest.raises(HqUntrusted) as refused:
        read_checkpoint(signed(document), PINNED, DEVICE)
    assert refused.value.exit_code == 3, why
    assert "checkpoint from HQ is signed but does not match" in refused.value.message.en, why
    assert "Checkpoint dari HQ ditandatangani tetapi tidak cocok" in refused.value.message.id


def test_a_checkpoint_signed_by_another_key_is_refused():
    with pytest.raises(HqUntrusted) as refused:
        read_checkpoint(signed(GOOD, Ed25519PrivateKey.generate()), PINNED, DEVICE)
    assert "does not verify" in refused.value.message.en


# -- HQ's refusals, worded ----------------------------------------------------------------------


GENERIC = "was refused by HQ ("


def message_for(status: int, slug: str, detail: str):
    return problem_message(HqProblem(status, f"/problems/{slug}", slug, detail))


def test_an_unauthenticated_request_gets_its_own_message():
    message = message_for(401, "unauthenticated", "Send Fieldkit-Device, Fieldkit-Time.")
    assert GENERIC not in message.en
    assert message.en.startswith(
        "HQ did not get this device's signature on the request (Send Fieldkit-Device, "
        "Fieldkit-Time)."
    )
    assert "proxy" in message.en and "update fieldkit" in message.en
    assert "fieldkit sync export" in message.en and "stays safe" in message.en
    assert message.id.startswith("HQ tidak menerima tanda tangan perangkat ini")
    assert "perbarui fieldkit" in message.id and "fieldkit sync export" in message.id


def test_a_clock_skew_gets_its_own_message():
    message = message_for(401, "clock-skew", "HQ's clock is 2026-11-28T06:00:00+00:00.")
    assert GENERIC not in message.en
    assert message.en == (
        "This laptop's clock is too far from HQ's (HQ's clock is 2026-11-28T06:00:00+00:00). "
        "Set the laptop's date and time, then try again. The data stays safe on this laptop."
    )
    assert message.id.startswith("Jam laptop ini terlalu jauh dari jam HQ")
    assert "Setel tanggal dan jam laptop" in message.id


def test_a_device_mismatch_gets_its_own_message():
    message = message_for(403, "device-mismatch", "Signed by device a, not b.")
    assert GENERIC not in message.en
    assert message.en.startswith(
        "HQ refused: the request was signed by another device than the one whose data it asks "
        "for (Signed by device a, not b)."
    )
    assert "Report it to HQ" in message.en and "Nothing was sent" in message.en
    assert message.id.startswith("HQ menolak: permintaan ditandatangani perangkat lain")
    assert "Laporkan ke HQ" in message.id


def test_refusals_of_device_signed_requests_concern_the_whole_device():
    assert {"unauthenticated", "clock-skew", "device-mismatch"} <= DEVICE_PROBLEMS
    assert "malformed-body" not in DEVICE_PROBLEMS
    assert GENERIC in message_for(422, "malformed-body", "count").en, "the others stay generic"
