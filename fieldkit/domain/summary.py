"""The summary of a visit day: who came, what was decided, what is missing, what was paid.

It is what a supervisor reads before approving the close, and its counts are stored in the
closed visit. Pure: it takes the records' states and data as the vault holds them.

- **Roster**: entries expected (every entry HQ did not withdraw), arrived, no-shows (marked
  ``no_show``, plus any still ``expected``: those become no-shows when the visit closes), and
  walk-ins (applicants let in without a booking, by group).
- **Decisions** by kind, and the applicants checked in but not decided yet (a close is refused
  while there are any). Applicants captured with ``fieldkit applicant add`` (format 1, no
  counter workflow) are counted apart.
- **Missing documents** per applicant: those marked missing at the counter and those a
  pending-documents decision lists, with the due date; the coordinator's name and phone go
  with the list, since the coordinator is who chases them up.
- **Fees expected** is the sum of the quoted fees of the applicants accepted or pending
  documents: they are the ones whose application goes ahead and who are asked to pay; a
  rejected applicant pays nothing and a referred one is for the supervisor to settle. **Fees
  paid** is the sum of ``payment.amount`` of every payment marked paid, whatever the decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from fieldkit.domain.applications import Document
from fieldkit.domain.counter import (
    ApplicantState,
    DecisionKind,
    DocumentState,
    RosterState,
    WalkInGroup,
)
from fieldkit.domain.findings import Message
from fieldkit.domain.money import format_rupiah

# Decided applicants whose fee counts as expected (see the module docstring).
FEE_EXPECTED_STATES = frozenset({ApplicantState.ACCEPTED, ApplicantState.PENDING_DOCUMENTS})
UNDECIDED_STATES = frozenset({ApplicantState.WAITING, ApplicantState.AT_COUNTER})


@dataclass(frozen=True, slots=True)
class MissingDocuments:
    """One applicant's missing originals: which, and by when (a pending decision's due date)."""

    applicant_id: str
    name: str | None
    documents: tuple[str, ...]
    due: str | None

    def as_json(self) -> dict[str, object]:
        """The entry as ``visit summary --json`` prints it."""
        return {
            "applicant_id": self.applicant_id,
            "name": self.name,
            "documents": list(self.documents),
            "due": self.due,
        }


@dataclass(frozen=True, slots=True)
class VisitSummary:
    """The counts and lists of one visit day (see the module docstring for each)."""

    expected: int
    arrived: int
    no_shows: int
    still_expected: int
    walk_ins: int
    walk_ins_by_group: dict[str, int]
    decisions: dict[str, int]
    undecided: tuple[str, ...]
    captured: int
    missing_documents: tuple[MissingDocuments, ...]
    coordinator_name: str | None
    coordinator_phone: str | None
    fees_expected: int
    fees_paid: int
    payments_paid: int
    visit_id: str | None = field(default=None)

    def counts(self) -> dict[str, object]:
        """The numbers stored in the closed visit's data (``summary``): no names, no ids."""
        return {
            "expected": self.expected,
            "arrived": self.arrived,
            "no_shows": self.no_shows,
            "walk_ins": self.walk_ins,
            "walk_ins_by_group": dict(self.walk_ins_by_group),
            "decisions": dict(self.decisions),
            "undecided": len(self.undecided),
            "captured": self.captured,
            "missing_documents": len(self.missing_documents),
            "fees_expected": self.fees_expected,
            "fees_paid": self.fees_paid,
            "payments_paid": self.payments_paid,
        }

    def as_json(self) -> dict[str, object]:
        """The whole summary as ``visit summary --json`` prints it."""
        return {
            "visit_id": self.visit_id,
            **self.counts(),
            "still_expected": self.still_expected,
            "undecided_applicants": list(self.undecided),
            "applicants_missing_documents": [m.as_json() for m in self.missing_documents],
            "coordinator": {"name": self.coordinator_name, "phone": self.coordinator_phone},
        }


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _missing(applicant_id: str, state: str, data: Mapping[str, object]) -> MissingDocuments | None:
    documents = data.get("documents")
    found = [
        str(name)
        for name, mark in (documents.items() if isinstance(documents, Mapping) else ())
        if mark == DocumentState.MISSING
    ]
    decision = data.get("decision")
    due = None
    if state == ApplicantState.PENDING_DOCUMENTS and isinstance(decision, Mapping):
        listed = decision.get("documents")
        found += [str(d) for d in listed if str(d) not in found] if isinstance(listed, list) else []
        due = str(decision["due"]) if decision.get("due") is not None else None
    if not found:
        return None
    name = data.get("name")
    return MissingDocuments(applicant_id, str(name) if name else None, tuple(found), due)


def summarize(
    visit_data: Mapping[str, object],
    roster_entries: Sequence[tuple[str, Mapping[str, object]]],
    applicants: Sequence[tuple[str, str, Mapping[str, object]]],
    *,
    visit_id: str | None = None,
) -> VisitSummary:
    """The summary of a visit from its data, its roster ``(state, data)`` and its applicants.

    ``applicants`` are ``(applicant id, state, data)``: the id is what the missing-documents
    list and the undecided list name.
    """
    states = [state for state, _ in roster_entries if state != RosterState.WITHDRAWN]
    arrived = states.count(RosterState.ARRIVED)
    still_expected = states.count(RosterState.EXPECTED)
    decisions = dict.fromkeys((k.value for k in DecisionKind), 0)
    groups = dict.fromkeys((g.value for g in WalkInGroup), 0)
    undecided: list[str] = []
    missing: list[MissingDocuments] = []
    captured = walk_ins = fees_expected = fees_paid = payments_paid = 0
    for applicant_id, state, data in applicants:
        if state == ApplicantState.CAPTURED:
            captured += 1
            continue
        if state in decisions:
            decisions[state] += 1
        elif state in UNDECIDED_STATES:
            undecided.append(applicant_id)
        walk_in = data.get("walk_in")
        if isinstance(walk_in, Mapping):
            walk_ins += 1
            group = str(walk_in.get("group"))
            groups[group] = groups.get(group, 0) + 1
        fee = data.get("fee")
        total = _int(fee.get("total")) if isinstance(fee, Mapping) else None
        if state in FEE_EXPECTED_STATES and total is not None:
            fees_expected += total
        payment = data.get("payment")
        if isinstance(payment, Mapping) and payment.get("paid") is True:
            payments_paid += 1
            fees_paid += _int(payment.get("amount")) or 0
        entry = _missing(applicant_id, state, data)
        if entry is not None:
            missing.append(entry)
    return VisitSummary(
        expected=len(states),
        arrived=arrived,
        no_shows=states.count(RosterState.NO_SHOW) + still_expected,
        still_expected=still_expected,
        walk_ins=walk_ins,
        walk_ins_by_group=groups,
        decisions=decisions,
        undecided=tuple(undecided),
        captured=captured,
        missing_documents=tuple(missing),
        coordinator_name=_text(visit_data.get("coordinator_name")),
        coordinator_phone=_text(visit_data.get("coordinator_phone")),
        fees_expected=fees_expected,
        fees_paid=fees_paid,
        payments_paid=payments_paid,
        visit_id=visit_id,
    )


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


_DECISION_WORDS: dict[str, Message] = {
    DecisionKind.ACCEPTED: Message("diterima", "accepted"),
    DecisionKind.PENDING_DOCUMENTS: Message("menunggu dokumen", "pending documents"),
    DecisionKind.REJECTED: Message("ditolak", "rejected"),
    DecisionKind.REFERRED: Message("dirujuk ke supervisor", "referred to the supervisor"),
}


def document_words(name: str) -> Message:
    """A document's name as officers say it (the stored code when it is not a known one)."""
    try:
        return Document(name).label
    except ValueError:
        return Message(name, name)


def summary_lines(summary: VisitSummary) -> list[Message]:
    """The summary as lines for people, in both languages (the CLI and the field app)."""
    s = summary
    lines = [
        Message(
            f"Daftar: {s.expected} terdaftar, {s.arrived} datang, {s.no_shows} tidak datang "
            f"({s.still_expected} belum datang saat ini), {s.walk_ins} tanpa booking.",
            f"Roster: {s.expected} expected, {s.arrived} arrived, {s.no_shows} no-shows "
            f"({s.still_expected} not arrived yet), {s.walk_ins} walk-ins.",
        ),
        Message(
            "Keputusan: "
            + ", ".join(f"{_DECISION_WORDS[k].id} {n}" for k, n in s.decisions.items())
            + f"; belum diputuskan {len(s.undecided)}.",
            "Decisions: "
            + ", ".join(f"{_DECISION_WORDS[k].en} {n}" for k, n in s.decisions.items())
            + f"; undecided {len(s.undecided)}.",
        ),
        Message(
            f"Biaya: diharapkan {format_rupiah(s.fees_expected)} (diterima dan menunggu "
            f"dokumen), tercatat lunas {format_rupiah(s.fees_paid)} ({s.payments_paid} "
            "pembayaran).",
            f"Fees: {format_rupiah(s.fees_expected)} expected (accepted and pending "
            f"documents), {format_rupiah(s.fees_paid)} marked paid ({s.payments_paid} "
            "payments).",
        ),
    ]
    if s.captured:
        lines.append(
            Message(
                f"Pemohon dicatat di luar loket: {s.captured}.",
                f"Applicants captured outside the counter: {s.captured}.",
            )
        )
    if s.undecided:
        lines.append(
            Message(
                "Belum diputuskan: " + ", ".join(s.undecided) + ".",
                "Not decided yet: " + ", ".join(s.undecided) + ".",
            )
        )
    if s.missing_documents:
        contact = " ".join(p for p in (s.coordinator_name, s.coordinator_phone) if p) or "-"
        lines.append(
            Message(
                f"Dokumen kurang (koordinator: {contact}):",
                f"Missing documents (coordinator: {contact}):",
            )
        )
        for m in s.missing_documents:
            due_id = f", paling lambat {m.due}" if m.due else ""
            due_en = f", due {m.due}" if m.due else ""
            lines.append(
                Message(
                    f"  {m.applicant_id} {m.name or '-'}: "
                    + "; ".join(document_words(d).id for d in m.documents)
                    + due_id,
                    f"  {m.applicant_id} {m.name or '-'}: "
                    + "; ".join(document_words(d).en for d in m.documents)
                    + due_en,
                )
            )
    return lines
