"""The life of a visit: which state may follow which, and the words for a refusal.

planned → open (an officer opens it on site) → closed (a supervisor approves its summary).
A closed visit stays closed: a correction afterwards is a new version of the closed visit
(closed → closed, by a supervisor with a reason), never a reopening. HQ may withdraw a visit in
any state but withdrawn; nothing follows withdrawn.
"""

from __future__ import annotations

from fieldkit.domain.counter import VisitState
from fieldkit.domain.findings import Checked, Finding, error

# Every change a device or HQ may make, from → to.
ALLOWED: frozenset[tuple[VisitState, VisitState]] = frozenset(
    {
        (VisitState.PLANNED, VisitState.OPEN),
        (VisitState.OPEN, VisitState.CLOSED),
        (VisitState.CLOSED, VisitState.CLOSED),  # a supervisor's correction
        (VisitState.PLANNED, VisitState.WITHDRAWN),
        (VisitState.OPEN, VisitState.WITHDRAWN),
        (VisitState.CLOSED, VisitState.WITHDRAWN),
    }
)


def _refusal(current: VisitState, target: VisitState) -> Finding:
    if current is VisitState.WITHDRAWN:
        return error(
            "visit.withdrawn",
            "state",
            "Kunjungan ini ditarik oleh HQ; statusnya tidak dapat diubah lagi.",
            "This visit was withdrawn by HQ; its state can no longer change.",
        )
    if current is VisitState.CLOSED:
        return error(
            "visit.closed",
            "state",
            "Kunjungan sudah ditutup dan tidak dapat dibuka lagi; koreksi hanya oleh "
            "supervisor, dengan alasan.",
            "The visit is closed and cannot be opened again; a correction may be made only "
            "by a supervisor, with a reason.",
        )
    if current is VisitState.PLANNED:
        return error(
            "visit.not_open",
            "state",
            "Kunjungan belum dibuka; buka dulu di lokasi sebelum ditutup.",
            "The visit is not open yet; open it on site before closing it.",
        )
    return error(
        "visit.already_open",
        "state",
        "Kunjungan sudah dibuka.",
        "The visit is already open.",
    )


def check_state_change(current: object, target: object) -> Checked[VisitState]:
    """May a visit in state ``current`` change to ``target``? The new state, or why not.

    Unknown states are findings too (``visit.state``), never exceptions.
    """
    try:
        start, end = VisitState(str(current)), VisitState(str(target))
    except ValueError:
        return Checked.invalid(
            error(
                "visit.state",
                "state",
                f"Status kunjungan tidak dikenal: {current!r} → {target!r}.",
                f"Unknown visit state: {current!r} → {target!r}.",
            )
        )
    if (start, end) in ALLOWED:
        return Checked.of(end)
    return Checked.invalid(_refusal(start, end))
