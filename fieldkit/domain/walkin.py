"""Walk-ins: who may be served without a booking, and the reason to read out when not.

The priority groups of M-Paspor (60 or over, people with disabilities, children under 5) may
always walk in; on a Paspor Simpatik Saturday anyone may, while the day's walk-in quota lasts.
The officer records a reason for every walk-in (what they saw: "kursi roda", "balita 3 th").
"""

from __future__ import annotations

from datetime import date

from fieldkit.domain.calendar import VisitKind
from fieldkit.domain.checkin import ELDERLY_AGE, UNDER_FIVE_AGE
from fieldkit.domain.counter import WalkInGroup
from fieldkit.domain.dates import age_on
from fieldkit.domain.findings import Checked, Finding, error

# Refusals a walk-in can meet; ``walkin.reason_required`` alone is invalid input (fix and retry).
REFUSALS = frozenset({"walkin.not_priority", "walkin.quota_full", "walkin.not_simpatik"})


def _group(raw: object) -> WalkInGroup | None:
    try:
        return WalkInGroup(str(raw))
    except ValueError:
        return None


def check_walk_in(
    group: object,
    reason: object,
    *,
    birth_date: date,
    on: date,
    visit_kind: VisitKind | str,
    walk_ins_so_far: int,
    quota: int | None,
) -> Checked[WalkInGroup]:
    """Whether someone born on ``birth_date`` may walk in on ``on`` as ``group``.

    ``elderly`` needs age 60 or over on the day and ``under_five`` age under 5 (else
    ``walkin.not_priority``); ``disability`` is the officer's judgement, written in the reason.
    ``simpatik_quota`` only at a Simpatik visit (``walkin.not_simpatik``) and only while
    ``walk_ins_so_far`` (every walk-in of the day, priority ones included: the quota is what the
    team can serve beyond the bookings) is below ``quota`` (``walkin.quota_full``). Every
    walk-in needs a non-empty reason (``walkin.reason_required``).
    """
    findings: list[Finding] = []
    chosen = _group(group)
    age = age_on(birth_date, on)
    if not isinstance(reason, str) or not reason.strip():
        findings.append(
            error(
                "walkin.reason_required",
                "reason",
                "Tulis alasan walk-in (apa yang dilihat petugas).",
                "Write the reason for the walk-in (what the officer saw).",
            )
        )
    if chosen is None:
        findings.append(
            error(
                "walkin.not_priority",
                "group",
                "Kelompok walk-in tidak dikenal; yang boleh: lansia (60+), disabilitas, balita "
                "(di bawah 5 tahun), atau kuota Simpatik.",
                "Unknown walk-in group; allowed are elderly (60+), disability, under five, or the "
                "Simpatik quota.",
            )
        )
    elif chosen is WalkInGroup.ELDERLY and age < ELDERLY_AGE:
        findings.append(
            error(
                "walkin.not_priority",
                "group",
                f"Pemohon berumur {age} tahun: walk-in lansia hanya untuk umur 60 tahun ke atas. "
                "Silakan daftar antrean online (M-Paspor).",
                f"The applicant is {age}: the elderly walk-in is for people aged 60 or over. "
                "Please book online (M-Paspor).",
            )
        )
    elif chosen is WalkInGroup.UNDER_FIVE and age >= UNDER_FIVE_AGE:
        findings.append(
            error(
                "walkin.not_priority",
                "group",
                f"Anak berumur {age} tahun: walk-in balita hanya untuk anak di bawah 5 tahun. "
                "Silakan daftar antrean online (M-Paspor).",
                f"The child is {age}: the under-five walk-in is for children under 5. "
                "Please book online (M-Paspor).",
            )
        )
    elif chosen is WalkInGroup.SIMPATIK_QUOTA:
        if str(visit_kind) != VisitKind.SIMPATIK:
            findings.append(
                error(
                    "walkin.not_simpatik",
                    "group",
                    "Walk-in tanpa prioritas hanya pada Paspor Simpatik (Sabtu ke-2 dan ke-4). "
                    "Di luar kelompok prioritas (lansia, disabilitas, balita), silakan daftar "
                    "antrean online (M-Paspor).",
                    "Walk-ins outside the priority groups only on a Paspor Simpatik Saturday "
                    "(2nd and 4th). Anyone else, please book online (M-Paspor).",
                )
            )
        elif quota is None or walk_ins_so_far >= quota:
            findings.append(
                error(
                    "walkin.quota_full",
                    "group",
                    f"Kuota walk-in hari ini ({quota or 0}) sudah penuh. Silakan daftar antrean "
                    "online (M-Paspor) atau datang di Paspor Simpatik berikutnya.",
                    f"Today's walk-in quota ({quota or 0}) is full. Please book online "
                    "(M-Paspor) or come to the next Paspor Simpatik.",
                )
            )
    return Checked.of(chosen, findings) if chosen is not None else Checked.invalid(*findings)
