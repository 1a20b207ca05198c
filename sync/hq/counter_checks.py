"""HQ's checks on every record version it receives, by kind and by the format of its data.

A device writes five kinds of record (docs/PROTOCOL.md, "Record kinds"): ``visit`` (formats 1
and 2), ``roster`` (1 and 2), ``applicant`` (1 and 2), ``kit`` (1) and ``queue`` (1). A
record's format is the ``format`` key of its data; a device of before the counter workflow
writes none, which is format 1. :func:`record_findings` returns what HQ finds in one version:

- applicant format 1: the domain rules HQ has always run (``check_applicant`` on the applicant
  fields, with the visit's kind and HQ's published fee schedules);
- applicant format 2: the same rules on the person fields, the shape of every counter field
  and the decision rules: a decision of ``accepted`` without its prerequisites gets
  ``hq.decision_unmet``, naming each prerequisite that is missing;
- visit, roster, kit and queue: the keys and types their format promises (``hq.shape``);
- a kind or format HQ does not know: ``hq.format_unknown`` (the data is stored unread).

Nothing here refuses a record or raises on any shape of data: findings are stored with the
version, and :func:`record_flags` says which of them also raise a flag for HQ's clerks. The
data was bounded when it was decoded (one line at most 16 KiB and 2,048 JSON values), so
walking it is cheap. A flag names fields, finding codes, documents and record ids, never an
applicant's values (findings stored beside the data may quote it, as the domain rules do).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from fieldkit.domain import decision as decision_rules
from fieldkit.domain.applicant import FIELDS as APPLICANT_FIELDS
from fieldkit.domain.applicant import check_applicant
from fieldkit.domain.applications import Document
from fieldkit.domain.calendar import VisitKind
from fieldkit.domain.counter import (
    COUNTER_FIELDS,
    DECIDED_STATES,
    QUEUE_STATE,
    ApplicantState,
    DecisionKind,
    DocumentState,
    KitState,
    QueueSeries,
    RosterState,
    VisitState,
    WalkInGroup,
)
from fieldkit.domain.dates import parse_iso_date
from fieldkit.domain.fees import FeeSchedule
from fieldkit.domain.findings import Finding, Message, error, warning
from fieldkit.domain.payment import check_payment

VISIT, ROSTER, APPLICANT, KIT, QUEUE = "visit", "roster", "applicant", "kit", "queue"

# The formats of each kind's data this HQ reads (docs/PROTOCOL.md, "Record kinds").
KNOWN_FORMATS: Mapping[str, frozenset[int]] = {
    VISIT: frozenset({1, 2}),
    ROSTER: frozenset({1, 2}),
    APPLICANT: frozenset({1, 2}),
    KIT: frozenset({1}),
    QUEUE: frozenset({1}),
}

FORMAT_UNKNOWN = "hq.format_unknown"
DECISION_UNMET = "hq.decision_unmet"
SHAPE = "hq.shape"
# The flags HQ's clerks see (the ``flags`` table, ``fieldkit-hq status``).
FLAG_DECISION_UNMET = "decision-unmet"
FLAG_FORMAT_UNKNOWN = "format-unknown"

KIT_GROUPS = frozenset({"equipment", "loan"})
RESOLUTION_OUTCOMES = frozenset({"cleared", "confirmed"})
_CLIP = 40  # characters of a device-chosen key quoted in a finding

# The words each field may hold, as plain strings (HQ checks thousands of records a second).
_DOCUMENTS = frozenset(d.value for d in Document)
_DOCUMENT_STATES = frozenset(s.value for s in DocumentState)
_DECISION_KINDS = frozenset(k.value for k in DecisionKind)
_DECIDED = frozenset(s.value for s in DECIDED_STATES)
_SERIES = frozenset(s.value for s in QueueSeries)
_WALK_IN_GROUPS = frozenset(g.value for g in WalkInGroup)
_APPLICANT_2_STATES = frozenset(s.value for s in ApplicantState) - {ApplicantState.CAPTURED.value}
_VISIT_1_STATES = frozenset({VisitState.PLANNED.value, VisitState.WITHDRAWN.value})
_VISIT_2_STATES = frozenset(
    {VisitState.OPEN.value, VisitState.CLOSED.value, VisitState.WITHDRAWN.value}
)
_KIT_STATES = frozenset(s.value for s in KitState)
_ROSTER_1_STATES = frozenset({RosterState.EXPECTED.value, RosterState.WITHDRAWN.value})
_ROSTER_2_STATES = frozenset(
    {RosterState.ARRIVED.value, RosterState.NO_SHOW.value, RosterState.WITHDRAWN.value}
)


def record_format(data: Mapping[str, object]) -> int | None:
    """The format of a record's data: 1 without a ``format`` key, None when it is not a number.

    Unlike :func:`fieldkit.domain.counter.data_format`, a ``format`` that is present but not a
    whole number from 1 is not taken for format 1: HQ cannot tell what wrote it.
    """
    if "format" not in data:
        return 1
    value = data["format"]
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return None


def record_findings(
    kind: str,
    data: Mapping[str, Any],
    *,
    state: str | None = None,
    on: date | None = None,
    visit_kind: VisitKind | str | None = None,
    schedules: tuple[FeeSchedule, ...] | None = None,
) -> list[Finding]:
    """Every finding on one record version of ``kind`` with ``data`` (in record ``state``).

    ``on`` is the day the version was written (the rules' "today"); ``visit_kind`` and
    ``schedules`` are passed to the applicant rules as HQ has always passed them. Never raises
    on any JSON ``data``; an empty list means nothing to report.
    """
    known = KNOWN_FORMATS.get(kind)
    if known is None:
        return [_unknown("kind", f"jenis rekaman {_clip(kind)!r}", f"record kind {_clip(kind)!r}")]
    fmt = record_format(data)
    if fmt is None or fmt not in known:
        shown = str(fmt) if fmt is not None else "bukan bilangan bulat"
        shown_en = str(fmt) if fmt is not None else "not a whole number"
        return [_unknown("format", f"format {shown} untuk {kind}", f"format {shown_en} of {kind}")]
    day = on or date.today()
    if kind == APPLICANT:
        return _applicant(data, fmt, state, day, visit_kind, schedules)
    check = _CHECKS[(kind, fmt)]
    shape = _Shape()
    check(shape, data, state)
    return shape.findings


def record_flags(
    kind: str, record_id: str, version: int, findings: Sequence[Mapping[str, Any]]
) -> list[tuple[str, str]]:
    """The flags ``(kind, detail)`` the stored findings of one version raise for HQ's clerks.

    ``findings`` are in their stored JSON form (``code``, ``field``, ``severity``,
    ``message``). A decision accepted without its prerequisites raises ``decision-unmet``
    with the reasons in words; a kind or format HQ cannot read raises ``format-unknown``.
    """
    flags: list[tuple[str, str]] = []
    for finding in findings:
        code = finding.get("code")
        message = finding.get("message")
        words = str(message.get("en", "")) if isinstance(message, Mapping) else ""
        if code == DECISION_UNMET:
            flags.append(
                (
                    FLAG_DECISION_UNMET,
                    f"{kind} {record_id} version {version}: {words} Check the application "
                    "with the visit's supervisor before any passport is issued.",
                )
            )
        elif code == FORMAT_UNKNOWN:
            flags.append(
                (
                    FLAG_FORMAT_UNKNOWN,
                    f"{_clip(kind)} {record_id} version {version}: {words} Update HQ to a "
                    "fieldkit that reads it.",
                )
            )
    return flags


# --- findings ---------------------------------------------------------------------------------


def _clip(text: object) -> str:
    shown = str(text)
    return shown if len(shown) <= _CLIP else shown[: _CLIP - 1] + "…"


def _unknown(field: str, what_id: str, what_en: str) -> Finding:
    return warning(
        FORMAT_UNKNOWN,
        field,
        f"HQ tidak mengenal {what_id}; data disimpan apa adanya tanpa diperiksa.",
        f"HQ does not know {what_en}; the data is stored as it came, unchecked.",
    )


class _Shape:
    """Collects ``hq.shape`` findings while reading a record's data; its readers never raise.

    Each reader returns the value when it has the promised type, else None after adding a
    finding; ``optional`` lets the key hold null (a missing key is always a finding).
    """

    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def bad(self, path: str, id_text: str, en_text: str) -> None:
        self.findings.append(error(SHAPE, path, f"{path}: {id_text}", f"{path}: {en_text}"))

    def _get(self, obj: Mapping[str, Any], key: str, path: str, optional: bool) -> tuple[bool, Any]:
        if key not in obj:
            self.bad(path, "wajib ada.", "is required.")
            return False, None
        value = obj[key]
        if value is None:
            if not optional:
                self.bad(path, "tidak boleh kosong (null).", "must not be null.")
            return False, None
        return True, value

    def text(
        self, obj: Mapping[str, Any], key: str, path: str, *, optional: bool = False
    ) -> str | None:
        present, value = self._get(obj, key, path, optional)
        if not present:
            return None
        if not isinstance(value, str):
            self.bad(path, "harus teks.", "must be text.")
            return None
        if not value.strip():
            self.bad(path, "tidak boleh kosong.", "must not be empty.")
            return None
        return value

    def integer(
        self, obj: Mapping[str, Any], key: str, path: str, *, low: int, optional: bool = False
    ) -> int | None:
        present, value = self._get(obj, key, path, optional)
        if not present:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            self.bad(
                path, f"harus bilangan bulat mulai {low}.", f"must be a whole number from {low}."
            )
            return None
        return value

    def boolean(
        self, obj: Mapping[str, Any], key: str, path: str, *, optional: bool = False
    ) -> bool | None:
        present, value = self._get(obj, key, path, optional)
        if present and not isinstance(value, bool):
            self.bad(path, "harus true atau false.", "must be true or false.")
            return None
        return value if present else None

    def choice(
        self,
        obj: Mapping[str, Any],
        key: str,
        path: str,
        choices: frozenset[str],
        *,
        optional: bool = False,
    ) -> str | None:
        present, value = self._get(obj, key, path, optional)
        if not present:
            return None
        allowed = choices
        if not isinstance(value, str) or value not in allowed:
            listed = ", ".join(sorted(allowed))
            self.bad(path, f"harus salah satu dari: {listed}.", f"must be one of: {listed}.")
            return None
        return value

    def mapping(
        self, obj: Mapping[str, Any], key: str, path: str, *, optional: bool = False
    ) -> Mapping[str, Any] | None:
        present, value = self._get(obj, key, path, optional)
        if not present:
            return None
        if not isinstance(value, Mapping):
            self.bad(path, "harus objek JSON.", "must be a JSON object.")
            return None
        return value

    def sequence(self, obj: Mapping[str, Any], key: str, path: str) -> list[Any] | None:
        present, value = self._get(obj, key, path, False)
        if not present:
            return None
        if not isinstance(value, list):
            self.bad(path, "harus daftar (array JSON).", "must be a list (a JSON array).")
            return None
        return value

    def date_text(
        self, obj: Mapping[str, Any], key: str, path: str, *, optional: bool = False
    ) -> date | None:
        raw = self.text(obj, key, path, optional=optional)
        if raw is None:
            return None
        parsed = parse_iso_date(raw)
        if parsed is None:
            self.bad(path, "harus tanggal TTTT-BB-HH.", "must be a date written YYYY-MM-DD.")
        return parsed

    def by_at(self, obj: Mapping[str, Any], path: str) -> None:
        """Who (an officer id) and when (a time), as every signed-off step carries them."""
        self.text(obj, "by", f"{path}.by")
        self.text(obj, "at", f"{path}.at")

    def correction(self, data: Mapping[str, Any]) -> None:
        """``correction``: None, or what a supervisor's correction after closing records."""
        held = self.mapping(data, "correction", "correction", optional=True)
        if held is not None:
            self.text(held, "reason", "correction.reason")
            self.by_at(held, "correction")

    def state_in(self, state: str | None, path: str, allowed: frozenset[str]) -> None:
        if state is not None and state not in allowed:
            listed = ", ".join(sorted(allowed))
            self.bad(
                path,
                f"status rekaman {_clip(state)!r} bukan salah satu dari: {listed}.",
                f"record state {_clip(state)!r} is not one of: {listed}.",
            )


# --- visits, roster entries, kits, queues -------------------------------------------------------


def _visit_1(shape: _Shape, data: Mapping[str, Any], state: str | None) -> None:
    """A visit as HQ assigned it or a device planned it: HQ checks no more than it did."""
    shape.state_in(state, "state", _VISIT_1_STATES)


def _visit_2(shape: _Shape, data: Mapping[str, Any], state: str | None) -> None:
    """An opened visit; once closed, who approved it and its summary."""
    shape.state_in(state, "state", _VISIT_2_STATES)
    shape.text(data, "opened_at", "opened_at")
    shape.text(data, "opened_by", "opened_by")
    shape.integer(data, "walk_in_quota", "walk_in_quota", low=0, optional=True)
    if state == VisitState.CLOSED:
        shape.text(data, "closed_at", "closed_at")
        shape.text(data, "closed_by", "closed_by")
        shape.mapping(data, "summary", "summary")
    if "correction" in data:
        shape.correction(data)


def _roster_1(shape: _Shape, data: Mapping[str, Any], state: str | None) -> None:
    """An entry as HQ sent it: expected, or withdrawn with its visit."""
    shape.state_in(state, "state", _ROSTER_1_STATES)


def _roster_2(shape: _Shape, data: Mapping[str, Any], state: str | None) -> None:
    """An entry checked in (with the applicant made for it) or marked a no-show at closing."""
    shape.state_in(state, "state", _ROSTER_2_STATES)
    if state == RosterState.ARRIVED or (state == RosterState.WITHDRAWN and "arrived_at" in data):
        shape.text(data, "arrived_at", "arrived_at")
        shape.text(data, "applicant_id", "applicant_id")
    elif state == RosterState.NO_SHOW:
        shape.text(data, "no_show_at", "no_show_at")


def _kit_1(shape: _Shape, data: Mapping[str, Any], state: str | None) -> None:
    """A visit's kit checklist: each item, its group, who ticked it when; packed when all are."""
    shape.state_in(state, "state", _KIT_STATES)
    items = shape.sequence(data, "items", "items")
    if state == KitState.PACKED and any(
        isinstance(item, Mapping) and item.get("ticked") is not True for item in items or ()
    ):
        shape.bad(
            "state",
            "status 'packed' tetapi ada barang yang belum dicentang.",
            "'packed' while an item is not ticked.",
        )
    for n, item in enumerate(items or ()):
        path = f"items[{n}]"
        if not isinstance(item, Mapping):
            shape.bad(path, "harus objek JSON.", "must be a JSON object.")
            continue
        for key in ("id", "label_id", "label_en"):
            shape.text(item, key, f"{path}.{key}")
        shape.choice(item, "group", f"{path}.group", KIT_GROUPS)
        if shape.boolean(item, "ticked", f"{path}.ticked"):
            shape.by_at(item, path)
        else:
            shape.text(item, "by", f"{path}.by", optional=True)
            shape.text(item, "at", f"{path}.at", optional=True)


def _queue_1(shape: _Shape, data: Mapping[str, Any], state: str | None) -> None:
    """A visit's queue counters: the last number given in each series, the walk-ins let in."""
    shape.state_in(state, "state", frozenset({QUEUE_STATE}))
    last = shape.mapping(data, "last", "last")
    if last is not None:
        for series in sorted(_SERIES):
            shape.integer(last, series, f"last.{series}", low=0)
        for key in sorted(set(last) - _SERIES, key=str):
            shape.bad(f"last.{_clip(key)}", "bukan seri antrean.", "is not a queue series.")
    shape.integer(data, "walk_ins", "walk_ins", low=0)


_Check = Callable[[_Shape, Mapping[str, Any], "str | None"], None]
_CHECKS: Mapping[tuple[str, int], _Check] = {
    (VISIT, 1): _visit_1,
    (VISIT, 2): _visit_2,
    (ROSTER, 1): _roster_1,
    (ROSTER, 2): _roster_2,
    (KIT, 1): _kit_1,
    (QUEUE, 1): _queue_1,
}


# --- applicants -------------------------------------------------------------------------------


def _applicant(
    data: Mapping[str, Any],
    fmt: int,
    state: str | None,
    on: date,
    visit_kind: VisitKind | str | None,
    schedules: tuple[FeeSchedule, ...] | None,
) -> list[Finding]:
    raw = {k: data[k] for k in APPLICANT_FIELDS if k in data}
    if fmt == 1:
        return list(
            check_applicant(raw, on=on, visit_kind=visit_kind, schedules=schedules).findings
        )
    person = decision_rules.person_findings(data, on, visit_kind=visit_kind, schedules=schedules)
    findings = list(person)
    shape = _Shape()
    decision = _counter_fields(shape, data, state)
    # The record's state says where the applicant is (an edit after a decision puts them back
    # at the counter, the old decision still in the data); without one, the decision does.
    accepted = (
        state == ApplicantState.ACCEPTED if state is not None else decision == DecisionKind.ACCEPTED
    )
    if not accepted:
        # The counter fills the person in while the applicant is served; an application that
        # was not accepted need not be complete. An accepted one must be.
        findings = [f for f in findings if f.code != "applicant.missing"]
    findings.extend(shape.findings)
    if "payment" in data:
        findings.extend(check_payment(data["payment"], _quoted(data)))
    day = _decision_day(data, on)
    # The decision's rules run on its own day; on the version's day they reuse the person's
    # findings just made rather than check the person a second time.
    same_day = person if day == on else None
    if accepted:
        found = _acceptance(data, decision, day, visit_kind, schedules, same_day)
    elif decision is not None and (state is None or state == decision):
        found = decision_rules.stored_decision_findings(
            data, day, visit_kind=visit_kind, schedules=schedules, person=same_day
        )
    else:
        found = []
    return _merged(findings, found)


def _acceptance(
    data: Mapping[str, Any],
    decision: str | None,
    on: date,
    visit_kind: VisitKind | str | None,
    schedules: tuple[FeeSchedule, ...] | None,
    person: Sequence[Finding] | None,
) -> list[Finding]:
    """The decision rules on an accepted version: its own findings, then ``hq.decision_unmet``.

    A version whose state says accepted is held to the prerequisites even when its decision is
    unreadable or of another kind: HQ's clerks must hear of it either way.
    """
    if decision == DecisionKind.ACCEPTED:
        found = decision_rules.stored_decision_findings(
            data, on, visit_kind=visit_kind, schedules=schedules, person=person
        )
    else:
        found = decision_rules.prerequisite_findings(
            data, on, visit_kind=visit_kind, schedules=schedules, person=person
        )
    unmet = [f for f in found if f.is_error and f.code != "decision.unexpected"]
    return [*found, _decision_unmet(unmet)] if unmet else found


def _merged(findings: list[Finding], more: Sequence[Finding]) -> list[Finding]:
    """``findings`` then those of ``more`` not already there (the rules share some checks)."""
    seen = {(f.code, f.field) for f in findings}
    for finding in more:
        if (finding.code, finding.field) not in seen:
            seen.add((finding.code, finding.field))
            findings.append(finding)
    return findings


def _quoted(data: Mapping[str, Any]) -> int | None:
    fee = data.get("fee")
    total = fee.get("total") if isinstance(fee, Mapping) else None
    return total if isinstance(total, int) and not isinstance(total, bool) else None


def _decision_day(data: Mapping[str, Any], written: date) -> date:
    """The day the decision was made (its ``at``), the rules' "today"; else the version's day."""
    held = data.get("decision")
    at = held.get("at") if isinstance(held, Mapping) else None
    day = parse_iso_date(at[:10]) if isinstance(at, str) else None
    return day or written


def _counter_fields(shape: _Shape, data: Mapping[str, Any], state: str | None) -> str | None:
    """Check the shape of every counter field (format 2); the decision's kind, if any."""
    for key in COUNTER_FIELDS:
        if key not in data:
            shape.bad(key, "wajib ada (format 2).", "is required (format 2).")
    shape.state_in(state, "state", _APPLICANT_2_STATES)
    if "roster_entry_id" in data:
        shape.text(data, "roster_entry_id", "roster_entry_id", optional=True)
    walk_in = (
        shape.mapping(data, "walk_in", "walk_in", optional=True) if "walk_in" in data else None
    )
    if walk_in is not None:
        shape.choice(walk_in, "group", "walk_in.group", _WALK_IN_GROUPS)
        shape.text(walk_in, "reason", "walk_in.reason")
    for key in ("checked_in_at", "checked_in_by"):
        if key in data:
            shape.text(data, key, key)
    queue = shape.mapping(data, "queue", "queue") if "queue" in data else None
    if queue is not None:
        shape.choice(queue, "series", "queue.series", _SERIES)
        shape.integer(queue, "number", "queue.number", low=1)
    if "watchlist" in data:
        _watchlist(shape, data)
    if "documents" in data:
        _documents(shape, data)
    if "biometrics_ref" in data:
        shape.text(data, "biometrics_ref", "biometrics_ref", optional=True)
    notes = data.get("notes")
    if "notes" in data and not isinstance(notes, str):
        shape.bad("notes", "harus teks.", "must be text.")
    if "acknowledged" in data:
        for n, ack in enumerate(shape.sequence(data, "acknowledged", "acknowledged") or ()):
            if not isinstance(ack, Mapping):
                shape.bad(f"acknowledged[{n}]", "harus objek JSON.", "must be a JSON object.")
                continue
            shape.text(ack, "code", f"acknowledged[{n}].code")
            shape.by_at(ack, f"acknowledged[{n}]")
    if "correction" in data:
        shape.correction(data)
    decided = _decision(shape, data) if "decision" in data else None
    if state is not None and state in _DECIDED and state != decided:
        shape.bad(
            "decision",
            f"status rekaman {state} tidak sesuai dengan keputusannya.",
            f"the record state {state} does not match its decision.",
        )
    return decided


def _watchlist(shape: _Shape, data: Mapping[str, Any]) -> None:
    held = shape.mapping(data, "watchlist", "watchlist")
    if held is None:
        return
    # None: the device held no watchlist to check with (HQ screens every applicant itself).
    shape.boolean(held, "possible_match", "watchlist.possible_match", optional=True)
    shape.integer(held, "reference_version", "watchlist.reference_version", low=0, optional=True)
    resolution = shape.mapping(held, "resolution", "watchlist.resolution", optional=True)
    if resolution is not None:
        shape.choice(resolution, "outcome", "watchlist.resolution.outcome", RESOLUTION_OUTCOMES)
        shape.text(resolution, "reason", "watchlist.resolution.reason")
        shape.by_at(resolution, "watchlist.resolution")


def _documents(shape: _Shape, data: Mapping[str, Any]) -> None:
    held = shape.mapping(data, "documents", "documents")
    if held is None:
        return
    for key, value in held.items():
        path = f"documents.{_clip(key)}"
        if key not in _DOCUMENTS:
            shape.bad(path, "bukan dokumen yang dikenal.", "is not a known document.")
        elif not isinstance(value, str) or value not in _DOCUMENT_STATES:
            listed = ", ".join(sorted(_DOCUMENT_STATES))
            shape.bad(path, f"harus salah satu dari: {listed}.", f"must be one of: {listed}.")


def _decision(shape: _Shape, data: Mapping[str, Any]) -> str | None:
    """Check the decision's shape; its kind (None when there is none or it is unreadable).

    What its parts must say for its kind (a reason for a rejection, a due date for pending
    documents …) is the decision rules' (:func:`~fieldkit.domain.decision.check_decision`).
    """
    held = shape.mapping(data, "decision", "decision", optional=True)
    if held is None:
        return None
    kind = shape.choice(held, "kind", "decision.kind", _DECISION_KINDS)
    shape.by_at(held, "decision")
    missing = held.get("documents")
    if missing is not None and not isinstance(missing, list):
        shape.bad("decision.documents", "harus daftar.", "must be a list.")
    return kind


# Codes whose messages name only documents, fees and references: said as they are. The
# person's rules quote what was typed (a birth date read from the NIK …), so the summary, which
# a flag repeats for HQ's clerks, names their field and code instead.
_SAID_AS_IS = ("decision.", "payment.", "billing.", "ntpn.")
_UNACKNOWLEDGED = "decision.warning_unacknowledged"


def _said(finding: Finding) -> Message:
    if finding.code == _UNACKNOWLEDGED:
        warned = finding.field.removeprefix("acknowledged.")
        return Message(
            f"Peringatan {warned} belum dikonfirmasi petugas.",
            f"Warning {warned} not acknowledged by the officer.",
        )
    if finding.code.startswith(_SAID_AS_IS):
        return finding.message
    return Message(
        f"Data pemohon tidak lengkap atau tidak sah ({finding.field}: {finding.code}).",
        f"The applicant's data is incomplete or invalid ({finding.field}: {finding.code}).",
    )


def _decision_unmet(unmet: Sequence[Finding]) -> Finding:
    """One finding that names every prerequisite an accepted decision lacked, in words.

    Never an applicant's value: the flag it raises is read where the data is not.
    """
    said = [_said(f) for f in unmet]
    said_id = " ".join(_sentence(m.id) for m in said)
    said_en = " ".join(_sentence(m.en) for m in said)
    return error(
        DECISION_UNMET,
        "decision",
        f"Diterima tanpa memenuhi syaratnya: {said_id}",
        f"Accepted without its prerequisites: {said_en}",
    )


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


__all__ = [
    "DECISION_UNMET",
    "FLAG_DECISION_UNMET",
    "FLAG_FORMAT_UNKNOWN",
    "FORMAT_UNKNOWN",
    "KNOWN_FORMATS",
    "SHAPE",
    "record_findings",
    "record_flags",
    "record_format",
]
