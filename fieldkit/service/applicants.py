"""Applicants: capture them at a visit, show one (audited), its history, find by NIK."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from fieldkit.domain.applicant import check_applicant
from fieldkit.domain.findings import Message
from fieldkit.domain.ids import new_ids
from fieldkit.service.session import OfficerSession
from fieldkit.service.visits import invalid, open_visit_record
from fieldkit.vault.errors import NotFound
from fieldkit.vault.kinds import APPLICANT
from fieldkit.vault.records import Change, Record


@dataclass(frozen=True, slots=True)
class Fee:
    """The fee quoted at capture: the regulation it follows and the total in rupiah."""

    regulation: str
    total: int


@dataclass(frozen=True, slots=True)
class Applicant:
    """One version of an applicant's record, as an officer sees it.

    ``fields`` holds every stored field in the order of docs/applicant-json.md (read-only);
    the attributes name the ones the counter works with.
    """

    id: str
    version: int
    visit_id: str
    state: str
    officer_id: str
    at: str
    name: str
    nik: str
    application_type: str
    fee: Fee | None
    fields: Mapping[str, object]

    def as_json(self) -> dict[str, object]:
        """The version as ``fieldkit applicant show --json`` prints it."""
        return {
            "applicant_id": self.id,
            "version": self.version,
            "visit_id": self.visit_id,
            "state": self.state,
            "officer_id": self.officer_id,
            "at": self.at,
            "data": dict(self.fields),
        }


def applicant_of(record: Record) -> Applicant:
    """What the application layer shows of one stored applicant version."""
    data = record.data
    fee = data.get("fee")
    return Applicant(
        id=record.id,
        version=record.version,
        visit_id=str(record.visit_id),
        state=record.state,
        officer_id=record.officer_id,
        at=record.at,
        name=str(data.get("name", "")),
        nik=str(data.get("nik", "")),
        application_type=str(data.get("application_type", "")),
        fee=Fee(str(fee["regulation"]), int(fee["total"])) if isinstance(fee, dict) else None,
        fields=MappingProxyType(dict(data)),
    )


def add_applicants(
    session: OfficerSession,
    visit_id: str,
    raw_applicants: Sequence[object],
    on: date | None = None,
) -> list[str]:
    """Capture applicants at a visit as one action; all valid or nothing stored.

    Findings carry the 1-based position of the applicant they concern. Fees are quoted with
    the schedules HQ published in its reference data when the vault holds them, else with the
    packaged ones (read once per reference version, see
    :meth:`OfficerSession.fee_schedules`). Refused on a device HQ has revoked and for a visit HQ
    withdrew (:class:`~fieldkit.vault.errors.VisitWithdrawn`).
    """
    plan = open_visit_record(session, visit_id)
    on = on or date.today()
    schedules = session.fee_schedules()
    checked = [
        check_applicant(raw, on=on, visit_kind=str(plan.data["kind"]), schedules=schedules)
        for raw in raw_applicants
    ]
    problems = [(i, f) for i, c in enumerate(checked, start=1) for f in c.errors]
    if problems:
        raise invalid(problems)
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
    session.unlocked.write(changes, action="applicant_created")
    return [change.id for change in changes]


def show_applicant(
    session: OfficerSession, applicant_id: str, version: int | None = None
) -> Applicant:
    """Decrypt an applicant for display; every view is audited."""
    unlocked = session.unlocked
    record = unlocked.read(APPLICANT, applicant_id, version)
    unlocked.note("applicant_viewed", f"{APPLICANT}:{applicant_id}", {"version": record.version})
    return applicant_of(record)


def applicant_history(session: OfficerSession, applicant_id: str) -> list[Applicant]:
    """Every version of an applicant, oldest first; audited as a view."""
    unlocked = session.unlocked
    versions = unlocked.history(APPLICANT, applicant_id)
    if not versions:
        raise NotFound(
            Message(f"Pemohon {applicant_id} tidak ditemukan.", f"No applicant {applicant_id}.")
        )
    unlocked.note("applicant_history_viewed", f"{APPLICANT}:{applicant_id}")
    return [applicant_of(r) for r in versions]


def find_by_nik(session: OfficerSession, nik: str) -> list[tuple[str, str]]:
    """``(kind, id)`` of applicants and roster entries with this NIK (no decryption)."""
    return session.unlocked.find("nik", nik)
