"""The end of a visit day: its summary, the supervisor's approval that closes it, corrections.

Closing takes two officers on one laptop: the officer whose session is open runs it, and a
supervisor approves it with their own passphrase, checked on the same open vault without
replacing that session (:meth:`fieldkit.vault.vault.Vault.authenticate_officer`: a wrong one is
counted and throttled like a failed unlock of that supervisor). The approval is one write:
every roster entry still expected becomes a no-show, and the visit becomes closed with the
summary's counts; both go into the outbox like any write, so they are queued for HQ. A closed
visit then takes no arrivals or decisions (:func:`fieldkit.service.visits.require_open_visit`);
a supervisor may still record a correction on it, with a reason (:func:`correct_visit`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fieldkit.domain.counter import (
    ROSTER_FORMAT,
    VISIT_FORMAT,
    RosterState,
    VisitState,
    queue_label,
)
from fieldkit.domain.findings import Message, error
from fieldkit.domain.summary import VisitSummary, summarize
from fieldkit.domain.visitlife import check_state_change
from fieldkit.service.session import OfficerSession, PassphraseSource
from fieldkit.service.visits import invalid, require_open_visit, visit_record
from fieldkit.vault import db, keyring, syncstate
from fieldkit.vault.clock import now
from fieldkit.vault.errors import NotAllowed, Refused, VaultError, VisitNotOpen
from fieldkit.vault.kinds import APPLICANT, ROSTER, VISIT, WITHDRAWN
from fieldkit.vault.records import Change, Record
from fieldkit.vault.vault import Vault

MAX_REASON = 500
SUPERVISOR = "supervisor"


@dataclass(frozen=True, slots=True)
class VisitLife:
    """Where a visit is in its life: opened, closed, corrected; by whom, when."""

    visit_id: str
    state: str
    version: int
    opened_at: str | None
    opened_by: str | None
    walk_in_quota: int | None
    closed_at: str | None
    closed_by: str | None
    summary: dict[str, object] | None
    correction: dict[str, object] | None

    def as_json(self) -> dict[str, object]:
        """The life cycle fields as the visit commands print them with ``--json``."""
        return {
            "visit_id": self.visit_id,
            "state": self.state,
            "version": self.version,
            "opened_at": self.opened_at,
            "opened_by": self.opened_by,
            "walk_in_quota": self.walk_in_quota,
            "closed_at": self.closed_at,
            "closed_by": self.closed_by,
            "summary": self.summary,
            "correction": self.correction,
        }


def _life(record: Record) -> VisitLife:
    data = record.data

    def text(key: str) -> str | None:
        value = data.get(key)
        return str(value) if value is not None else None

    quota = data.get("walk_in_quota")
    summary, correction = data.get("summary"), data.get("correction")
    return VisitLife(
        visit_id=record.id,
        state=record.state,
        version=record.version,
        opened_at=text("opened_at"),
        opened_by=text("opened_by"),
        walk_in_quota=quota if isinstance(quota, int) and not isinstance(quota, bool) else None,
        closed_at=text("closed_at"),
        closed_by=text("closed_by"),
        summary=dict(summary) if isinstance(summary, Mapping) else None,
        correction=dict(correction) if isinstance(correction, Mapping) else None,
    )


def visit_life(session: OfficerSession, visit_id: str) -> VisitLife:
    """A visit's life cycle fields (no personal data), or NotFound."""
    return _life(visit_record(session, visit_id))


def _summary_of(
    session: OfficerSession, visit: Record
) -> tuple[list[Record], list[Record], VisitSummary]:
    roster = session.unlocked.latest(ROSTER, visit.id)
    applicants = session.unlocked.latest(APPLICANT, visit.id)
    summary = summarize(
        visit.data,
        [(r.state, r.data) for r in roster],
        [(a.id, a.state, a.data) for a in applicants],
        visit_id=visit.id,
    )
    return roster, applicants, summary


def visit_summary(session: OfficerSession, visit_id: str) -> VisitSummary:
    """The visit day's summary (:mod:`fieldkit.domain.summary`); audited, as it names people."""
    visit = visit_record(session, visit_id)
    _, _, summary = _summary_of(session, visit)
    session.unlocked.note("visit_summary_viewed", f"{VISIT}:{visit_id}")
    return summary


def _undecided(applicants: list[Record], summary: VisitSummary) -> Refused:
    named = []
    for applicant in applicants:
        if applicant.id not in summary.undecided:
            continue
        queue = applicant.data.get("queue")
        if isinstance(queue, Mapping) and queue.get("series") and queue.get("number"):
            label = queue_label(str(queue["series"]), int(queue["number"]))  # type: ignore[arg-type]
            named.append(f"{label} ({applicant.id})")
        else:
            named.append(applicant.id)
    listed = ", ".join(named)
    return Refused(
        Message(
            f"Kunjungan belum dapat ditutup: {len(named)} pemohon sudah check-in tetapi belum "
            f"diputuskan: {listed}. Putuskan dulu (atau rujuk ke supervisor).",
            f"The visit cannot be closed yet: {len(named)} applicant(s) checked in but not "
            f"decided: {listed}. Decide them first (or refer them to the supervisor).",
        ),
        "visit.undecided",
    )


def _check_supervisor(session: OfficerSession, visit_id: str, supervisor_id: str) -> None:
    """Before any passphrase is asked: refuse a revoked, unknown or non-supervisor approver."""
    vault = session.unlocked.vault
    syncstate.refuse_revoked_officer(vault, supervisor_id)
    slot = keyring.load_slot(session.unlocked.conn, supervisor_id)
    if slot is None:
        # The vault refuses an unknown officer (audited) before trying any passphrase.
        _vault(session).authenticate_officer(supervisor_id, "", purpose="visit_close")
    if slot is not None and slot.role != SUPERVISOR:
        session.unlocked.note(
            "visit_close_refused",
            f"{VISIT}:{visit_id}",
            {"supervisor": supervisor_id, "reason": "not a supervisor"},
        )
        raise NotAllowed(
            Message(
                f"Petugas {supervisor_id} bukan supervisor; penutupan kunjungan harus disetujui "
                "oleh supervisor.",
                f"Officer {supervisor_id} is not a supervisor; closing a visit must be approved "
                "by a supervisor.",
            )
        )


def _vault(session: OfficerSession) -> Vault:
    vault = session.unlocked.vault
    if not isinstance(vault, Vault):  # an UnlockedVault is always made by Vault
        raise TypeError("the session's vault is not an opened Vault")
    return vault


def _closed_refusal(visit_id: str, state: str) -> VaultError:
    if state == VisitState.CLOSED:
        # closed → closed is a correction (fieldkit.domain.visitlife), never a second close.
        return VisitNotOpen(
            Message(f"Kunjungan {visit_id} sudah ditutup.", f"Visit {visit_id} is already closed.")
        )
    checked = check_state_change(state, VisitState.CLOSED)
    why = checked.errors[0].message if checked.errors else Message("", "")
    return VisitNotOpen(
        Message(
            f"Kunjungan {visit_id} tidak dapat ditutup. {why.id}",
            f"Visit {visit_id} cannot be closed. {why.en}",
        )
    )


def approve_close(
    session: OfficerSession,
    visit_id: str,
    supervisor_id: str,
    passphrase: PassphraseSource,
    *,
    allow_test_kdf: bool = False,
) -> VisitSummary:
    """Close an open visit on a supervisor's approval; return the summary as closed.

    Refused, in this order and before any passphrase is asked: a visit that is not open
    (:class:`VisitNotOpen`, withdrawn: :class:`~fieldkit.vault.errors.VisitWithdrawn`); an
    applicant checked in but not decided (:class:`Refused` ``visit.undecided``, naming them);
    an approver who is revoked, unknown or not a supervisor (:class:`NotAllowed`, audited).
    Then ``passphrase`` is asked for and checked on this vault: a wrong one raises
    :class:`~fieldkit.vault.errors.WrongPassphrase`, counted and throttled like a failed
    unlock of that supervisor. The close itself is one transaction that re-checks all of it:
    every roster entry still expected → ``no_show`` (``no_show_at``), the visit → ``closed``
    (``closed_at``, ``closed_by``, ``summary``), audited once as ``visit_closed``; every
    version written is in the outbox.
    """
    visit = visit_record(session, visit_id)
    if visit.state not in (VisitState.OPEN, WITHDRAWN):
        raise _closed_refusal(visit_id, visit.state)
    visit = require_open_visit(session, visit_id)  # a withdrawn visit: HQ's reason
    _, applicants, summary = _summary_of(session, visit)
    if summary.undecided:
        raise _undecided(applicants, summary)
    _check_supervisor(session, visit_id, supervisor_id)
    role = _vault(session).authenticate_officer(
        supervisor_id, passphrase(), allow_test_kdf=allow_test_kdf, purpose="visit_close"
    )
    if role != SUPERVISOR:  # the slot's role is authenticated only once it opened
        raise NotAllowed(
            Message(
                f"Petugas {supervisor_id} bukan supervisor.",
                f"Officer {supervisor_id} is not a supervisor.",
            )
        )
    unlocked = session.unlocked
    at = now()
    with db.transaction(unlocked.conn):
        # Again inside the write lock: another laptop process may have checked someone in or
        # closed the visit while the passphrase was typed.
        visit = visit_record(session, visit_id)
        if visit.state != VisitState.OPEN:
            raise _closed_refusal(visit_id, visit.state)
        roster, applicants, summary = _summary_of(session, visit)
        if summary.undecided:
            raise _undecided(applicants, summary)
        changes = [
            Change(
                ROSTER,
                entry.id,
                {**entry.data, "format": ROSTER_FORMAT, "no_show_at": at},
                RosterState.NO_SHOW,
                visit_id,
                entry.version,
            )
            for entry in roster
            if entry.state == RosterState.EXPECTED
        ]
        closed = summarize(
            visit.data,
            [
                (RosterState.NO_SHOW if r.state == RosterState.EXPECTED else r.state, r.data)
                for r in roster
            ],
            [(a.id, a.state, a.data) for a in applicants],
            visit_id=visit_id,
        )
        data = {
            **visit.data,
            "format": VISIT_FORMAT,
            "closed_at": at,
            "closed_by": supervisor_id,
            "summary": closed.counts(),
        }
        changes.append(Change(VISIT, visit_id, data, VisitState.CLOSED, visit_id, visit.version))
        # One audit entry for the whole close (it names the outbox range of every version).
        unlocked.write_in_transaction(
            changes,
            action="visit_closed",
            at=at,
            summary=(
                f"{VISIT}:{visit_id}",
                {"supervisor": supervisor_id, "no_shows_marked": len(changes) - 1},
            ),
        )
    return closed


def correct_visit(session: OfficerSession, visit_id: str, reason: str) -> VisitLife:
    """Record a correction on a closed visit: the unlocked supervisor, with a reason.

    A new version of the closed visit with ``correction`` ``{"reason", "by", "at"}`` (earlier
    corrections stay in its history), audited ``visit_corrected``. An empty or over-long reason
    is :class:`~fieldkit.vault.errors.InvalidInput`; an officer who is not a supervisor
    :class:`NotAllowed`; a visit that is not closed :class:`Refused` ``visit.not_closed``.
    """
    text = reason.strip()
    if not text or len(text) > MAX_REASON:
        raise invalid(
            [
                (
                    0,
                    error(
                        "visit.correction_reason",
                        "reason",
                        f"Alasan koreksi wajib diisi, paling banyak {MAX_REASON} karakter.",
                        f"A correction needs a reason, at most {MAX_REASON} characters.",
                    ),
                )
            ]
        )
    record = require_open_visit(session, visit_id, correction_reason=text)
    if record.state != VisitState.CLOSED:
        raise Refused(
            Message(
                f"Kunjungan {visit_id} belum ditutup; koreksi hanya untuk kunjungan yang sudah "
                "ditutup.",
                f"Visit {visit_id} is not closed; a correction is only for a closed visit.",
            ),
            "visit.not_closed",
        )
    correction = {"reason": text, "by": session.officer_id, "at": now()}
    data = {**record.data, "correction": correction}
    session.unlocked.write(
        [Change(VISIT, visit_id, data, VisitState.CLOSED, visit_id, record.version)],
        action="visit_corrected",
    )
    return visit_life(session, visit_id)
