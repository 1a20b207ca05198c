"""The words of the counter workflow: the states of a visit, a roster entry and an applicant.

One visit day runs: the visit is **opened** on site, each arrival is **checked in** against the
roster (or let in as a **walk-in**), given a **queue number**, served at the counter and given a
**decision**; at the end a supervisor approves the summary, which **closes** the visit and marks
whoever never came as a **no-show**. This module names those states and builds the data of an
applicant served at the counter (format 2, docs/PROTOCOL.md "Record kinds"); the rules live
beside it (``checkin``, ``walkin``, ``queueing``, ``checklist``, ``decision``, ``visitlife``,
``kit``, ``summary``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

# The version of each record kind's data (the ``format`` key of its data). A record without
# ``format`` comes from a device of before the counter workflow: format 1.
APPLICANT_FORMAT = 2
VISIT_FORMAT = 2
ROSTER_FORMAT = 2
KIT_FORMAT = 1
QUEUE_FORMAT = 1


def data_format(data: Mapping[str, object]) -> int:
    """The format of a record's data: its ``format`` key, 1 when absent (an older device)."""
    value = data.get("format")
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


class VisitState(StrEnum):
    """planned → open (on site) → closed (summary approved); withdrawn by HQ at any time."""

    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class RosterState(StrEnum):
    """A person the visit expects: expected → arrived (checked in) or no_show (at closing)."""

    EXPECTED = "expected"
    ARRIVED = "arrived"
    NO_SHOW = "no_show"
    WITHDRAWN = "withdrawn"


class KitState(StrEnum):
    """A visit's kit checklist: packing until every item is ticked, then packed."""

    PACKING = "packing"
    PACKED = "packed"


# A visit's queue counters have one state: they only ever count up.
QUEUE_STATE = "open"


class DecisionKind(StrEnum):
    """What the counter decided about an application."""

    ACCEPTED = "accepted"
    PENDING_DOCUMENTS = "pending_documents"
    REJECTED = "rejected"
    REFERRED = "referred"


class ApplicantState(StrEnum):
    """Where an applicant is: waiting in the queue, at the counter, or decided.

    ``captured`` is an applicant added by ``fieldkit applicant add`` (format 1, no counter
    workflow); the four decided states are the :class:`DecisionKind` values.
    """

    CAPTURED = "captured"
    WAITING = "waiting"
    AT_COUNTER = "at_counter"
    ACCEPTED = "accepted"
    PENDING_DOCUMENTS = "pending_documents"
    REJECTED = "rejected"
    REFERRED = "referred"


DECIDED_STATES = frozenset(
    {
        ApplicantState.ACCEPTED,
        ApplicantState.PENDING_DOCUMENTS,
        ApplicantState.REJECTED,
        ApplicantState.REFERRED,
    }
)


class QueueSeries(StrEnum):
    """Queue numbers run in two series per visit: regular arrivals and priority ones."""

    REGULAR = "A"
    PRIORITY = "P"


def queue_label(series: QueueSeries | str, number: int) -> str:
    """The number as it is called out and printed on the slip: ``A-007``, ``P-012``."""
    return f"{QueueSeries(series).value}-{number:03d}"


class WalkInGroup(StrEnum):
    """Why someone without a booking may be served.

    The three priority groups of M-Paspor (60 or over, people with disabilities, children
    under 5) may always walk in; on a Paspor Simpatik Saturday anyone may, up to the day's
    quota (``simpatik_quota``).
    """

    ELDERLY = "elderly"
    DISABILITY = "disability"
    UNDER_FIVE = "under_five"
    SIMPATIK_QUOTA = "simpatik_quota"

    @property
    def priority(self) -> bool:
        """True for the priority groups (they take the priority queue series)."""
        return self is not WalkInGroup.SIMPATIK_QUOTA


class DocumentState(StrEnum):
    """What the officer found for one line of the documents checklist."""

    SEEN = "seen"
    MISSING = "missing"
    NOT_APPLICABLE = "not_applicable"


# The fields of an applicant that the counter fills in beyond the captured person (format 2).
COUNTER_FIELDS = (
    "roster_entry_id",
    "walk_in",
    "checked_in_at",
    "checked_in_by",
    "queue",
    "watchlist",
    "documents",
    "payment",
    "biometrics_ref",
    "notes",
    "acknowledged",
    "decision",
    "correction",
)


def counter_applicant(
    person: Mapping[str, object],
    *,
    roster_entry_id: str | None,
    walk_in: Mapping[str, object] | None,
    queue: Mapping[str, object],
    watchlist: Mapping[str, object],
    checked_in_at: str,
    checked_in_by: str,
) -> dict[str, object]:
    """The data of an applicant just checked in (format 2), before anything is done at the counter.

    ``person`` holds the captured fields of :data:`fieldkit.domain.applicant.FIELDS` (missing
    ones are None) and ``fee``; ``queue`` is ``{"series": "A"|"P", "number": n}``;
    ``watchlist`` is ``{"possible_match": bool, "reference_version": int|None,
    "resolution": None}``; ``walk_in`` is None for a booked arrival, else ``{"group": …,
    "reason": …}``.
    """
    return {
        "format": APPLICANT_FORMAT,
        **person,
        "roster_entry_id": roster_entry_id,
        "walk_in": dict(walk_in) if walk_in is not None else None,
        "checked_in_at": checked_in_at,
        "checked_in_by": checked_in_by,
        "queue": dict(queue),
        "watchlist": dict(watchlist),
        "documents": {},
        "payment": None,
        "biometrics_ref": None,
        "notes": "",
        "acknowledged": [],
        "decision": None,
        "correction": None,
    }
