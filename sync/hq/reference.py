"""HQ's reference data: what it publishes, how it checks what it is given, and the signed answer.

``GET /v1/reference`` (docs/PROTOCOL.md, "Reference data") answers an enrolled device that
proves itself with a signature by its device key over the request and the time; the answer is a
document signed with HQ's signing key holding, for that device: the visits and roster entries
assigned to it, the published fee schedules, the watchlist in its weak device form (truncated
Argon2id tags: :mod:`sync.hq.screening`), the revoked devices and officers, HQ's current
public keys, and the visits HQ withdrew from it. Format version 2: what is personal (rosters,
watchlist, withdrawals) is sealed to the device's encryption key (``sealed``), and HQ signs
over the sealed form. A device offers that key, signed by its device key, in two headers of
its request (:func:`offered_encryption_key`); HQ keeps the first it is offered. A device HQ
holds no encryption key for gets ``sealed: null`` (nothing personal). A revoked device gets a
document that says so, without rosters, fees, watchlist or withdrawals.

The operator commands (``fieldkit-hq roster assign``, ``roster withdraw``, ``fees publish``,
``watchlist import``, ``officer revoke``) check their input here before the store records it;
every change raises the reference version (:func:`sync.hq.store.bump_reference`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.engine import Engine

from fieldkit.domain.applications import may_serve
from fieldkit.domain.calendar import VisitSession, check_visit_plan
from fieldkit.domain.dates import parse_iso_date
from fieldkit.domain.fees import parse_fee_schedules
from fieldkit.domain.findings import Checked, Finding, error, warning
from fieldkit.domain.identifiers import check_booking_code, check_person_name, check_phone
from fieldkit.domain.ids import new_id, new_ids
from fieldkit.domain.nik import parse_nik
from fieldkit.domain.roster import ENTRY_FIELDS
from sync.hq import screening, store
from sync.hq.ingest import HttpProblem
from sync.hq.keys import HQKeys
from sync.wire import envelope
from sync.wire.reference import (
    DOCUMENT_TYPE,
    ENCRYPTION_KEY_HEADER,
    ENCRYPTION_KEY_SIGNATURE_HEADER,
    VERSION,
    VISIT_FIELDS,
    normalise_nik,
    seal_personal,
    verify_encryption_key,
)
from sync.wire.requests import (
    DEVICE_HEADER,
    MAX_CLOCK_SKEW,
    SIGNATURE_HEADER,
    TIME_HEADER,
    request_message,
)

ROSTER_FILE_KEYS = frozenset({"visit", "entries"})
ENTRY_KEYS = frozenset(
    {
        "name",
        "birth_date",
        "nik",
        "application_type",
        "phone",
        "booking_code",
        "booking_date",
        "session",
    }
)
REQUIRED_ENTRY_KEYS = ("name", "birth_date", "nik", "application_type")
MAX_ENTRIES = 5000
_MAX_TIME_CHARS = 40


# --- the request -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credentials:
    """A device's claim to be itself: its id, the time it signed, and the signature."""

    device_id: str
    at: str
    signature: bytes


def _unauthenticated(detail: str) -> HttpProblem:
    return HttpProblem("unauthenticated", detail, 401)


def credentials(headers: Mapping[str, str], clock: datetime | None = None) -> Credentials:
    """Read the three ``Fieldkit-*`` headers and check the time against HQ's clock (±10 min).

    ``unauthenticated`` (401) for missing or malformed headers, ``clock-skew`` (401) for a time
    too far from HQ's; the signature is checked by :func:`verify_request` once the device is
    known (``GET /v1/reference`` and ``GET /v1/devices/{device_id}/checkpoint`` both use these).
    """
    device_id = headers.get(DEVICE_HEADER, "")
    at = headers.get(TIME_HEADER, "")
    encoded = headers.get(SIGNATURE_HEADER, "")
    if not device_id or not at or not encoded:
        raise _unauthenticated(
            f"Send {DEVICE_HEADER}, {TIME_HEADER} and {SIGNATURE_HEADER} (docs/PROTOCOL.md)."
        )
    if len(device_id) != 36 or device_id.lower() != device_id:
        raise _unauthenticated(f"{DEVICE_HEADER} must be the device's lower-case UUID.")
    try:
        signature = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise _unauthenticated(f"{SIGNATURE_HEADER} is not base64.") from None
    if len(signature) != envelope.SIGNATURE_BYTES:
        raise _unauthenticated(f"{SIGNATURE_HEADER} is not a 64-byte Ed25519 signature.")
    try:
        if len(at) > _MAX_TIME_CHARS:
            raise ValueError
        signed_at = datetime.fromisoformat(at)
        if signed_at.utcoffset() is None:
            raise ValueError
    except ValueError:
        raise _unauthenticated(f"{TIME_HEADER} must be an ISO 8601 time with its offset.") from None
    moment = clock or store.now()
    skew = abs(signed_at - moment)
    if skew > MAX_CLOCK_SKEW:
        raise HttpProblem(
            "clock-skew",
            f"The request was signed at {at}, {int(skew.total_seconds() // 60)} min from HQ's "
            f"clock ({store.iso(moment)}); the limit is {int(MAX_CLOCK_SKEW.total_seconds()) // 60}"
            " min. Check the laptop's date and time.",
            401,
        )
    return Credentials(device_id, at, signature)


def verify_request(
    device: store.Device, creds: Credentials, path: str, method: str = "GET"
) -> None:
    """Check that ``device``'s enrolled key signed ``method``, ``path``, its id and the time.

    ``bad-signature`` (401) otherwise. ``path`` is the endpoint's own path (docs/PROTOCOL.md),
    so headers signed for one endpoint, or for another device's path, open nothing else.
    """
    try:
        Ed25519PublicKey.from_public_bytes(device.public_key).verify(
            creds.signature, request_message(method, path, creds.device_id, creds.at)
        )
    except (InvalidSignature, ValueError):
        raise HttpProblem("bad-signature", "Not signed by this device's key.", 401) from None


# --- the document ----------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _iso(moment: datetime | None) -> str | None:
    return store.iso(moment) if moment is not None else None


def document_for(
    snapshot: store.ReferenceSnapshot, device: store.Device, keys: HQKeys, issued_at: datetime
) -> dict[str, object]:
    """The (unsigned) reference document for ``device``."""
    revoked = (
        {"at": store.iso(device.revoked_at), "reason": device.revoke_reason}
        if device.revoked_at is not None
        else None
    )
    document: dict[str, object] = {
        "type": DOCUMENT_TYPE,
        "v": VERSION,
        "device_id": device.device_id,
        "version": snapshot.version,
        "issued_at": store.iso(issued_at),
        "hq_signing_kid": keys.signing_kid,
        "hq_keys": {
            "encryption": {"kid": keys.current.kid, "public_key": _b64(keys.current.public)},
            "signing": {"kid": keys.signing_kid, "public_key": _b64(keys.signing_public)},
        },
        "revoked": revoked,
        "revoked_devices": [
            {
                "device_id": d.device_id,
                "revoked_at": store.iso(d.revoked_at),  # type: ignore[arg-type]
                "reason": d.revoke_reason,
            }
            for d in snapshot.revoked_devices
        ],
        "revoked_officers": [
            {
                "officer_id": o["officer_id"],
                "revoked_at": store.iso(o["revoked_at"]),
                "reason": o["reason"],
            }
            for o in snapshot.revoked_officers
        ],
        "fees": None,
        "sealed": None,
    }
    if revoked is not None:
        return document
    if snapshot.fees is not None:
        document["fees"] = {
            "published_at": _iso(snapshot.fees_published_at),
            "data": snapshot.fees,
        }
    if device.encryption_public_key is not None:
        personal = {
            "watchlist": screening.device_watchlist(
                snapshot.watchlist_publication, snapshot.watchlist_updated_at
            ),
            "rosters": [
                {
                    "visit_id": r["visit_id"],
                    "assigned_at": store.iso(r["assigned_at"]),
                    "visit": r["visit"],
                    "entries": r["entries"],
                }
                for r in snapshot.rosters
            ],
            "withdrawn": _withdrawn(snapshot),
        }
        document["sealed"] = seal_personal(
            personal, device.encryption_public_key, device.device_id, snapshot.version
        )
    return document


def _withdrawn(snapshot: store.ReferenceSnapshot) -> list[dict[str, object]]:
    """The visits assigned to this device and withdrawn since, oldest withdrawal first."""
    return [
        {
            "visit_id": r["visit_id"],
            "reason": r["withdraw_reason"],
            "withdrawn_at": store.iso(r["withdrawn_at"]),
        }
        for r in snapshot.withdrawn
    ]


def offered_encryption_key(headers: Mapping[str, str], device: store.Device) -> bytes | None:
    """The encryption key the device offers in its request's headers, verified, or None.

    ``invalid-encryption-key`` (422) when the headers are there but the key is not a 1216-byte
    ML-KEM-768 + X25519 key signed by this device's key (a device of before format 2 sends
    neither header and gets None).
    """
    encoded = headers.get(ENCRYPTION_KEY_HEADER)
    signature = headers.get(ENCRYPTION_KEY_SIGNATURE_HEADER)
    if encoded is None and signature is None:
        return None
    try:
        return verify_encryption_key(
            device.public_key, device.device_id, encoded or "", signature or ""
        )
    except ValueError:
        raise HttpProblem(
            "invalid-encryption-key",
            f"{ENCRYPTION_KEY_HEADER} must be this device's ML-KEM-768 + X25519 public key in "
            f"base64 and {ENCRYPTION_KEY_SIGNATURE_HEADER} its device key's signature over it "
            "(docs/PROTOCOL.md).",
            422,
        ) from None


def register_offered_key(engine: Engine, device: store.Device, offered: bytes | None) -> None:
    """Keep the first encryption key a device offers.

    ``encryption-key-conflict`` (409) for another one than HQ holds: keys are never replaced
    silently (re-enroll the device).
    """
    if offered is None or device.revoked:
        return
    try:
        store.register_encryption_key(engine, device.device_id, offered)
    except store.EncryptionKeyConflict:
        raise HttpProblem(
            "encryption-key-conflict",
            f"Device {device.device_id} offered another encryption key than the one HQ holds "
            "for it; HQ keeps the first. Re-enroll the device.",
            409,
        ) from None


def answer(
    engine: Engine, keys: HQKeys, device_id: str, offered: bytes | None = None
) -> dict[str, object]:
    """The signed reference document for an enrolled device whose request signature verified.

    ``offered`` is the encryption key from the request (:func:`offered_encryption_key`),
    registered first if HQ holds none for the device. ``keys-changing`` (503, retried by
    devices) from a worker that has not restarted since HQ's encryption key was rotated; a
    revoked device gets the signed news of its revocation (so it stops working), not an error.
    """
    if offered is not None:
        with store.reading(engine) as conn:
            known = store.get_device(conn, device_id)
        if known is not None:
            register_offered_key(engine, known, offered)
    with store.reading(engine, snapshot=True) as conn:
        # Read again inside the snapshot: the document's "revoked" must agree with its version.
        device = store.get_device(conn, device_id)
        if device is None:
            raise HttpProblem("unknown-device", f"Device {device_id} is not enrolled.", 403)
        snapshot = store.reference_snapshot(conn, device_id)
    if snapshot.hq_kid is not None and snapshot.hq_kid != keys.current_kid:
        # A worker still running with keys from before a rotation (a rolling restart): its
        # answer would carry a version whose content another worker answers differently.
        raise HttpProblem(
            "keys-changing", "HQ's keys changed and this worker has not restarted yet.", 503
        )
    document = document_for(snapshot, device, keys, store.now())
    return envelope.sign_document(document, keys.signing_key)


# --- what operators give HQ ------------------------------------------------------------------


def check_fees(raw: object) -> Checked[dict[str, Any]]:
    """Fee schedules to publish, checked with :func:`fieldkit.domain.fees.parse_fee_schedules`.

    Warnings (unknown keys) are kept; the data must also be canonical JSON (no floats).
    """
    checked = parse_fee_schedules(raw)
    if not checked.ok:
        return Checked.invalid(*checked.findings)
    try:
        envelope.canonical(raw)
    except (TypeError, ValueError):
        return Checked.invalid(
            error(
                "fee.data.json",
                "fees",
                "Data tarif memuat nilai yang bukan teks, bilangan bulat atau daftar.",
                "The fee data holds a value that is not text, a whole number or a list.",
            )
        )
    return Checked.of(dict(raw), checked.findings)  # type: ignore[call-overload]


@dataclass(frozen=True, slots=True)
class WatchlistFile:
    """The NIKs of a watchlist file (deduplicated) and the numbers of its unusable lines."""

    niks: list[str]
    bad_lines: list[int]


def read_watchlist(text: str) -> WatchlistFile:
    """One NIK a line; blank lines and ``#`` comments are skipped; white space is ignored."""
    niks: dict[str, None] = {}
    bad: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        nik = normalise_nik(stripped)
        if nik is None:
            bad.append(number)
        else:
            niks[nik] = None
    return WatchlistFile(list(niks), bad)


def _numbered(number: int, findings: tuple[Finding, ...]) -> list[tuple[int, Finding]]:
    return [(number, f) for f in findings]


def _entry(
    raw: object, number: int, plan: Any, today: date
) -> tuple[dict[str, object] | None, list[tuple[int, Finding]]]:
    if not isinstance(raw, Mapping):
        return None, [
            (number, error("roster.entry", "entry", "Harus objek JSON.", "Must be a JSON object."))
        ]
    found: list[Finding] = []
    unknown = sorted(str(k)[:40] for k in raw if k not in ENTRY_KEYS)
    if unknown:
        found.append(
            error(
                "roster.unknown_field",
                unknown[0],
                f"Kolom tidak dikenal: {', '.join(unknown)}.",
                f"Unknown field(s): {', '.join(unknown)}.",
            )
        )
    for key in REQUIRED_ENTRY_KEYS:
        if raw.get(key) in (None, ""):
            found.append(error("roster.missing", key, f"{key} wajib diisi.", f"{key} is required."))
    data: dict[str, object] = dict.fromkeys(ENTRY_FIELDS)

    def take(checked: Checked[Any]) -> Any:
        found.extend(checked.findings)
        return checked.value

    born = None
    if raw.get("name") not in (None, ""):
        data["name"] = take(check_person_name(raw["name"], "name"))
    if raw.get("birth_date") not in (None, ""):
        born = parse_iso_date(raw["birth_date"])
        if born is None or born > today:
            found.append(
                error(
                    "roster.birth_date",
                    "birth_date",
                    "Tanggal lahir harus tanggal YYYY-MM-DD yang sudah lewat.",
                    "The birth date must be a past YYYY-MM-DD date.",
                )
            )
            born = None
        else:
            data["birth_date"] = born.isoformat()
    if raw.get("nik") not in (None, ""):
        if not isinstance(raw["nik"], str):
            found.append(
                error("roster.nik_text", "nik", "NIK harus teks.", "The NIK must be text.")
            )
        else:
            nik = take(parse_nik(raw["nik"], stated_birth_date=born, today=today, field="nik"))
            data["nik"] = nik.number if nik is not None else None
    if raw.get("application_type") not in (None, ""):
        served = take(may_serve(raw["application_type"], plan.kind))
        data["application_type"] = served.value if served is not None else None
    if raw.get("phone") not in (None, ""):
        data["phone"] = take(check_phone(raw["phone"], "phone"))
    if raw.get("booking_code") not in (None, ""):
        data["booking_code"] = take(check_booking_code(raw["booking_code"], "booking_code"))
    if raw.get("booking_date") not in (None, ""):
        booked = parse_iso_date(raw["booking_date"])
        if booked != plan.on:
            found.append(
                error(
                    "roster.other_day",
                    "booking_date",
                    "Tanggal booking bukan tanggal kunjungan.",
                    "The booking date is not the visit's date.",
                )
            )
        else:
            data["booking_date"] = booked.isoformat()
    if raw.get("session") not in (None, ""):
        word = raw["session"]
        try:
            chosen = VisitSession(word) if isinstance(word, str) else None
        except ValueError:
            chosen = None
        if chosen is None:
            found.append(
                error(
                    "roster.session",
                    "session",
                    "Sesi harus pagi atau siang.",
                    "The session must be pagi or siang.",
                )
            )
        else:
            if chosen is not plan.session:
                found.append(
                    warning(
                        "roster.other_session",
                        "session",
                        "Booking ini untuk sesi lain.",
                        "This booking is for the other session.",
                    )
                )
            data["session"] = chosen.value
    if any(f.is_error for f in found):
        return None, [(number, f) for f in found]
    data["source"] = "hq"
    data["row"] = number
    data["warnings"] = [f.code for f in found]
    return data, [(number, f) for f in found]


@dataclass(frozen=True, slots=True)
class RosterFile:
    """A checked visit and its roster entries, normalised, with ids, ready to assign."""

    visit_id: str
    visit: dict[str, object]
    entries: list[dict[str, object]]
    warnings: list[tuple[int, Finding]]


def check_roster_file(
    raw: object, today: date | None = None
) -> tuple[RosterFile | None, list[tuple[int, Finding]]]:
    """Check ``{"visit": {…}, "entries": [{…}, …]}`` with the domain rules.

    The visit takes ``kind``, ``date``, ``session``, ``site``, ``coordinator_name`` and
    ``coordinator_phone`` (as ``fieldkit visit create``); each entry ``name``, ``birth_date``,
    ``nik``, ``application_type`` (``new`` or ``expired``) and optionally ``phone``,
    ``booking_code``, ``booking_date`` and ``session``. Entries become roster entries in the
    shape the device's roster import stores (``source`` ``hq``, ``row`` = the entry's number).
    Findings are numbered by entry (0 for the visit or the file). Nothing is returned unless
    every part is valid.
    """
    today = today or datetime.now(UTC).date()
    if not isinstance(raw, Mapping) or set(raw) != ROSTER_FILE_KEYS:
        return None, [
            (
                0,
                error(
                    "roster.file",
                    "file",
                    'Berkas harus {"visit": {…}, "entries": […]}.',
                    'The file must be {"visit": {…}, "entries": […]}.',
                ),
            )
        ]
    visit_raw = raw["visit"]
    if not isinstance(visit_raw, Mapping) or not set(visit_raw) <= set(VISIT_FIELDS):
        return None, [
            (
                0,
                error(
                    "roster.visit",
                    "visit",
                    f"visit hanya boleh memuat {', '.join(VISIT_FIELDS)}.",
                    f"visit may hold only {', '.join(VISIT_FIELDS)}.",
                ),
            )
        ]
    checked = check_visit_plan(
        visit_raw.get("kind"),
        visit_raw.get("date"),
        visit_raw.get("session"),
        visit_raw.get("site"),
        visit_raw.get("coordinator_name"),
        visit_raw.get("coordinator_phone"),
    )
    if checked.value is None or not checked.ok:
        return None, _numbered(0, checked.findings)
    plan = checked.value
    entries_raw = raw["entries"]
    if not isinstance(entries_raw, list) or not 1 <= len(entries_raw) <= MAX_ENTRIES:
        return None, [
            (
                0,
                error(
                    "roster.entries",
                    "entries",
                    f"entries harus daftar berisi 1 sampai {MAX_ENTRIES} pemohon.",
                    f"entries must be a list of 1 to {MAX_ENTRIES} applicants.",
                ),
            )
        ]
    findings = _numbered(0, checked.findings)
    entries: list[dict[str, object]] = []
    seen: dict[tuple[str, object], int] = {}
    failed = False
    for number, item in enumerate(entries_raw, start=1):
        data, found = _entry(item, number, plan, today)
        for key in ("nik", "booking_code"):
            value = data.get(key) if data else None
            if value is None:
                continue
            first = seen.setdefault((key, value), number)
            if first != number:
                found.append(
                    (
                        number,
                        error(
                            "roster.duplicate",
                            key,
                            f"{key} sama dengan pemohon #{first}.",
                            f"The same {key} as applicant #{first}.",
                        ),
                    )
                )
                data = None
        findings.extend(found)
        if data is None:
            failed = True
        else:
            entries.append(data)
    if failed:
        return None, findings
    visit: dict[str, object] = plan.as_data()
    ids = new_ids(len(entries))
    with_ids = [{"id": i, "data": d} for i, d in zip(ids, entries, strict=True)]
    return RosterFile(new_id(), visit, with_ids, [f for f in findings if not f[1].is_error]), []
