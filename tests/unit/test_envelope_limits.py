"""The body's limits (docs/PROTOCOL.md, "Limits"): what HQ refuses, what a device still seals.

The attacks themselves run against a real HQ in tests/integration/test_hq_bomb.py; here, the
edges of each limit on the shared code both ends use.
"""

from __future__ import annotations

import uuid
import zlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.wire import envelope as env
from sync.wire.envelope import BatchHeader, EnvelopeError
from tests.support.device import Device

HQ_PRIVATE, HQ_PUBLIC = env.generate_hq_encryption_key()
KEY = Ed25519PrivateKey.generate()


def _code(call: object, *args: object) -> str:
    with pytest.raises(EnvelopeError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.code


def _header(count: int) -> BatchHeader:
    return BatchHeader(
        device_id=str(uuid.uuid4()),
        batch_id=str(uuid.uuid4()),
        seq=1,
        created_at="2026-11-28T03:15:00.000000+00:00",
        hq_kid=env.hq_kid(HQ_PUBLIC),
        count=count,
        outbox=None,
        audit=None,
        audit_head=None,
    )


def test_the_body_limit_is_derived_from_the_items_and_the_line_limit():
    assert env.MAX_BODY_BYTES == env.MAX_ITEMS * (env.MAX_LINE_BYTES + 1) == 8_192_500


def test_a_full_batch_of_applicants_is_far_within_every_limit():
    device = Device(HQ_PUBLIC, env.hq_kid(HQ_PUBLIC), b"")
    _, sealed = device.cut(records=400, audit=100)
    items = env.open_batch(env.parse_envelope(sealed), HQ_PRIVATE)
    assert len(items) == 500
    longest = max(len(env.canonical(item)) for item in items)
    assert longest * 8 < env.MAX_LINE_BYTES, longest


def test_more_lines_than_the_header_says_stop_the_inflation():
    body = zlib.compress(b"{}\n" * 1_000)
    assert _code(env.decode_body, body, 3) == "malformed-body"


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (b'{"a":' + b"[" * 65 + b"]" * 65 + b"}", "nested more than 64"),
        (b'{"a":"' + b"[" * 9_000 + b'"}', None),  # brackets in a string are text: accepted
        (b'{"a":[' + b"0," * 2_100 + b"0]}", "more than 2048 JSON values"),
    ],
)
def test_depth_and_values_are_measured_before_parsing(line: bytes, why: str | None):
    body = zlib.compress(line + b"\n")
    if why is None:
        assert env.decode_body(body, 1)[0]["a"] == "[" * 9_000
        return
    with pytest.raises(EnvelopeError) as caught:
        env.decode_body(body, 1)
    assert caught.value.code == "malformed-body" and why in caught.value.detail


def test_too_many_values_in_the_body_is_too_large_for_a_device_which_cuts_smaller():
    item = {"t": "r", "v": list(range(600))}  # ≈ 605 values; 500 of them: ≈ 300,000
    with pytest.raises(EnvelopeError) as caught:
        env.seal_batch(_header(500), [item] * 500, hq_public=HQ_PUBLIC, device_key=KEY)
    assert caught.value.code == "too-large"  # the device halves the batch on this code
    env.seal_batch(_header(250), [item] * 250, hq_public=HQ_PUBLIC, device_key=KEY)


def test_a_line_over_the_limit_cannot_be_sealed():
    item = {"t": "r", "pad": "x" * env.MAX_LINE_BYTES}
    with pytest.raises(EnvelopeError) as caught:
        env.seal_batch(_header(1), [item], hq_public=HQ_PUBLIC, device_key=KEY)
    assert caught.value.code == "malformed-body"


def test_the_header_is_read_from_the_first_bytes():
    device = Device(HQ_PUBLIC, env.hq_kid(HQ_PUBLIC), b"")
    header, sealed = device.cut()
    for short in (0, 3, 8, 100):
        assert env.peek_header(sealed[:short]) is None
    assert env.peek_header(sealed[:1024]) == header
    assert _code(env.peek_header, b"FKB2") == "malformed-envelope"
    too_long = env.MAGIC + (env.MAX_HEADER_BYTES + 1).to_bytes(4, "big")
    assert _code(env.peek_header, too_long) == "malformed-envelope"
