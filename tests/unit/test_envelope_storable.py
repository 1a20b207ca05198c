"""Body lines must be storable as they came: no NUL or lone surrogate, 64-bit ints, ≤ 64 levels.

``decode_body`` skips the walk for lines that cannot break these rules (no ``\\u`` escape, no
19-digit run, few brackets); these tests show the refusals and that the shortcut never lets a
bad line through.
"""

from __future__ import annotations

import json
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.wire import envelope as env


def _body(*lines: bytes) -> bytes:
    return zlib.compress(b"".join(line + b"\n" for line in lines))


def _nested(depth: int) -> bytes:
    return b'{"data":' + b"[" * (depth - 1) + b"1" + b"]" * (depth - 1) + b"}"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (rb'{"data":{"notes":"a\u0000b"}}', "NUL"),
        (rb'{"data":{"a\u0000":1}}', "NUL"),
        (rb'{"data":{"notes":"\ud800"}}', "lone surrogate"),
        (rb'{"data":{"notes":"x\udfff"}}', "lone surrogate"),
        (b'{"data":{"n":9223372036854775808}}', "64 bits"),
        (b'{"data":{"n":-9223372036854775809}}', "64 bits"),
        (b'{"data":{"n":123456789012345678901234567890}}', "64 bits"),
        (_nested(65), "levels deep"),
    ],
)
def test_unstorable_lines_are_malformed_and_named(line: bytes, reason: str) -> None:
    good = b'{"t":"a","seq":1}'
    with pytest.raises(env.EnvelopeError) as caught:
        env.decode_body(_body(good, line), 2)
    assert caught.value.code == "malformed-body"
    assert "line 2" in caught.value.detail
    assert reason in caught.value.detail


@pytest.mark.parametrize(
    "line",
    [
        rb'{"data":{"name":"\ud83d\ude00 SITI"}}',  # a surrogate pair is one character
        '{"data":{"name":"ŞİTİ ÑUR 😀"}}'.encode(),
        b'{"data":{"n":9223372036854775807,"m":-9223372036854775808}}',
        b'{"data":{"nik":"3175011312699481","code":"1234567890123456789012"}}',  # digits in text
        _nested(64),  # the item is level 1, its innermost list level 64
        rb'{"data":{"notes":"a\\u0000b"}}',  # an escaped backslash, then plain text
    ],
)
def test_storable_lines_pass(line: bytes) -> None:
    [item] = env.decode_body(_body(line), 1)
    assert item == json.loads(line)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(["\x00", "\\", "\ud800"])),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=5), json_values, max_size=5))
def test_the_shortcut_agrees_with_the_walk(item: dict[str, object]) -> None:
    line = json.dumps(item, ensure_ascii=False).encode("utf-8", "surrogatepass")
    problem = env._storable_problem(item)
    try:
        decoded = env.decode_body(_body(line), 1)
    except env.EnvelopeError as exc:
        # Either the line is not even UTF-8 (a raw lone surrogate), or the walk names why.
        assert exc.code == "malformed-body"
        assert problem is not None or "not strict UTF-8" in exc.detail
    else:
        assert problem is None
        assert decoded == [item]
    escaped = json.dumps(item, ensure_ascii=True).encode("ascii")  # every non-ASCII as \u
    try:
        decoded = env.decode_body(_body(escaped), 1)
    except env.EnvelopeError as exc:
        assert problem is not None, exc.detail
    else:
        assert problem is None
        assert decoded == [item]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"notes": "a\x00b"}, "NUL"),
        ({"n": 2**63}, "64 bits"),
        ({"deep": json.loads(b"[" * 70 + b"]" * 70)}, "levels deep"),
    ],
)
def test_a_device_refuses_to_seal_what_hq_could_not_store(data: object, reason: str) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _, public = env.generate_hq_encryption_key()
    item = {"t": "a", "seq": 1, "data": data}
    header = env.BatchHeader(
        device_id="0b6f1c1e-2f6a-4d43-9a55-8c8d1a3e7f10",
        batch_id="5d1d6c9e-8a7b-4c3d-9e2f-1a0b9c8d7e6f",
        seq=1,
        created_at="2026-11-28T09:00:00+00:00",
        hq_kid=env.hq_kid(public),
        count=1,
        outbox=None,
        audit=(1, 1),
        audit_head="00" * 32,
    )
    with pytest.raises(env.EnvelopeError) as refused:
        env.seal_batch(header, [item], hq_public=public, device_key=Ed25519PrivateKey.generate())
    assert refused.value.code == "malformed-body" and reason in refused.value.detail
