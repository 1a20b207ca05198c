"""The sealed batch: the bytes a field device sends to HQ, and HQ's signed answers.

Both ends share this module, so it holds pure functions over bytes: no I/O, no HTTP, no
database, and nothing from ``fieldkit``. docs/PROTOCOL.md is the specification; in short::

    envelope = "FKB1" ‖ uint32 len(header) ‖ header ‖ sig (64 B) ‖ ct
    header   = canonical JSON of BatchHeader
    ct       = HPKE base mode, suite (MLKEM768_X25519, HKDF_SHA256, AES_256_GCM), to the HQ key
               named by header.hq_kid, info = "fieldkit/v1/batch|" ‖ header, plaintext = body
             = encapsulated key (1120 B) ‖ AES-256-GCM ciphertext ‖ tag (16 B)
    sig      = Ed25519(device key, header ‖ SHA-256(ct))
    body     = zlib (level 9) of JSON Lines, one canonical JSON object per line, newline after each

Every refusal raises :class:`EnvelopeError` whose ``code`` is the problem slug HQ answers with
(``/problems/<code>``); its ``detail`` is safe to log and never quotes record contents. Misuse
by the caller (a float in a value to be made canonical, a non-dict item) is a ``TypeError``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from sync.wire import nesting

MAGIC = b"FKB1"
MAX_ENVELOPE_BYTES = 4 * 1024 * 1024
MAX_ITEMS = 500
# The limits on what a body inflates to (docs/PROTOCOL.md, "Limits"). They follow from what a
# device puts in a batch: at most MAX_ITEMS lines, each one record version or audit entry. The
# largest a device writes is an applicant of about 2 KB (700 B typically; every text field is
# bounded by the domain rules), so a line may hold 16 KiB, eight times that, and a body the
# 500 longest lines with their newlines: 500 × 16,385 B ≈ 7.8 MiB. More is refused as a zip
# bomb, as soon as the inflater passes it, before the rest is inflated.
MAX_LINE_BYTES = 16 * 1024
MAX_BODY_BYTES = MAX_ITEMS * (MAX_LINE_BYTES + 1)
# JSON values (objects, arrays, keys, scalars) in one line, and in the whole body: an applicant
# line has about 45; the caps bound the Python objects a body can make HQ build (≈ 40 MB).
MAX_LINE_NODES = 2_048
MAX_BODY_NODES = 250_000
# The canonical header is at most ≈ 600 bytes (every field at its longest).
MAX_HEADER_BYTES = 1_024
SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
CODEC = "jsonl+zlib"
VERSION = 1
BATCH_INFO_PREFIX = b"fieldkit/v1/batch|"
AUDIT_GENESIS_PREFIX = b"fieldkit/v1/audit-genesis|"

LENGTH_BYTES = 4
SIGNATURE_BYTES = 64
ED25519_PUBLIC_BYTES = 32
MLKEM_SEED_BYTES = 64
MLKEM_PUBLIC_BYTES = 1184
X25519_BYTES = 32
HQ_PRIVATE_BYTES = MLKEM_SEED_BYTES + X25519_BYTES  # 96
HQ_PUBLIC_BYTES = MLKEM_PUBLIC_BYTES + X25519_BYTES  # 1216
# The encapsulated key: ML-KEM-768 ciphertext (1088 B) ‖ X25519 ephemeral public key (32 B).
ENC_BYTES = hpke.KEM.MLKEM768_X25519.enc_length()
TAG_BYTES = 16
# The shortest ciphertext there can be: the encapsulated key and the tag around nothing.
_MIN_CT_BYTES = ENC_BYTES + TAG_BYTES
# Integers in headers end up in SQLite and PostgreSQL BIGINT columns.
MAX_INT = 2**63 - 1

CODES = frozenset(
    {
        "malformed-envelope",
        "too-large",
        "bad-signature",
        "undecryptable",
        "malformed-body",
        "bad-receipt",
        "bad-key",
    }
)

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_KID = re.compile(r"[0-9a-f]{16}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_HEADER_KEYS = frozenset(
    {
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
)
_MAX_TIME_CHARS = 40
_MAX_DEPTH = 200


class EnvelopeError(Exception):
    """A refused envelope, body, receipt or key.

    ``code`` is the problem slug (one of :data:`CODES`); ``detail`` is English, safe to log and
    never contains record contents.
    """

    def __init__(self, code: str, detail: str = "") -> None:
        if code not in CODES:
            raise ValueError(f"unknown envelope error code {code!r}")
        super().__init__(code, detail)
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}" if self.detail else self.code


# -- canonical JSON ------------------------------------------------------------------------


def _check_canonical_value(value: object, depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        raise ValueError(f"value nested more than {_MAX_DEPTH} levels deep")
    if isinstance(value, float):
        raise TypeError("canonical JSON has integers only, not floats")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"canonical JSON object keys are strings, not {type(key).__name__}")
            _check_canonical_value(item, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_canonical_value(item, depth + 1)
    elif value is not None and not isinstance(value, str | int):
        raise TypeError(f"{type(value).__name__} is not a JSON value")


def canonical(value: object) -> bytes:
    """Canonical JSON bytes: sorted keys, no white space, UTF-8, characters as themselves.

    Raises ``TypeError`` for floats, non-string keys and non-JSON types, and ``ValueError``
    for strings holding lone surrogates (``UnicodeEncodeError``) and for values nested more
    than 200 levels deep: all are caller mistakes.
    """
    _check_canonical_value(value)
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


# canonical() of a list of strings, integers and None, without its type walk.
_SCALARS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _reject_float(text: str) -> object:
    raise ValueError("floats are not allowed")


def _reject_constant(text: str) -> object:
    raise ValueError(f"{text} is not allowed")


def _unique_object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key in a JSON object")
    return result


class _Unstorable(ValueError):
    """A decoded value HQ could not store as it came (see :func:`_check_storable`)."""


def _parse_int(text: str) -> int:
    value = int(text)
    if len(text) > 18 and value not in _INT64:  # shorter ones always fit
        raise _Unstorable("an integer does not fit in 64 bits")
    return value


# One decoder for every line: json.loads with hooks would build a new one per call.
_STRICT = json.JSONDecoder(
    parse_float=_reject_float,
    parse_int=_parse_int,
    parse_constant=_reject_constant,
    object_pairs_hook=_unique_object,
)


def _loads(text: str) -> object:
    """Strict JSON: no floats, no NaN or Infinity, no duplicate keys, 64-bit integers.

    Raises ``ValueError`` (``_Unstorable`` for an integer beyond 64 bits).
    """
    return _STRICT.decode(text)


# A body line is also "storable" (docs/PROTOCOL.md, "The sealed batch"): its text holds no NUL
# and no lone surrogate, its integers fit in 64 bits (checked as they are parsed) and it nests
# at most 64 levels, so that both of HQ's stores can keep it as it came. In valid UTF-8 JSON
# only a \u escape can produce a NUL or a lone surrogate, and a line nests no deeper than its
# brackets: lines with neither (nearly all) need no walk.
MAX_ITEM_DEPTH = 64
_INT64 = range(-(2**63), 2**63)
_LONG_DIGITS = re.compile(rb"[0-9]{19,}")  # where an integer beyond 64 bits could be, at sealing


def _storable_problem(value: object, depth: int = 1) -> str | None:
    """Why a decoded value is not storable, or None (``depth``: the level of ``value``)."""
    if depth > MAX_ITEM_DEPTH and isinstance(value, dict | list):
        return f"nested more than {MAX_ITEM_DEPTH} levels deep"
    if isinstance(value, str):
        if "\x00" in value:
            return "text holds a NUL character"
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "text is not valid Unicode (a lone surrogate)"
    elif isinstance(value, int) and not isinstance(value, bool):
        if value not in _INT64:
            return "an integer does not fit in 64 bits"
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = _storable_problem(key, depth) or _storable_problem(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, list):
        for item in value:
            problem = _storable_problem(item, depth + 1)
            if problem:
                return problem
    return None


def _check_shape(line: bytes, number: int) -> int:
    """Refuse a line that is too long, too deep or has too many values; its node count."""
    if len(line) > MAX_LINE_BYTES:
        raise _bad_body(f"line {number} is longer than {MAX_LINE_BYTES} bytes")
    # Python's json has no depth limit and builds every value: measure before parsing.
    depth, nodes = nesting.shape(line, MAX_ITEM_DEPTH)
    if depth > MAX_ITEM_DEPTH:
        raise _bad_body(f"line {number}: nested more than {MAX_ITEM_DEPTH} levels deep")
    if nodes > MAX_LINE_NODES:
        raise _bad_body(f"line {number} holds more than {MAX_LINE_NODES} JSON values")
    return nodes


def _check_storable(line: bytes, item: object, number: int) -> None:
    if b"\\u" not in line and line.count(b"[") + line.count(b"{") <= MAX_ITEM_DEPTH:
        return
    problem = _storable_problem(item)
    if problem:
        raise _bad_body(f"line {number}: {problem}")


# -- the HQ encryption key -----------------------------------------------------------------


def generate_hq_encryption_key() -> tuple[bytes, bytes]:
    """A fresh HQ encryption key pair as ``(private 96 B, public 1216 B)``.

    private = ML-KEM-768 seed (64 B) ‖ X25519 private key (32 B);
    public = ML-KEM-768 encapsulation key (1184 B) ‖ X25519 public key (32 B).
    """
    kem = mlkem.MLKEM768PrivateKey.generate()
    dh = x25519.X25519PrivateKey.generate()
    private = kem.private_bytes_raw() + dh.private_bytes_raw()
    public = kem.public_key().public_bytes_raw() + dh.public_key().public_bytes_raw()
    return private, public


def _split_private(private96: bytes) -> tuple[mlkem.MLKEM768PrivateKey, x25519.X25519PrivateKey]:
    if not isinstance(private96, bytes | bytearray) or len(private96) != HQ_PRIVATE_BYTES:
        raise EnvelopeError("bad-key", f"an HQ private key is {HQ_PRIVATE_BYTES} bytes")
    try:
        kem = mlkem.MLKEM768PrivateKey.from_seed_bytes(bytes(private96[:MLKEM_SEED_BYTES]))
        dh = x25519.X25519PrivateKey.from_private_bytes(bytes(private96[MLKEM_SEED_BYTES:]))
    except ValueError as exc:
        raise EnvelopeError("bad-key", "not an HQ private key") from exc
    return kem, dh


def hq_private_key(private96: bytes) -> hpke.MLKEM768X25519PrivateKey:
    """The HPKE private key from its 96-byte form; ``bad-key`` if it is not one."""
    kem, dh = _split_private(private96)
    return hpke.MLKEM768X25519PrivateKey(kem, dh)


def hq_public_from_private(private96: bytes) -> bytes:
    """The 1216-byte public key belonging to a 96-byte HQ private key (``bad-key`` if none)."""
    kem, dh = _split_private(private96)
    return kem.public_key().public_bytes_raw() + dh.public_key().public_bytes_raw()


def hq_public_key(public1216: bytes) -> hpke.MLKEM768X25519PublicKey:
    """The HPKE public key from its 1216-byte form; ``bad-key`` if it is not one."""
    if not isinstance(public1216, bytes | bytearray) or len(public1216) != HQ_PUBLIC_BYTES:
        raise EnvelopeError("bad-key", f"an HQ public key is {HQ_PUBLIC_BYTES} bytes")
    try:
        kem = mlkem.MLKEM768PublicKey.from_public_bytes(bytes(public1216[:MLKEM_PUBLIC_BYTES]))
        dh = x25519.X25519PublicKey.from_public_bytes(bytes(public1216[MLKEM_PUBLIC_BYTES:]))
    except ValueError as exc:
        raise EnvelopeError("bad-key", "not an HQ public key") from exc
    return hpke.MLKEM768X25519PublicKey(kem, dh)


def hq_kid(public1216: bytes) -> str:
    """The key id: the first 16 hex characters of SHA-256 of the 1216-byte public key."""
    if not isinstance(public1216, bytes | bytearray) or len(public1216) != HQ_PUBLIC_BYTES:
        raise EnvelopeError("bad-key", f"an HQ public key is {HQ_PUBLIC_BYTES} bytes")
    return hashlib.sha256(public1216).hexdigest()[:16]


def _ed25519_public(raw: bytes) -> Ed25519PublicKey:
    if not isinstance(raw, bytes | bytearray) or len(raw) != ED25519_PUBLIC_BYTES:
        raise EnvelopeError("bad-key", f"an Ed25519 public key is {ED25519_PUBLIC_BYTES} bytes")
    return Ed25519PublicKey.from_public_bytes(bytes(raw))


# -- the header ----------------------------------------------------------------------------


def _malformed(detail: str) -> EnvelopeError:
    return EnvelopeError("malformed-envelope", detail)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _range(raw: object, name: str) -> tuple[int, int] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) != 2 or not all(_is_int(n) for n in raw):
        raise _malformed(f"header field {name} is [first, last] integers or null")
    first, last = raw
    if not 1 <= first <= last <= MAX_INT:
        raise _malformed(f"header field {name} needs 1 <= first <= last < 2**63")
    return first, last


def _utc_time(raw: object, name: str) -> str:
    if not isinstance(raw, str) or len(raw) > _MAX_TIME_CHARS:
        raise _malformed(f"header field {name} is an ISO 8601 time")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise _malformed(f"header field {name} is an ISO 8601 time") from exc
    if parsed.utcoffset() != timedelta(0):
        raise _malformed(f"header field {name} is in UTC, with its offset written")
    return raw


@dataclass(frozen=True, slots=True)
class BatchHeader:
    """The clear, signed header of a sealed batch (docs/PROTOCOL.md, "Header")."""

    device_id: str
    batch_id: str
    seq: int
    created_at: str
    hq_kid: str
    count: int
    outbox: tuple[int, int] | None
    audit: tuple[int, int] | None
    audit_head: str | None
    v: int = VERSION
    codec: str = CODEC

    def as_json(self) -> dict[str, object]:
        """The header as a JSON object (``outbox`` and ``audit`` as ``[first, last]``)."""
        return {
            "v": self.v,
            "device_id": self.device_id,
            "batch_id": self.batch_id,
            "seq": self.seq,
            "created_at": self.created_at,
            "hq_kid": self.hq_kid,
            "count": self.count,
            "codec": self.codec,
            "outbox": list(self.outbox) if self.outbox is not None else None,
            "audit": list(self.audit) if self.audit is not None else None,
            "audit_head": self.audit_head,
        }

    @classmethod
    def from_json(cls, raw: object) -> BatchHeader:
        """Read a header, strictly: exact keys, exact types; ``malformed-envelope`` otherwise."""
        if not isinstance(raw, dict):
            raise _malformed("the header is not a JSON object")
        keys = set(raw)
        if keys != _HEADER_KEYS:
            missing = sorted(_HEADER_KEYS - keys)
            extra = len(keys - _HEADER_KEYS)
            raise _malformed(f"header keys: missing {missing}, {extra} unknown")
        if not _is_int(raw["v"]) or raw["v"] != VERSION:
            raise _malformed(f"header field v must be {VERSION}")
        if raw["codec"] != CODEC:
            raise _malformed(f"header field codec must be {CODEC!r}")
        for name in ("device_id", "batch_id"):
            value = raw[name]
            if not isinstance(value, str) or not _UUID.fullmatch(value):
                raise _malformed(f"header field {name} is a lower-case UUID")
        seq = raw["seq"]
        if not _is_int(seq) or not 1 <= seq <= MAX_INT:
            raise _malformed("header field seq is an integer from 1")
        count = raw["count"]
        if not _is_int(count) or not 0 <= count <= MAX_ITEMS:
            raise _malformed(f"header field count is an integer from 0 to {MAX_ITEMS}")
        kid = raw["hq_kid"]
        if not isinstance(kid, str) or not _KID.fullmatch(kid):
            raise _malformed("header field hq_kid is 16 lower-case hex characters")
        created_at = _utc_time(raw["created_at"], "created_at")
        outbox = _range(raw["outbox"], "outbox")
        audit = _range(raw["audit"], "audit")
        head = raw["audit_head"]
        if head is not None and (not isinstance(head, str) or not _SHA256_HEX.fullmatch(head)):
            raise _malformed("header field audit_head is 64 lower-case hex characters or null")
        if (audit is None) != (head is None):
            raise _malformed("header fields audit and audit_head are both null or both set")
        return cls(
            device_id=raw["device_id"],
            batch_id=raw["batch_id"],
            seq=seq,
            created_at=created_at,
            hq_kid=kid,
            count=count,
            outbox=outbox,
            audit=audit,
            audit_head=head,
        )


def _header_bytes(header: BatchHeader) -> bytes:
    """The canonical header bytes after checking the header as a receiver would."""
    try:
        raw = header.as_json()
        checked = BatchHeader.from_json(raw)
        data = canonical(raw)
    except (TypeError, ValueError) as exc:
        raise _malformed("the header has fields of the wrong type") from exc
    if checked != header:
        raise _malformed("the header does not survive a round trip through JSON")
    return data


# -- the body ------------------------------------------------------------------------------


def _bad_body(detail: str) -> EnvelopeError:
    return EnvelopeError("malformed-body", detail)


def _json_lines(items: list[dict[str, object]]) -> bytes:
    for item in items:
        if not isinstance(item, dict):
            raise TypeError(f"body items are JSON objects, not {type(item).__name__}")
    return b"".join(canonical(item) + b"\n" for item in items)


def encode_body(items: list[dict[str, object]]) -> bytes:
    """The body: zlib (level 9) of canonical JSON Lines, a newline after each item."""
    return zlib.compress(_json_lines(items), 9)


# How much the inflater may produce per step: the limits are checked after every step, so no
# more than this is ever inflated beyond them.
_INFLATE_STEP = 256 * 1024


def _inflate(body: bytes, expected_count: int) -> bytes:
    """The inflated body, streamed so the limits hold before memory is spent.

    Refuses (``malformed-body``) as soon as the output passes :data:`MAX_BODY_BYTES`, a line
    grows past :data:`MAX_LINE_BYTES` or there are more lines than ``expected_count``.
    """
    inflater = zlib.decompressobj()
    text = bytearray()
    pending = body
    line_start = 0  # where the line being inflated begins
    lines = 0
    try:
        while not inflater.eof:
            chunk = inflater.decompress(pending, _INFLATE_STEP)
            pending = inflater.unconsumed_tail
            if not chunk and not pending:
                break  # the input ran out before the stream ended
            searched = len(text)
            text += chunk
            if len(text) > MAX_BODY_BYTES:
                raise _bad_body(f"the body inflates beyond {MAX_BODY_BYTES} bytes")
            while (end := text.find(b"\n", searched)) >= 0:
                lines += 1
                if end - line_start > MAX_LINE_BYTES:
                    raise _bad_body(f"line {lines} is longer than {MAX_LINE_BYTES} bytes")
                if lines > expected_count:
                    raise _bad_body(f"the body has more lines than the header's {expected_count}")
                line_start = searched = end + 1
            if len(text) - line_start > MAX_LINE_BYTES:
                raise _bad_body(f"line {lines + 1} is longer than {MAX_LINE_BYTES} bytes")
    except zlib.error as exc:
        raise _bad_body("the body is not a zlib stream") from exc
    if not inflater.eof:
        raise _bad_body("the zlib stream is truncated")
    if inflater.unused_data:
        raise _bad_body("bytes follow the end of the zlib stream")
    return bytes(text)


def decode_body(body: bytes, expected_count: int) -> list[dict[str, object]]:
    """The items of a body; ``malformed-body`` unless it is exactly what the protocol says.

    Inflation is streamed and stops at the limits (docs/PROTOCOL.md, "Limits"): the body at
    :data:`MAX_BODY_BYTES`, each line at :data:`MAX_LINE_BYTES`, ``expected_count`` lines.
    There must be exactly ``expected_count`` lines, each a JSON object ending with a newline,
    nested at most :data:`MAX_ITEM_DEPTH` levels, with at most :data:`MAX_LINE_NODES` values
    (:data:`MAX_BODY_NODES` in all), measured before it is parsed. Lines need not be canonical,
    but floats, NaN and duplicate keys are refused.
    """
    text = _inflate(bytes(body), expected_count)
    if not text:
        lines: list[bytes] = []
    elif text.endswith(b"\n"):
        lines = text[:-1].split(b"\n")
    else:
        raise _bad_body("the last line does not end with a newline")
    if len(lines) != expected_count:
        raise _bad_body(f"the body has {len(lines)} lines; the header says {expected_count}")
    nodes = 0
    for number, line in enumerate(lines, start=1):
        nodes += _check_shape(line, number)
        if nodes > MAX_BODY_NODES:
            raise _bad_body(f"the body holds more than {MAX_BODY_NODES} JSON values")
    items: list[dict[str, object]] = []
    for number, line in enumerate(lines, start=1):
        try:
            item = _loads(line.decode("utf-8"))
        except _Unstorable as exc:
            raise _bad_body(f"line {number}: {exc}") from None
        except (ValueError, RecursionError) as exc:
            raise _bad_body(f"line {number} is not strict UTF-8 JSON") from exc
        if not isinstance(item, dict):
            raise _bad_body(f"line {number} is not a JSON object")
        _check_storable(line, item, number)
        items.append(item)
    return items


# -- sealing and opening -------------------------------------------------------------------


def _signed_bytes(header_bytes: bytes, ciphertext: bytes) -> bytes:
    return header_bytes + hashlib.sha256(ciphertext).digest()


def seal_batch(
    header: BatchHeader,
    items: list[dict[str, object]],
    *,
    hq_public: bytes,
    device_key: Ed25519PrivateKey,
) -> bytes:
    """Seal items to HQ and sign them: the envelope bytes.

    Refuses, with the code HQ would answer, what HQ would refuse: an invalid header
    (``malformed-envelope``), ``len(items) != header.count`` or a line beyond the limits of
    docs/PROTOCOL.md, "Limits" (``malformed-body``), a body beyond them or a result over 4 MiB
    (``too-large``: cut a smaller batch);
    and an ``hq_public`` that is not the key ``header.hq_kid`` names (``bad-key``).
    """
    header_bytes = _header_bytes(header)
    if len(items) != header.count:
        raise _bad_body(f"{len(items)} items; the header says {header.count}")
    if hq_kid(hq_public) != header.hq_kid:
        raise EnvelopeError("bad-key", "hq_public is not the key header.hq_kid names")
    lines = _json_lines(items)
    # Over the body's limits as a whole, the batch is too large: the device cuts a smaller one.
    if len(lines) > MAX_BODY_BYTES:
        raise EnvelopeError("too-large", f"the body inflates beyond {MAX_BODY_BYTES} bytes")
    # HQ refuses a line it could not store as it came, or beyond a line's limits: refuse it
    # here, before it is sealed and would be resent, and refused, for ever.
    nodes = 0
    for number, (line, item) in enumerate(zip(lines.split(b"\n"), items, strict=False), 1):
        nodes += _check_shape(line, number)
        _check_storable(line, item, number)
        if any(len(digits) > 18 for digits in _LONG_DIGITS.findall(line)):
            problem = _storable_problem(item)
            if problem:
                raise _bad_body(f"line {number}: {problem}")
    if nodes > MAX_BODY_NODES:
        raise EnvelopeError("too-large", f"the body holds more than {MAX_BODY_NODES} JSON values")
    body = zlib.compress(lines, 9)
    ciphertext = SUITE.encrypt(
        body, hq_public_key(hq_public), info=BATCH_INFO_PREFIX + header_bytes
    )
    signature = device_key.sign(_signed_bytes(header_bytes, ciphertext))
    envelope = b"".join(
        (
            MAGIC,
            len(header_bytes).to_bytes(LENGTH_BYTES, "big"),
            header_bytes,
            signature,
            ciphertext,
        )
    )
    if len(envelope) > MAX_ENVELOPE_BYTES:
        raise EnvelopeError("too-large", f"the envelope is {len(envelope)} bytes")
    return envelope


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed, not yet verified envelope."""

    header: BatchHeader
    header_bytes: bytes
    signature: bytes
    ciphertext: bytes

    @property
    def ct_sha256(self) -> str:
        """Hex SHA-256 of the ciphertext: what the signature covers and the receipt names."""
        return hashlib.sha256(self.ciphertext).hexdigest()


def parse_envelope(data: bytes) -> Envelope:
    """Split and check an envelope without any key.

    ``too-large`` over 4 MiB; ``malformed-envelope`` for a wrong magic, a length pointing past
    the end, a ciphertext shorter than the encapsulated key and tag, and a header that is not
    exactly the canonical JSON of a valid :class:`BatchHeader`.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"an envelope is bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) > MAX_ENVELOPE_BYTES:
        raise EnvelopeError("too-large", f"the envelope is {len(data)} bytes")
    prefix = len(MAGIC) + LENGTH_BYTES
    if len(data) < prefix:
        raise _malformed("truncated before the header")
    if data[: len(MAGIC)] != MAGIC:
        raise _malformed("not a fieldkit batch (wrong magic)")
    header_end = _header_end(data)
    if header_end + SIGNATURE_BYTES + _MIN_CT_BYTES > len(data):
        raise _malformed("truncated: the header length points past the end")
    header_bytes = data[prefix:header_end]
    header = _read_header(header_bytes)
    signature_end = header_end + SIGNATURE_BYTES
    return Envelope(
        header=header,
        header_bytes=header_bytes,
        signature=data[header_end:signature_end],
        ciphertext=data[signature_end:],
    )


def _header_end(data: bytes) -> int:
    """Where the header ends, from the magic and length (the caller checks ``len(data)``)."""
    if data[: len(MAGIC)] != MAGIC:
        raise _malformed("not a fieldkit batch (wrong magic)")
    header_length = int.from_bytes(data[len(MAGIC) : len(MAGIC) + LENGTH_BYTES], "big")
    if header_length > MAX_HEADER_BYTES:
        raise _malformed(f"the header is longer than {MAX_HEADER_BYTES} bytes")
    return len(MAGIC) + LENGTH_BYTES + header_length


def _read_header(header_bytes: bytes) -> BatchHeader:
    """The header from its bytes: strict JSON, valid fields, canonical form."""
    if len(header_bytes) > MAX_HEADER_BYTES:
        raise _malformed(f"the header is longer than {MAX_HEADER_BYTES} bytes")
    try:
        raw = _loads(header_bytes.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise _malformed("the header is not strict UTF-8 JSON") from exc
    header = BatchHeader.from_json(raw)
    try:
        canonical_bytes = canonical(header.as_json())
    except (TypeError, ValueError) as exc:  # pragma: no cover - from_json admits no such value
        raise _malformed("the header cannot be made canonical") from exc
    if canonical_bytes != header_bytes:
        raise _malformed("the header is not in canonical form")
    return header


def peek_header(prefix: bytes) -> BatchHeader | None:
    """The header of an envelope from its first bytes, before the rest has arrived.

    None while ``prefix`` is too short to hold the whole header; ``malformed-envelope`` as
    soon as what it holds cannot begin an envelope. HQ uses it to refuse an unknown or revoked
    device before reading a body of up to 4 MiB; nothing in it is verified yet.
    """
    data = bytes(prefix)
    magic_and_length = len(MAGIC) + LENGTH_BYTES
    if not MAGIC.startswith(data[: len(MAGIC)]):
        raise _malformed("not a fieldkit batch (wrong magic)")
    if len(data) < magic_and_length:
        return None
    header_end = _header_end(data)
    if len(data) < header_end:
        return None
    return _read_header(data[magic_and_length:header_end])


def verify_signature(envelope: Envelope, device_public_key: bytes) -> None:
    """Check the device's signature over header ‖ SHA-256(ct); ``bad-signature`` otherwise.

    A ``device_public_key`` that is not 32 bytes is ``bad-key``.
    """
    public = _ed25519_public(device_public_key)
    try:
        public.verify(envelope.signature, _signed_bytes(envelope.header_bytes, envelope.ciphertext))
    except InvalidSignature as exc:
        raise EnvelopeError("bad-signature", "not signed by this device's key") from exc


def open_batch(envelope: Envelope, hq_private: bytes) -> list[dict[str, object]]:
    """Decrypt and decode the items; ``undecryptable``, then ``malformed-body``.

    The header's ``hq_kid`` must name ``hq_private``'s public key. Verify the signature first:
    this function does not.
    """
    kem, dh = _split_private(hq_private)
    public = kem.public_key().public_bytes_raw() + dh.public_key().public_bytes_raw()
    if hq_kid(public) != envelope.header.hq_kid:
        raise EnvelopeError("undecryptable", "sealed to another HQ key than the one given")
    try:
        body = SUITE.decrypt(
            envelope.ciphertext,
            hpke.MLKEM768X25519PrivateKey(kem, dh),
            info=BATCH_INFO_PREFIX + envelope.header_bytes,
        )
    except InvalidTag as exc:
        raise EnvelopeError(
            "undecryptable", "the ciphertext does not open under this key and header"
        ) from exc
    return decode_body(body, envelope.header.count)


# -- HQ-signed documents -------------------------------------------------------------------


def sign_document(document: dict[str, object], signing_key: Ed25519PrivateKey) -> dict[str, object]:
    """``{"document": document, "sig": b64(Ed25519 over canonical(document))}``."""
    if not isinstance(document, dict):
        raise TypeError(f"a signed document is a JSON object, not {type(document).__name__}")
    signature = signing_key.sign(canonical(document))
    return {"document": document, "sig": base64.b64encode(signature).decode("ascii")}


def verify_document(signed: object, signing_public_key: bytes) -> dict[str, object]:
    """The document inside ``signed`` once its signature checks out.

    Any problem with ``signed`` is ``bad-receipt``; a ``signing_public_key`` that is not
    32 bytes is ``bad-key``. The caller still checks the document's own fields.
    """
    public = _ed25519_public(signing_public_key)
    if not isinstance(signed, dict) or set(signed) != {"document", "sig"}:
        raise EnvelopeError("bad-receipt", 'a signed document is {"document": {…}, "sig": b64}')
    document, sig = signed["document"], signed["sig"]
    if not isinstance(document, dict):
        raise EnvelopeError("bad-receipt", "the document is not a JSON object")
    if not isinstance(sig, str):
        raise EnvelopeError("bad-receipt", "the signature is not base64 text")
    try:
        signature = base64.b64decode(sig.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise EnvelopeError("bad-receipt", "the signature is not base64") from exc
    if len(signature) != SIGNATURE_BYTES or base64.b64encode(signature).decode("ascii") != sig:
        raise EnvelopeError("bad-receipt", "the signature is not 64 bytes in padded base64")
    try:
        message = canonical(document)
    except (TypeError, ValueError, RecursionError) as exc:
        raise EnvelopeError("bad-receipt", "the document is not canonical JSON") from exc
    try:
        public.verify(signature, message)
    except InvalidSignature as exc:
        raise EnvelopeError("bad-receipt", "not signed by the HQ signing key") from exc
    return document


# -- the audit chain -----------------------------------------------------------------------


def audit_genesis(vault_id: str) -> bytes:
    """The hash a device's first audit entry chains from."""
    return hashlib.sha256(AUDIT_GENESIS_PREFIX + vault_id.encode("utf-8")).digest()


def audit_hash(prev_hash: bytes, item: dict[str, object]) -> bytes:
    """SHA-256(prev_hash ‖ canonical([seq, at, officer_id, action, subject, detail])).

    ``item`` is an audit item (its ``"t"`` key, if any, is ignored); one with missing or
    mistyped fields is ``malformed-body``.
    """
    try:
        fields = [item[k] for k in ("seq", "at", "officer_id", "action", "subject", "detail")]
    except (KeyError, TypeError) as exc:
        raise _bad_body("an audit item lacks one of its fields") from exc
    seq, at, officer_id, action, subject, detail = fields
    if not (
        _is_int(seq)
        and isinstance(at, str)
        and (officer_id is None or isinstance(officer_id, str))
        and isinstance(action, str)
        and (subject is None or isinstance(subject, str))
        and isinstance(detail, str)
    ):
        raise _bad_body("an audit item has a field of the wrong type")
    try:
        # The canonical JSON of a list of checked scalars: no walk needed (see canonical).
        body = _SCALARS.encode(fields).encode("utf-8")
    except ValueError as exc:
        raise _bad_body("an audit item holds text that is not valid Unicode") from exc
    return hashlib.sha256(bytes(prev_hash) + body).digest()
