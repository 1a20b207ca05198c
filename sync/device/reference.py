"""Reference data: what HQ publishes to each device, signed, and how the device applies it.

docs/PROTOCOL.md ("Reference data") is the specification. The first part of this module is
shared by both ends and pure: the device's signed request headers (for ``GET /v1/reference``
and ``GET /v1/devices/{device_id}/checkpoint``) and the watchlist digest. The second part is
the device's: :func:`apply_reference` verifies a signed reference document with the HQ signing
key pinned at enrollment, checks that it names this device and that its version does not go
backwards, and applies it in one vault transaction:

- HQ's current encryption key is pinned for future batches (it is accepted only inside a
  document signed by the pinned signing key);
- visits HQ assigned to this device land as ``visit`` and ``roster`` records (idempotent by id);
- visits HQ withdrew (``withdrawn``) get a new version in state ``withdrawn``, their roster
  entries too, audited once per visit as ``roster_withdrawn``; captured applicants are kept;
- the officers HQ revoked are kept in clear (:func:`fieldkit.vault.syncstate.revoked_officers`);
- the signed document is sealed in the vault under the data key, so the watchlist is never
  in clear on disk; :func:`watchlist_hit` reads it, and the vault's service takes the
  published fee schedules from it for new captures. Its roster entries are kept only as
  records (and purged with their visit): the stored copy holds their SHA-256 instead
  (:func:`kept_document`), so its signature is checked when it arrives, not later.

Format 2: the personal part (rosters, watchlist, withdrawals) arrives sealed to this device's
encryption key (``sealed``) and is opened with it only after HQ's signature over the sealed
form verified; a format-1 document (from an HQ of before this change) is refused. The watchlist
is truncated Argon2id tags (scheme ``argon2id-truncated``): a hit is only a *possible* match,
and an unknown scheme is ignored with a warning (no watchlist, never "no hit").

A document that says this device is revoked records the revocation (every later sync and
capture refuses, with HQ's reason) and drops the stored reference data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from fieldkit.domain.fees import parse_fee_schedules
from fieldkit.domain.findings import Lang, Message, error
from fieldkit.domain.roster import ENTRY_FIELDS
from fieldkit.vault import audit, db, syncstate
from fieldkit.vault.clock import now
from fieldkit.vault.errors import InvalidInput, ReferenceUnavailable
from fieldkit.vault.kinds import ROSTER, VISIT, WITHDRAWN
from fieldkit.vault.records import PURGED_STATE, Change
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.syncstate import Enrollment
from sync.device.errors import UntrustedReference
from sync.wire import envelope
from sync.wire.reference import (
    BITS_RANGE,
    DOCUMENT_KEYS,
    DOCUMENT_TYPE,
    ITERATIONS_RANGE,
    LANES_RANGE,
    LEGACY_VERSION,
    MEMORY_RANGE_KIB,
    SEALED_KEYS,
    VERSION,
    VISIT_FIELDS,
    WATCHLIST_SALT_BYTES,
    WATCHLIST_SCHEME,
    WatchlistParams,
    encryption_kid,
    false_positive_rate,
    normalise_nik,
    open_personal,
    watchlist_tag,
)

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_OFFICER_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")


# -- reading a signed document ---------------------------------------------------------------


def _refused(why_id: str, why_en: str) -> UntrustedReference:
    return UntrustedReference(
        Message(
            f"Data referensi dari HQ ditolak: {why_id}. Tidak ada yang diubah di laptop ini; "
            "laporkan ke HQ.",
            f"HQ's reference data was refused: {why_en}. Nothing was changed on this laptop; "
            "report it to HQ.",
        )
    )


def _malformed(where: str) -> UntrustedReference:
    return _refused(
        f"ditandatangani tetapi bentuknya salah ({where})",
        f"it is signed but malformed ({where})",
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(raw: dict[str, Any], key: str, where: str, *, optional: bool = False) -> Any:
    value = raw.get(key)
    if isinstance(value, str) or (optional and value is None):
        return value
    raise _malformed(f"{where}.{key}")


def _obj(raw: object, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _malformed(where)
    return raw


def _list(raw: object, where: str) -> list[Any]:
    if not isinstance(raw, list):
        raise _malformed(where)
    return raw


def _b64(raw: object, where: str, length: int | None = None) -> bytes:
    if not isinstance(raw, str):
        raise _malformed(where)
    try:
        value = base64.b64decode(raw.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise _malformed(where) from None
    if length is not None and len(value) != length:
        raise _malformed(where)
    return value


@dataclass(frozen=True, slots=True)
class RosterAssignment:
    """A visit HQ assigned to this device and its roster entries ``(id, data)``."""

    visit_id: str
    assigned_at: str
    visit: dict[str, Any]
    entries: tuple[tuple[str, dict[str, Any]], ...]


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A visit HQ had assigned to this device and took back, with HQ's reason."""

    visit_id: str
    reason: str
    withdrawn_at: str


@dataclass(frozen=True, slots=True)
class Reference:
    """A verified reference document, read into its parts."""

    version: int
    issued_at: str
    hq_kid: str
    hq_encryption_public_key: bytes
    revoked: tuple[str, str | None] | None
    revoked_officers: tuple[dict[str, Any], ...]
    fees: dict[str, Any] | None
    watchlist_size: int | None
    rosters: tuple[RosterAssignment, ...]
    withdrawn: tuple[Withdrawal, ...] = ()
    # The opened personal part as the vault keeps it (watchlist, withdrawn; rosters as records).
    personal: dict[str, Any] | None = None
    # Set when the watchlist came in a scheme this version does not know (it is then ignored).
    watchlist_warning: Message | None = None


def _keys(raw: object, pinned: Enrollment) -> tuple[str, bytes]:
    keys = _obj(raw, "hq_keys")
    signing = _obj(keys.get("signing"), "hq_keys.signing")
    if _b64(signing.get("public_key"), "hq_keys.signing.public_key") != (
        pinned.hq_signing_public_key
    ):
        raise _refused(
            "dokumen menyebut kunci tanda tangan HQ lain (penggantian kunci tanda tangan tidak "
            "didukung)",
            "it names another HQ signing key (signing-key rotation is not supported)",
        )
    encryption = _obj(keys.get("encryption"), "hq_keys.encryption")
    kid = _text(encryption, "kid", "hq_keys.encryption")
    public = _b64(encryption.get("public_key"), "hq_keys.encryption.public_key")
    try:
        envelope.hq_public_key(public)
        matches = envelope.hq_kid(public) == kid
    except envelope.EnvelopeError:
        matches = False
    if not matches:
        raise _malformed("hq_keys.encryption")
    return kid, public


def _revocation(raw: object) -> tuple[str, str | None] | None:
    if raw is None:
        return None
    revoked = _obj(raw, "revoked")
    return _text(revoked, "at", "revoked"), _text(revoked, "reason", "revoked", optional=True)


def _officers(raw: object) -> tuple[dict[str, Any], ...]:
    out = []
    for number, item in enumerate(_list(raw, "revoked_officers")):
        where = f"revoked_officers[{number}]"
        entry = _obj(item, where)
        officer_id = _text(entry, "officer_id", where)
        if not _OFFICER_ID.fullmatch(officer_id):
            raise _malformed(f"{where}.officer_id")
        out.append(
            {
                "officer_id": officer_id,
                "revoked_at": _text(entry, "revoked_at", where),
                "reason": _text(entry, "reason", where, optional=True),
            }
        )
    return tuple(out)


def _fees(raw: object) -> dict[str, Any] | None:
    if raw is None:
        return None
    fees = _obj(raw, "fees")
    checked = parse_fee_schedules(fees.get("data"))
    if not checked.ok:
        raise _malformed("fees.data")
    return fees


def _in(value: object, bounds: tuple[int, int]) -> bool:
    return _is_int(value) and bounds[0] <= value <= bounds[1]  # type: ignore[operator]


def _watchlist(raw: object) -> tuple[dict[str, Any] | None, Message | None]:
    """The watchlist to keep (checked), or None; and a warning when its scheme is unknown."""
    if raw is None:
        return None, None
    watchlist = _obj(raw, "watchlist")
    if watchlist.get("scheme") != WATCHLIST_SCHEME:
        return None, Message(
            "Daftar cekal dari HQ memakai skema yang tidak dikenal versi fieldkit ini; daftar "
            "itu diabaikan dan NIK tidak dapat diperiksa di laptop ini. Perbarui fieldkit.",
            "HQ's watchlist uses a scheme this version of fieldkit does not know; it was "
            "ignored and NIKs cannot be checked on this laptop. Update fieldkit.",
        )
    _b64(watchlist.get("salt"), "watchlist.salt", WATCHLIST_SALT_BYTES)
    lanes = watchlist.get("lanes")
    if not (
        _in(watchlist.get("bits"), BITS_RANGE)
        and _in(watchlist.get("iterations"), ITERATIONS_RANGE)
        and _in(lanes, LANES_RANGE)
        and _in(watchlist.get("memory_kib"), MEMORY_RANGE_KIB)
        and watchlist["memory_kib"] >= 8 * lanes  # type: ignore[operator]
        and _is_int(watchlist.get("entries"))
    ):
        raise _malformed("watchlist parameters")
    tags = _list(watchlist.get("tags"), "watchlist.tags")
    top = 2 ** watchlist["bits"]
    if not all(_is_int(t) and 0 <= t < top for t in tags) or tags != sorted(set(tags)):
        raise _malformed("watchlist.tags")
    return watchlist, None


def _rosters(raw: object) -> tuple[RosterAssignment, ...]:
    out = []
    for number, item in enumerate(_list(raw, "rosters")):
        where = f"rosters[{number}]"
        assignment = _obj(item, where)
        visit_id = _text(assignment, "visit_id", where)
        if not _UUID.fullmatch(visit_id):
            raise _malformed(f"{where}.visit_id")
        visit = _obj(assignment.get("visit"), f"{where}.visit")
        if set(visit) != set(VISIT_FIELDS) or not all(
            isinstance(visit[k], str | None) for k in VISIT_FIELDS
        ):
            raise _malformed(f"{where}.visit")
        entries = []
        for index, entry_raw in enumerate(_list(assignment.get("entries"), f"{where}.entries")):
            at = f"{where}.entries[{index}]"
            entry = _obj(entry_raw, at)
            entry_id = _text(entry, "id", at)
            data = _obj(entry.get("data"), f"{at}.data")
            if not _UUID.fullmatch(entry_id) or not set(ENTRY_FIELDS) <= set(data):
                raise _malformed(at)
            entries.append((entry_id, data))
        out.append(
            RosterAssignment(
                visit_id, _text(assignment, "assigned_at", where), visit, tuple(entries)
            )
        )
    return tuple(out)


def _withdrawn(raw: object) -> tuple[Withdrawal, ...]:
    """``withdrawn`` is optional: HQ sends it only when it withdrew a visit from this device."""
    if raw is None:
        return ()
    out = []
    for number, item in enumerate(_list(raw, "withdrawn")):
        where = f"withdrawn[{number}]"
        entry = _obj(item, where)
        visit_id = _text(entry, "visit_id", where)
        if not _UUID.fullmatch(visit_id):
            raise _malformed(f"{where}.visit_id")
        out.append(
            Withdrawal(visit_id, _text(entry, "reason", where), _text(entry, "withdrawn_at", where))
        )
    return tuple(out)


def _sealed(document: dict[str, Any], encryption_key: tuple[bytes, bytes] | None) -> dict[str, Any]:
    """The opened personal part (empty when HQ sealed nothing: it holds no key of ours)."""
    sealed = document["sealed"]
    if sealed is None:
        return {"rosters": [], "watchlist": None, "withdrawn": []}
    sealed = _obj(sealed, "sealed")
    if encryption_key is None or sealed.get("kid") != encryption_kid(encryption_key[0]):
        raise _refused(
            "bagian pribadinya disegel untuk kunci yang tidak dimiliki laptop ini",
            "its personal part is sealed to a key this laptop does not hold",
        )
    try:
        opened = json.loads(
            open_personal(
                sealed, encryption_key[1], document["device_id"], document["version"]
            ).decode("utf-8")
        )
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _refused(
            "bagian pribadinya tidak terbuka dengan kunci perangkat ini",
            "its personal part does not open with this device's key",
        ) from None
    if not isinstance(opened, dict) or set(opened) != SEALED_KEYS:
        raise _malformed("sealed")
    return opened


def read_reference(
    payload: object,
    pinned: Enrollment,
    device_id: str,
    encryption_key: tuple[bytes, bytes] | None = None,
) -> Reference:
    """Verify a signed reference document with the pinned HQ key and read it (nothing applied).

    ``encryption_key`` is the device's ``(public, private)`` pair that opens the sealed part.
    Raises :class:`UntrustedReference` when the signature does not verify, when the document
    is not a version-2 reference document for ``device_id`` signed with the pinned key's kid,
    when its sealed part is not for this device's key or does not open, or when any part is
    malformed. Keys a device does not know are ignored.
    """
    try:
        document = envelope.verify_document(payload, pinned.hq_signing_public_key)
    except envelope.EnvelopeError as exc:
        raise _refused(
            f"tanda tangan HQ tidak sah ({exc.detail}); jaringan ini mungkin disadap",
            f"HQ's signature does not verify ({exc.detail}); this network may be tampered with",
        ) from exc
    if document.get("type") == DOCUMENT_TYPE and document.get("v") == LEGACY_VERSION:
        raise _refused(
            "HQ mengirim format versi 1, yang daftar cekalnya dapat dibongkar dari laptop; "
            "HQ perlu diperbarui",
            "HQ sent format version 1, whose watchlist can be recovered from a laptop; HQ "
            "needs to be upgraded",
        )
    missing = sorted(DOCUMENT_KEYS - set(document))
    if missing:
        raise _malformed(f"missing {', '.join(missing)}")
    if document["type"] != DOCUMENT_TYPE or document["v"] != VERSION:
        raise _malformed("type or v")
    if document["device_id"] != device_id:
        raise _refused(
            f"dokumen untuk perangkat lain ({document['device_id']})",
            f"it is for another device ({document['device_id']})",
        )
    signing_kid = hashlib.sha256(pinned.hq_signing_public_key).hexdigest()[:16]
    if document["hq_signing_kid"] != signing_kid:
        raise _malformed("hq_signing_kid")
    version = document["version"]
    if not _is_int(version) or not 0 <= version <= envelope.MAX_INT:
        raise _malformed("version")
    issued_at = _text(document, "issued_at", "document")
    kid, public = _keys(document["hq_keys"], pinned)
    _list(document["revoked_devices"], "revoked_devices")
    personal = _sealed(document, encryption_key)
    watchlist, warning = _watchlist(personal["watchlist"])
    rosters = _rosters(personal["rosters"])
    withdrawn = _withdrawn(personal["withdrawn"])
    return Reference(
        version=version,
        issued_at=issued_at,
        hq_kid=kid,
        hq_encryption_public_key=public,
        revoked=_revocation(document["revoked"]),
        revoked_officers=_officers(document["revoked_officers"]),
        fees=_fees(document["fees"]),
        watchlist_size=watchlist["entries"] if watchlist is not None else None,
        rosters=rosters,
        withdrawn=withdrawn,
        personal={**personal, "watchlist": watchlist},
        watchlist_warning=warning,
    )


# -- applying it -----------------------------------------------------------------------------


@dataclass(slots=True)
class ReferenceOutcome:
    """What applying one reference document did."""

    version: int
    previous_version: int | None
    new: bool
    hq_kid: str | None = None
    visits_added: int = 0
    entries_added: int = 0
    visits_withdrawn: int = 0
    revoked_officers: int = 0
    fees: bool = False
    watchlist: int | None = None
    device_revoked: Message | None = None
    # A watchlist in a scheme this version does not know was ignored.
    watchlist_warning: Message | None = None

    def summary(self) -> Message:
        """One line for the officer."""
        if self.device_revoked is not None:
            return self.device_revoked
        parts_id = [f"versi {self.version}" + (" (baru)" if self.new else "")]
        parts_en = [f"version {self.version}" + (" (new)" if self.new else "")]
        if self.visits_added or self.entries_added:
            parts_id.append(f"{self.visits_added} kunjungan, {self.entries_added} pemohon")
            parts_en.append(f"{self.visits_added} visits, {self.entries_added} roster entries")
        if self.visits_withdrawn:
            parts_id.append(f"{self.visits_withdrawn} kunjungan ditarik HQ")
            parts_en.append(f"{self.visits_withdrawn} visits withdrawn by HQ")
        if self.hq_kid:
            parts_id.append(f"kunci HQ baru {self.hq_kid}")
            parts_en.append(f"new HQ key {self.hq_kid}")
        warning = self.watchlist_warning
        return Message(
            "Data referensi HQ diterapkan: "
            + "; ".join(parts_id)
            + "."
            + (f" {warning.id}" if warning else ""),
            "HQ's reference data applied: "
            + "; ".join(parts_en)
            + "."
            + (f" {warning.en}" if warning else ""),
        )

    def as_json(self, lang: Lang) -> dict[str, object]:
        """The outcome as JSON, messages in ``lang``."""
        return {
            "version": self.version,
            "previous_version": self.previous_version,
            "new": self.new,
            "hq_kid": self.hq_kid,
            "visits_added": self.visits_added,
            "entries_added": self.entries_added,
            "visits_withdrawn": self.visits_withdrawn,
            "revoked_officers": self.revoked_officers,
            "fees": self.fees,
            "watchlist": self.watchlist,
            "device_revoked": self.device_revoked.text(lang) if self.device_revoked else None,
            "watchlist_warning": self.watchlist_warning.text(lang)
            if self.watchlist_warning
            else None,
            "message": self.summary().text(lang),
        }


def kept_document(document: dict[str, Any], reference: Reference) -> dict[str, Any]:
    """The document as the vault keeps it: opened, the roster entries replaced by their SHA-256.

    The sealed part is replaced by what it held (watchlist and withdrawals: the whole stored
    copy is sealed under the data key). Assigned rosters are kept only as records, sealed under
    their visit's key, so purging a visit leaves no copy of its applicants in the stored
    reference data. Deterministic for a given content, although every sealing differs.
    """
    personal = reference.personal or {"rosters": [], "watchlist": None, "withdrawn": []}
    kept = {k: v for k, v in document.items() if k != "sealed"}
    kept["watchlist"] = personal["watchlist"]
    kept["withdrawn"] = personal["withdrawn"]
    kept["rosters_sha256"] = hashlib.sha256(envelope.canonical(personal["rosters"])).hexdigest()
    return kept


def _without_issue_time(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "issued_at"}


def _check_version(
    session: UnlockedVault, reference: Reference, document: dict[str, Any]
) -> int | None:
    state = syncstate.reference_state(session.vault)
    if state is None:
        return None
    if reference.version < state.version:
        raise _refused(
            f"versi {reference.version} lebih lama dari versi {state.version} yang sudah ada "
            "di laptop ini",
            f"version {reference.version} is older than version {state.version}, which this "
            "laptop already holds",
        )
    if reference.version == state.version:
        held = syncstate.reference_document(session)
        kept = kept_document(document, reference)
        if held is not None and _without_issue_time(held) != _without_issue_time(kept):
            raise _refused(
                f"versi {reference.version} dengan isi lain dari yang sudah ada di laptop ini",
                f"version {reference.version} with other contents than this laptop holds",
            )
    return state.version


def _apply_rosters(session: UnlockedVault, reference: Reference, at: str) -> tuple[int, int]:
    visits = entries = 0
    conn = session.conn
    known_visits = syncstate.existing_ids(conn, VISIT, [r.visit_id for r in reference.rosters])
    for assignment in reference.rosters:
        changes: list[Change] = []
        if assignment.visit_id not in known_visits:
            changes.append(
                Change(VISIT, assignment.visit_id, assignment.visit, "planned", assignment.visit_id)
            )
        ids = [entry_id for entry_id, _ in assignment.entries]
        known = syncstate.existing_ids(conn, ROSTER, ids)
        new_entries = [
            Change(ROSTER, entry_id, data, "expected", assignment.visit_id)
            for entry_id, data in assignment.entries
            if entry_id not in known
        ]
        changes.extend(new_entries)
        if not changes:
            continue
        visits += assignment.visit_id not in known_visits
        entries += len(new_entries)
        session.write_in_transaction(
            changes,
            action="roster_assigned",
            at=at,
            summary=(
                f"visit:{assignment.visit_id}",
                {"source": "hq", "reference_version": reference.version},
            ),
        )
    return visits, entries


def _held_visit_state(session: UnlockedVault, visit_id: str) -> str | None:
    """The state of the newest version of a visit on this laptop, or None if it holds none."""
    row = session.conn.execute(
        "SELECT state FROM records WHERE kind = ? AND id = ?", (VISIT, visit_id)
    ).fetchone()
    return str(row[0]) if row is not None else None


def _withdraw_visit(session: UnlockedVault, withdrawal: Withdrawal, version: int, at: str) -> bool:
    """Mark one held visit and its roster entries withdrawn (one audit entry); False if not.

    Visits this laptop never held, already withdrawn or purged are left alone; applicants are
    never touched (they are officer work and still sync).
    """
    if _held_visit_state(session, withdrawal.visit_id) in (None, WITHDRAWN, PURGED_STATE):
        return False
    held = session.read(VISIT, withdrawal.visit_id)
    marked = {
        **held.data,
        "withdrawal": {
            "reason": withdrawal.reason,
            "withdrawn_at": withdrawal.withdrawn_at,
            "reference_version": version,
        },
    }
    changes = [Change(VISIT, held.id, marked, WITHDRAWN, held.id, held.version)]
    changes.extend(
        Change(ROSTER, entry.id, entry.data, WITHDRAWN, held.id, entry.version)
        for entry in session.latest(ROSTER, held.id)
        if entry.state != WITHDRAWN
    )
    session.write_in_transaction(
        changes,
        action="roster_withdrawn",
        at=at,
        summary=(
            f"visit:{held.id}",
            {"source": "hq", "reason": withdrawal.reason, "reference_version": version},
        ),
    )
    return True


def _apply_withdrawals(session: UnlockedVault, reference: Reference, at: str) -> int:
    """Apply HQ's withdrawals in the caller's transaction; how many visits were withdrawn now."""
    return sum(
        _withdraw_visit(session, withdrawal, reference.version, at)
        for withdrawal in reference.withdrawn
    )


def apply_reference(session: UnlockedVault, payload: object) -> ReferenceOutcome:
    """Verify and apply a signed reference document from HQ, all or nothing.

    Raises :class:`UntrustedReference` (exit code 3; nothing changes) for a bad signature,
    another device's document, a malformed one, a version older than the one stored, or the
    stored version with other contents; :class:`~fieldkit.vault.errors.ReferenceUnavailable`
    when the device has no pinned HQ key to verify it with.
    """
    vault = session.vault
    pinned = syncstate.enrollment(vault)
    if pinned is None:
        raise ReferenceUnavailable(
            Message(
                "Perangkat ini belum terdaftar di HQ; data referensi tidak dapat diperiksa.",
                "This device is not enrolled with HQ; reference data cannot be verified.",
            )
        )
    reference = read_reference(
        payload, pinned, vault.device_id, syncstate.device_encryption_key(session)
    )
    document: dict[str, Any] = payload["document"]  # type: ignore[index]
    previous = _check_version(session, reference, document)
    outcome = ReferenceOutcome(
        version=reference.version,
        previous_version=previous,
        new=previous is None or reference.version > previous,
        revoked_officers=len(reference.revoked_officers),
        fees=reference.fees is not None,
        watchlist=reference.watchlist_size,
        watchlist_warning=reference.watchlist_warning,
    )
    subject = f"device:{vault.device_id}"
    conn = session.conn
    if reference.revoked is not None:
        revoked_at, reason = reference.revoked
        with db.transaction(conn):
            syncstate.record_device_revocation(conn, revoked_at, reason, reference.version)
            syncstate.save_revoked_officers(conn, list(reference.revoked_officers))
            syncstate.drop_reference(conn)
            audit.append(
                conn,
                vault.vault_id,
                session.officer_id,
                "device_revoked",
                subject,
                {"version": reference.version, "revoked_at": revoked_at, "reason": reason},
            )
            session.seal_settings()  # last: the MAC binds the audit head
        vault.reload_meta()
        revocation = syncstate.device_revocation(vault)
        outcome.device_revoked = revocation.message if revocation else None
        return outcome
    at = now()
    with db.transaction(conn):
        outcome.visits_added, outcome.entries_added = _apply_rosters(session, reference, at)
        outcome.visits_withdrawn = _apply_withdrawals(session, reference, at)
        if reference.hq_kid != pinned.hq_kid:
            syncstate.pin_encryption_key(conn, reference.hq_kid, reference.hq_encryption_public_key)
            outcome.hq_kid = reference.hq_kid
        syncstate.save_revoked_officers(conn, list(reference.revoked_officers))
        kept = {
            "document": kept_document(document, reference),
            "sig": payload["sig"],  # type: ignore[index]
        }
        syncstate.store_reference(session, kept, reference.version, reference.issued_at)
        if (
            outcome.new
            or outcome.hq_kid
            or outcome.visits_added
            or outcome.entries_added
            or (outcome.visits_withdrawn)
        ):
            audit.append(
                conn,
                vault.vault_id,
                session.officer_id,
                "reference_applied",
                subject,
                {
                    "version": reference.version,
                    "previous_version": previous,
                    "hq_kid": reference.hq_kid,
                    "previous_hq_kid": pinned.hq_kid if outcome.hq_kid else None,
                    "visits_added": outcome.visits_added,
                    "entries_added": outcome.entries_added,
                    "visits_withdrawn": outcome.visits_withdrawn,
                    "revoked_officers": outcome.revoked_officers,
                    "fees": outcome.fees,
                    "watchlist": outcome.watchlist,
                },
            )
        session.seal_settings()  # last: the MAC binds the audit head
    vault.reload_meta()
    return outcome


# -- the watchlist -----------------------------------------------------------------------------


def _no_watchlist() -> ReferenceUnavailable:
    return ReferenceUnavailable(
        Message(
            "Belum ada daftar cekal dari HQ di laptop ini; NIK tidak diperiksa. Jalankan "
            "'fieldkit sync' (atau 'fieldkit sync reference') saat ada jaringan.",
            "There is no watchlist from HQ on this laptop yet; the NIK was not checked. Run "
            "'fieldkit sync' (or 'fieldkit sync reference') when there is a network.",
        )
    )


def _old_watchlist() -> ReferenceUnavailable:
    return ReferenceUnavailable(
        Message(
            "Daftar cekal di laptop ini masih bentuk lama yang tidak lagi dipakai; NIK tidak "
            "diperiksa. Jalankan 'fieldkit sync' saat ada jaringan untuk mengambil yang baru.",
            "The watchlist on this laptop is in the old form, no longer used; the NIK was not "
            "checked. Run 'fieldkit sync' when there is a network to fetch the new one.",
        )
    )


@dataclass(frozen=True, slots=True)
class WatchlistAnswer:
    """A watchlist check on this device: at most a *possible* match.

    ``false_positive_rate`` is the chance that a NIK not on HQ's list still matches here
    (distinct stored values / 2**bits): a possible match is referred to a supervisor, and HQ
    re-screens every applicant it receives against its full list.
    """

    possible_match: bool
    false_positive_rate: float
    entries: int


def watchlist_hit(session: UnlockedVault, nik: str) -> WatchlistAnswer:
    """Check ``nik`` against HQ's travel-ban watchlist as this device holds it.

    Only the truncated Argon2id tag of ``nik`` is compared (tens of ms); the list is never
    shown. Raises :class:`~fieldkit.vault.errors.InvalidInput` for a NIK that is not 16
    digits, and :class:`~fieldkit.vault.errors.ReferenceUnavailable` when no watchlist is
    stored or only one in the old format-1 form (a missing list is never taken as "no hit").
    """
    number = normalise_nik(nik)
    if number is None:
        raise InvalidInput(
            Message("NIK tidak sah; tidak ada yang diperiksa.", "Invalid NIK; nothing checked."),
            [
                (
                    0,
                    error(
                        "watchlist.nik",
                        "nik",
                        "NIK harus 16 angka.",
                        "A NIK is 16 digits.",
                    ),
                )
            ],
        )
    document = syncstate.reference_document(session)
    watchlist = document.get("watchlist") if document else None
    if not isinstance(watchlist, dict):
        raise _no_watchlist()
    if document.get("v") != VERSION or watchlist.get("scheme") != WATCHLIST_SCHEME:  # type: ignore[union-attr]
        raise _old_watchlist()
    params = WatchlistParams(
        memory_kib=int(watchlist["memory_kib"]),
        iterations=int(watchlist["iterations"]),
        lanes=int(watchlist["lanes"]),
        bits=int(watchlist["bits"]),
    )
    tags = watchlist["tags"]
    salt = base64.b64decode(str(watchlist["salt"]))
    possible = watchlist_tag(number, salt, params) in set(tags)
    return WatchlistAnswer(
        possible, false_positive_rate(len(tags), params.bits), int(watchlist["entries"])
    )
