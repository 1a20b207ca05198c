"""The reference document's format: what HQ publishes to each device, both ends agree on.

HQ builds and signs it (:mod:`sync.hq.reference`); the device verifies and applies it
(:mod:`sync.device.reference`). docs/PROTOCOL.md ("Reference data") is the specification.

Version 2 (this module) differs from version 1 in two ways:

- what is personal (the rosters, the watchlist material and the withdrawals) travels sealed to
  the device's own encryption key (``sealed``: HPKE base mode with the batches' suite,
  ML-KEM-768 + X25519, HKDF-SHA256, AES-256-GCM); HQ signs the document over the sealed form,
  so the signature is checked before anything is opened;
- the watchlist is no longer HMAC digests beside their key (anyone holding a laptop's reference
  data could brute-force the structured NIK space in seconds) but the first ``bits`` bits of a
  deliberately slow Argon2id hash under a per-publication salt (scheme
  :data:`WATCHLIST_SCHEME`): a check costs tens of milliseconds and each stored value stands
  for a great many possible NIKs, so a device hit is only a *possible* match and HQ re-screens
  every applicant it receives against its full list (:mod:`sync.hq.screening`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from sync.wire import envelope

DOCUMENT_TYPE = "reference"
VERSION = 2
# The format a device of before this change understands; a new device refuses it.
LEGACY_VERSION = 1
WATCHLIST_KEY_BYTES = 32
# A visit as HQ assigns it; a roster entry holds fieldkit.domain.roster.ENTRY_FIELDS.
VISIT_FIELDS = ("kind", "date", "session", "site", "coordinator_name", "coordinator_phone")
DOCUMENT_KEYS = frozenset(
    {
        "type",
        "v",
        "device_id",
        "version",
        "issued_at",
        "hq_signing_kid",
        "hq_keys",
        "revoked",
        "revoked_devices",
        "revoked_officers",
        "fees",
        "sealed",
    }
)
# What the sealed part holds once opened (always all three).
SEALED_KEYS = frozenset({"rosters", "watchlist", "withdrawn"})
SEALED_INFO_PREFIX = b"fieldkit/v2/reference|"
ENCRYPTION_KEY_LABEL = "fieldkit/v1/device-encryption-key"
# The headers of GET /v1/reference by which a device registers its encryption key.
ENCRYPTION_KEY_HEADER = "Fieldkit-Encryption-Key"
ENCRYPTION_KEY_SIGNATURE_HEADER = "Fieldkit-Encryption-Key-Signature"

# -- the watchlist (scheme "argon2id-truncated") -----------------------------------------------

WATCHLIST_SCHEME = "argon2id-truncated"
WATCHLIST_SALT_BYTES = 16
WATCHLIST_AD = b"fieldkit/v2/watchlist"
# OWASP's first Argon2id configuration (19 MiB, 2 passes, 1 lane): about 60 ms a check on the
# reference laptop (docs/BENCHMARKS.md, "Watchlist"), and memory-hard, which blunts GPUs.
DEFAULT_MEMORY_KIB = 19 * 1024
DEFAULT_ITERATIONS = 2
DEFAULT_LANES = 1
# Truncation: at least 16 bits (each stored value then stands for ~220 NIKs of one region and a
# two-year birth window), more only to keep a device's false-positive rate near TARGET_FPR.
MIN_BITS = 16
MAX_BITS = 20
TARGET_FPR = 0.02
# What a device accepts from a signed document (bounds, so a bug at HQ cannot hang a laptop).
BITS_RANGE = (4, 32)
MEMORY_RANGE_KIB = (8, 1024 * 1024)
ITERATIONS_RANGE = (1, 16)
LANES_RANGE = (1, 16)

_NIK = re.compile(r"[0-9]{16}")


def normalise_nik(raw: object) -> str | None:
    """A NIK as the watchlist hashes it: 16 ASCII digits, white space removed; else None."""
    if not isinstance(raw, str):
        return None
    text = "".join(raw.split())
    return text if _NIK.fullmatch(text) else None


def watchlist_digest(key: bytes, nik: str) -> str:
    """HMAC-SHA256(key, NIK) in lower-case hex (scheme 1; now HQ's own screening digest)."""
    return hmac.new(key, nik.encode("ascii"), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class WatchlistParams:
    """The Argon2id cost and the truncation of one watchlist publication (signed by HQ)."""

    memory_kib: int = DEFAULT_MEMORY_KIB
    iterations: int = DEFAULT_ITERATIONS
    lanes: int = DEFAULT_LANES
    bits: int = MIN_BITS

    def as_dict(self) -> dict[str, int]:
        """The parameters as the document carries them."""
        return {
            "memory_kib": self.memory_kib,
            "iterations": self.iterations,
            "lanes": self.lanes,
            "bits": self.bits,
        }


def bits_for(entries: int) -> int:
    """The truncation for a list of ``entries`` NIKs.

    The fewest bits in [16, 20] that keep a non-listed NIK's chance of a device hit (about
    ``entries / 2**bits``) at or below 2 %.
    """
    bits = MIN_BITS
    while bits < MAX_BITS and entries / 2**bits > TARGET_FPR:
        bits += 1
    return bits


def watchlist_tag(nik: str, salt: bytes, params: WatchlistParams) -> int:
    """The first ``params.bits`` bits of Argon2id(NIK, salt) as an integer."""
    digest = Argon2id(
        salt=salt,
        length=32,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
        ad=WATCHLIST_AD,
    ).derive(nik.encode("ascii"))
    return int.from_bytes(digest[:4], "big") >> (32 - params.bits)


def watchlist_tags(niks: Iterable[str], salt: bytes, params: WatchlistParams) -> list[int]:
    """The sorted distinct tags of ``niks``.

    Hashed in parallel threads: Argon2id releases the GIL, and HQ pays one slow hash per
    listed NIK at every publication.
    """
    with ThreadPoolExecutor() as pool:
        tags = pool.map(lambda nik: watchlist_tag(nik, salt, params), list(niks))
        return sorted(set(tags))


def false_positive_rate(tags: int, bits: int) -> float:
    """The chance that a NIK not on the list still gives a device hit: ``tags / 2**bits``."""
    return tags / 2**bits


# -- the sealed part -----------------------------------------------------------------------------


def encryption_kid(public: bytes) -> str:
    """A device encryption key's id: like HQ's, SHA-256 of the 1216-byte public key, 16 hex."""
    return envelope.hq_kid(public)


def _sealed_info(device_id: str, version: int, kid: str) -> bytes:
    return SEALED_INFO_PREFIX + envelope.canonical([device_id, version, kid])


def seal_personal(
    personal: dict[str, object], device_public: bytes, device_id: str, version: int
) -> dict[str, str]:
    """``{"kid", "ct"}``: the canonical JSON of ``personal`` sealed to the device's key.

    The HPKE info binds the device and the reference version, so a sealed part cannot be moved
    into another device's or another version's document (the signature covers it as well).
    """
    kid = encryption_kid(device_public)
    ct = envelope.SUITE.encrypt(
        envelope.canonical(personal),
        envelope.hq_public_key(device_public),
        info=_sealed_info(device_id, version, kid),
    )
    return {"kid": kid, "ct": base64.b64encode(ct).decode("ascii")}


def open_personal(
    sealed: dict[str, object], device_private: bytes, device_id: str, version: int
) -> bytes:
    """The canonical JSON sealed by :func:`seal_personal`; ``ValueError`` if it does not open."""
    kid, ct = sealed.get("kid"), sealed.get("ct")
    if not isinstance(kid, str) or not isinstance(ct, str):
        raise ValueError("the sealed part is not {kid, ct}")
    try:
        raw = base64.b64decode(ct.encode("ascii"), validate=True)
        return envelope.SUITE.decrypt(
            raw, envelope.hq_private_key(device_private), info=_sealed_info(device_id, version, kid)
        )
    except Exception as exc:  # HPKE, base64 and key errors all mean "not for this key"
        raise ValueError("the sealed part does not open with this device's key") from exc


def encryption_key_message(device_id: str, public: bytes) -> bytes:
    """What the device signs to register its encryption key with HQ."""
    return envelope.canonical([ENCRYPTION_KEY_LABEL, device_id, hashlib.sha256(public).hexdigest()])


def encryption_key_headers(
    signing_key: Ed25519PrivateKey, device_id: str, public: bytes
) -> dict[str, str]:
    """The two headers by which a device offers HQ its encryption key, signed by its device key."""
    signature = signing_key.sign(encryption_key_message(device_id, public))
    return {
        ENCRYPTION_KEY_HEADER: base64.b64encode(public).decode("ascii"),
        ENCRYPTION_KEY_SIGNATURE_HEADER: base64.b64encode(signature).decode("ascii"),
    }


def verify_encryption_key(
    device_public_key: bytes, device_id: str, encoded: str, encoded_signature: str
) -> bytes:
    """The offered encryption public key once the device's signature over it checks out.

    ``ValueError`` when either header is not base64, the key is not a 1216-byte ML-KEM-768 +
    X25519 public key or the signature is not the device's.
    """
    try:
        public = base64.b64decode(encoded.encode("ascii"), validate=True)
        signature = base64.b64decode(encoded_signature.encode("ascii"), validate=True)
        envelope.hq_public_key(public)
        Ed25519PublicKey.from_public_bytes(device_public_key).verify(
            signature, encryption_key_message(device_id, public)
        )
    except Exception as exc:  # base64, key shape, InvalidSignature: all "not a valid offer"
        raise ValueError("not an encryption key signed by this device") from exc
    return public
