"""What officers do with the vault, in domain words: plan visits, capture and show applicants.

The CLI and the field app call these functions; none of them shows SQL to a caller. Every
input passes the domain rules first; invalid input raises :class:`InvalidInput` with all the
findings and stores nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from fieldkit.domain.applicant import check_applicant
from fieldkit.domain.calendar import check_visit_plan
from fieldkit.domain.findings import Finding, Message
from fieldkit.domain.ids import new_id, new_ids
from fieldkit.vault import syncstate
from fieldkit.vault.errors import InvalidInput, NotFound, VisitWithdrawn
from fieldkit.vault.records import Change, Record
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.vault import Vault

VISIT = "visit"
APPLICANT = "applicant"
ROSTER = "roster"
# The state HQ's withdrawal gives a visit and its roster entries (sync/device/reference.py).
WITHDRAWN = "withdrawn"


def _invalid(findings: list[tuple[int, Finding]]) -> InvalidInput:
    return InvalidInput(
        Message(
            "Data tidak sah; tidak ada yang disimpan. Perbaiki isian berikut.",
            "The input is invalid; nothing was stored. Fix the fields below.",
        ),
        findings,  # type: ignore[arg-type]
    )


def create_visit(
    session: UnlockedVault,
    *,
    kind: object,
    on: object,
    session_name: object,
    site: object,
    coordinator_name: object = None,
    coordinator_phone: object = None,
) -> str:
    """Plan a visit; return its id. Refused on a device HQ has revoked."""
    syncstate.require_active_device(session.vault)
    checked = check_visit_plan(kind, on, session_name, site, coordinator_name, coordinator_phone)
    if checked.value is None or not checked.ok:
        raise _invalid([(0, f) for f in checked.errors])
    plan = checked.value
    visit_id = new_id()
    data = {
        "kind": plan.kind.value,
        "date": plan.on.isoformat(),
        "session": plan.session.value,
        "site": plan.site,
        "coordinator_name": plan.coordinator_name,
        "coordinator_phone": plan.coordinator_phone,
    }
    session.write([Change(VISIT, visit_id, data, "planned", visit_id)], action="visit_created")
    return visit_id


def visits(session: UnlockedVault) -> list[Record]:
    """Every visit, oldest first."""
    return session.latest(VISIT)


def visit(session: UnlockedVault, visit_id: str) -> Record:
    """One visit, or NotFound."""
    return session.read(VISIT, visit_id)


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """HQ took this visit back: when (HQ's time) and why (HQ's words)."""

    reason: str
    withdrawn_at: str


def withdrawal(record: Record) -> Withdrawal | None:
    """How HQ withdrew the visit ``record``, or None while it is not withdrawn."""
    if record.state != WITHDRAWN:
        return None
    raw = record.data.get("withdrawal")
    held = raw if isinstance(raw, dict) else {}
    reason = str(held.get("reason") or "").rstrip(".") or "tanpa alasan / no reason given"
    return Withdrawal(reason, str(held.get("withdrawn_at") or "-"))


def withdrawn_message(visit_id: str, withdrawn: Withdrawal) -> Message:
    """What an officer reads about a withdrawn visit."""
    return Message(
        f"Kunjungan {visit_id} ditarik oleh HQ pada {withdrawn.withdrawn_at}: {withdrawn.reason}.",
        f"Visit {visit_id} was withdrawn by HQ at {withdrawn.withdrawn_at}: {withdrawn.reason}.",
    )


def require_open_visit(record: Record) -> None:
    """Raise :class:`VisitWithdrawn` when HQ withdrew the visit: no new captures into it."""
    withdrawn = withdrawal(record)
    if withdrawn is None:
        return
    told = withdrawn_message(record.id, withdrawn)
    raise VisitWithdrawn(
        Message(
            f"{told.id.rstrip('.')}. Pemohon baru tidak dapat dicatat di kunjungan ini; "
            "pemohon yang sudah dicatat tetap tersimpan dan tetap dikirim ke HQ.",
            f"{told.en.rstrip('.')}. New applicants cannot be captured into it; applicants "
            "already captured are kept and still sent to HQ.",
        )
    )


def add_applicants(
    session: UnlockedVault, visit_id: str, raw_applicants: Sequence[object], on: date | None = None
) -> list[str]:
    """Capture applicants at a visit as one action; all valid or nothing stored.

    Findings carry the 1-based position of the applicant they concern. Fees are quoted with
    the schedules HQ published in its reference data when the vault holds them, else with the
    packaged ones. Refused on a device HQ has revoked and for a visit HQ withdrew
    (:class:`VisitWithdrawn`).
    """
    syncstate.require_active_device(session.vault)
    plan = visit(session, visit_id)
    require_open_visit(plan)
    on = on or date.today()
    schedules = syncstate.published_fee_schedules(session)
    checked = [
        check_applicant(raw, on=on, visit_kind=str(plan.data["kind"]), schedules=schedules)
        for raw in raw_applicants
    ]
    problems = [(i, f) for i, c in enumerate(checked, start=1) for f in c.errors]
    if problems:
        raise _invalid(problems)
    changes = [
        Change(
            APPLICANT,
            applicant_id,
            {
                **c.value,  # type: ignore[dict-item]
                "documents_seen": [],
                "payment": None,
                "biometrics_ref": None,
                "decision": None,
                "notes": "",
            },
            "captured",
            visit_id,
        )
        for c, applicant_id in zip(checked, new_ids(len(checked)), strict=True)
    ]
    session.write(changes, action="applicant_created")
    return [change.id for change in changes]


def show_applicant(session: UnlockedVault, applicant_id: str, version: int | None = None) -> Record:
    """Decrypt an applicant for display; every view is audited."""
    record = session.read(APPLICANT, applicant_id, version)
    session.note("applicant_viewed", f"{APPLICANT}:{applicant_id}", {"version": record.version})
    return record


def applicant_history(session: UnlockedVault, applicant_id: str) -> list[Record]:
    """Every version of an applicant, oldest first; audited as a view."""
    versions = session.history(APPLICANT, applicant_id)
    if not versions:
        raise NotFound(
            Message(f"Pemohon {applicant_id} tidak ditemukan.", f"No applicant {applicant_id}.")
        )
    session.note("applicant_history_viewed", f"{APPLICANT}:{applicant_id}")
    return versions


def find_by_nik(session: UnlockedVault, nik: str) -> list[tuple[str, str]]:
    """``(kind, id)`` of applicants and roster entries with this NIK (no decryption)."""
    return session.find("nik", nik)


@dataclass(frozen=True, slots=True)
class Status:
    """What the laptop holds: counts by visit, kind and state, and the outbox depth."""

    counts: list[tuple[str | None, str, str, int]]
    outbox_depth: int


def status(vault: Vault) -> Status:
    """Counts without decrypting anything: no passphrase needed."""
    return Status(vault.counts(), vault.outbox_depth())
