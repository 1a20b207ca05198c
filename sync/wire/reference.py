"""The reference document's format: what HQ publishes to each device, both ends agree on.

HQ builds and signs it (:mod:`sync.hq.reference`); the device verifies and applies it
(:mod:`sync.device.reference`). docs/PROTOCOL.md ("Reference data") is the specification.
"""

from __future__ import annotations

import hashlib
import hmac
import re

DOCUMENT_TYPE = "reference"
VERSION = 1
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
        "watchlist",
        "rosters",
    }
)

_NIK = re.compile(r"[0-9]{16}")


def normalise_nik(raw: object) -> str | None:
    """A NIK as the watchlist digests it: 16 ASCII digits, white space removed; else None."""
    if not isinstance(raw, str):
        return None
    text = "".join(raw.split())
    return text if _NIK.fullmatch(text) else None


def watchlist_digest(key: bytes, nik: str) -> str:
    """HMAC-SHA256(watchlist key, NIK) in lower-case hex."""
    return hmac.new(key, nik.encode("ascii"), hashlib.sha256).hexdigest()
