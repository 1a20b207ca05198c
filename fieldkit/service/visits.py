"""Visits: plan one, list them, read one, open it on site; the rules on which visit takes what.

A visit is planned, then opened on site (:func:`open_visit`), then closed when a supervisor
approves its summary (:mod:`fieldkit.service.closing`); HQ may withdraw it at any time. Only an
open visit takes arrivals and counter work (:func:`require_open_visit`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fieldkit.domain.calendar import VisitKind, VisitSession, check_visit_plan
from fieldkit.domain.counter import VISIT_FORMAT, VisitState
from fieldkit.domain.findings import Finding, Message
from fieldkit.domain.ids import new_id
from fieldkit.service.session import OfficerSession
from fieldkit.vault import syncstate
from fieldkit.vault.clock import now
from fieldkit.vault.errors import InvalidInput, NotAllowed, VisitNotOpen, VisitWithdrawn
from fieldkit.vault.kinds import VISIT, WITHDRAWN
from fieldkit.vault.records import Change, Record


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """HQ took this visit back: when (HQ's time) and why (HQ's words, as HQ sent them)."""

    reason: str | None
    withdrawn_at: str | None
    reference_version: int | None

    def message(self, visit_id: str) -> Message:
        """What an officer reads about the withdrawn visit."""
        why = (self.reason or "").rstrip(".") or "tanpa alasan / no reason given"
        at = self.withdrawn_at or "-"
        return Message(
            f"Kunjungan {visit_id} ditarik oleh HQ pada {at}: {why}.",
            f"Visit {visit_id} was withdrawn by HQ at {at}: {why}.",
        )


@dataclass(frozen=True, slots=True)
class Visit:
    """A visit as an officer sees it."""

    id: str
    kind: VisitKind
    on: date
    session: VisitSession
    site: str
    coordinator_name: str | None
    coordinator_phone: str | None
    state: str
    withdrawal: Withdrawal | None

    def as_json(self) -> dict[str, object]:
        """The visit as ``fieldkit visit list --json`` prints it."""
        return {
            "visit_id": self.id,
            "state": self.state,
            "kind": self.kind.value,
            "date": self.on.isoformat(),
            "session": self.session.value,
            "site": self.site,
            "coordinator_name": self.coordinator_name,
            "coordinator_phone": self.coordinator_phone,
            **({"withdrawal": _withdrawal_json(self.withdrawal)} if self.withdrawal else {}),
        }


def _withdrawal_json(withdrawal: Withdrawal) -> dict[str, object]:
    return {
        "reason": withdrawal.reason,
        "withdrawn_at": withdrawal.withdrawn_at,
        "reference_version": withdrawal.reference_version,
    }


def invalid(findings: list[tuple[int, Finding]]) -> InvalidInput:
    """The error for input that failed the domain rules (nothing stored)."""
    return InvalidInput(
        Message(
            "Data tidak sah; tidak ada yang disimpan. Perbaiki isian berikut.",
            "The input is invalid; nothing was stored. Fix the fields below.",
        ),
        findings,  # type: ignore[arg-type]
    )


def _withdrawal(record: Record) -> Withdrawal | None:
    if record.state != WITHDRAWN:
        return None
    raw = record.data.get("withdrawal")
    held = raw if isinstance(raw, dict) else {}
    version = held.get("reference_version")
    return Withdrawal(
        reason=held.get("reason"),
        withdrawn_at=held.get("withdrawn_at"),
        reference_version=version if isinstance(version, int) else None,
    )


def visit_view(record: Record) -> Visit:
    """A visit record as its typed view."""
    data = record.data
    return Visit(
        id=record.id,
        kind=VisitKind(str(data["kind"])),
        on=date.fromisoformat(str(data["date"])),
        session=VisitSession(str(data["session"])),
        site=str(data["site"]),
        coordinator_name=data.get("coordinator_name"),  # type: ignore[arg-type]
        coordinator_phone=data.get("coordinator_phone"),  # type: ignore[arg-type]
        state=record.state,
        withdrawal=_withdrawal(record),
    )


def create_visit(
    session: OfficerSession,
    *,
    kind: object,
    on: object,
    session_name: object,
    site: object,
    coordinator_name: object = None,
    coordinator_phone: object = None,
) -> str:
    """Plan a visit; return its id. Refused on a device HQ has revoked.

    Every input passes the domain rules first; invalid input raises :class:`InvalidInput` with
    all the findings and stores nothing.
    """
    unlocked = session.unlocked
    syncstate.require_active_device(unlocked.vault)
    checked = check_visit_plan(kind, on, session_name, site, coordinator_name, coordinator_phone)
    if checked.value is None or not checked.ok:
        raise invalid([(0, f) for f in checked.errors])
    plan = checked.value
    visit_id = new_id()
    data = plan.as_data()
    unlocked.write([Change(VISIT, visit_id, data, "planned", visit_id)], action="visit_created")
    return visit_id


def list_visits(session: OfficerSession) -> list[Visit]:
    """Every visit on this laptop, oldest first."""
    return [visit_view(r) for r in session.unlocked.latest(VISIT)]


def visit_record(session: OfficerSession, visit_id: str) -> Record:
    """A visit's record, or :class:`~fieldkit.vault.errors.NotFound` (application layer only)."""
    return session.unlocked.read(VISIT, visit_id)


def get_visit(session: OfficerSession, visit_id: str) -> Visit:
    """One visit, or :class:`~fieldkit.vault.errors.NotFound`."""
    return visit_view(visit_record(session, visit_id))


def open_visit_record(session: OfficerSession, visit_id: str) -> Record:
    """The record of a visit that may take new people: the device active, the visit not withdrawn.

    Raises :class:`~fieldkit.vault.errors.DeviceRevoked` on a device HQ revoked,
    :class:`~fieldkit.vault.errors.NotFound`, or :class:`VisitWithdrawn` with HQ's reason.
    """
    syncstate.require_active_device(session.unlocked.vault)
    record = visit_record(session, visit_id)
    withdrawn = _withdrawal(record)
    if withdrawn is not None:
        told = withdrawn.message(record.id)
        raise VisitWithdrawn(
            Message(
                f"{told.id.rstrip('.')}. Pemohon baru tidak dapat dicatat di kunjungan ini; "
                "pemohon yang sudah dicatat tetap tersimpan dan tetap dikirim ke HQ.",
                f"{told.en.rstrip('.')}. New applicants cannot be captured into it; applicants "
                "already captured are kept and still sent to HQ.",
            )
        )
    if record.state == VisitState.CLOSED:
        raise VisitNotOpen(
            Message(
                f"Kunjungan {visit_id} sudah ditutup; tidak ada pemohon baru yang dapat dicatat.",
                f"Visit {visit_id} is closed; no new applicants can be captured into it.",
            )
        )
    return record


# The walk-in quota of a Paspor Simpatik Saturday when the officer opening it names none.
DEFAULT_WALK_IN_QUOTA = 40


def _refuse_withdrawn(record: Record, what: Message) -> None:
    withdrawn = _withdrawal(record)
    if withdrawn is not None:
        told = withdrawn.message(record.id)
        raise VisitWithdrawn(
            Message(f"{told.id.rstrip('.')}. {what.id}", f"{told.en.rstrip('.')}. {what.en}")
        )


def open_visit(
    session: OfficerSession, visit_id: str, *, walk_in_quota: int | None = None
) -> Visit:
    """Open a planned visit on site (audited ``visit_opened``); return it.

    A Paspor Simpatik Saturday gets its walk-in quota here (``walk_in_quota``, default
    :data:`DEFAULT_WALK_IN_QUOTA`). Opening an open visit again changes nothing and says so;
    a closed or withdrawn visit is refused.
    """
    unlocked = session.unlocked
    syncstate.require_active_device(unlocked.vault)
    record = visit_record(session, visit_id)
    _refuse_withdrawn(
        record, Message("Kunjungan ini tidak dapat dibuka.", "This visit cannot be opened.")
    )
    if record.state == VisitState.CLOSED:
        raise VisitNotOpen(
            Message(
                f"Kunjungan {visit_id} sudah ditutup; tidak dapat dibuka lagi.",
                f"Visit {visit_id} is closed; it cannot be opened again.",
            )
        )
    if record.state == VisitState.OPEN:
        return visit_view(record)
    if walk_in_quota is not None and walk_in_quota < 0:
        raise ValueError("walk_in_quota must not be negative")  # the CLI takes only >= 0
    quota = None
    if record.data.get("kind") == VisitKind.SIMPATIK:
        quota = DEFAULT_WALK_IN_QUOTA if walk_in_quota is None else walk_in_quota
    data = {
        **record.data,
        "format": VISIT_FORMAT,
        "opened_at": now(),
        "opened_by": session.officer_id,
        "walk_in_quota": quota,
    }
    unlocked.write(
        [Change(VISIT, visit_id, data, VisitState.OPEN, visit_id, record.version)],
        action="visit_opened",
    )
    return get_visit(session, visit_id)


def require_open_visit(
    session: OfficerSession, visit_id: str, *, correction_reason: str | None = None
) -> Record:
    """The record of a visit the counter may write to, or the refusal to read out.

    Open: yes. Planned: :class:`VisitNotOpen` (open it first). Closed: only a supervisor's
    correction with a reason (``correction_reason``), else :class:`VisitNotOpen` or
    :class:`NotAllowed`. Withdrawn by HQ: :class:`VisitWithdrawn`. A revoked device:
    :class:`~fieldkit.vault.errors.DeviceRevoked`.
    """
    syncstate.require_active_device(session.unlocked.vault)
    record = visit_record(session, visit_id)
    _refuse_withdrawn(
        record,
        Message(
            "Tidak ada yang dapat dicatat lagi di kunjungan ini.",
            "Nothing more can be recorded in this visit.",
        ),
    )
    state = record.state
    if state == VisitState.OPEN:
        return record
    if state == VisitState.CLOSED:
        if correction_reason is None or not correction_reason.strip():
            raise VisitNotOpen(
                Message(
                    f"Kunjungan {visit_id} sudah ditutup: tidak ada kedatangan atau keputusan "
                    "baru. Koreksi hanya oleh supervisor, dengan alasan.",
                    f"Visit {visit_id} is closed: no new arrivals or decisions. A correction "
                    "may be made only by a supervisor, with a reason.",
                )
            )
        if session.role != "supervisor":
            raise NotAllowed(
                Message(
                    "Hanya supervisor yang boleh mengoreksi kunjungan yang sudah ditutup.",
                    "Only a supervisor may correct a closed visit.",
                )
            )
        return record
    raise VisitNotOpen(
        Message(
            f"Kunjungan {visit_id} belum dibuka. Buka dulu di lokasi: fieldkit visit open "
            f"{visit_id}.",
            f"Visit {visit_id} is not open yet. Open it on site first: fieldkit visit open "
            f"{visit_id}.",
        )
    )
