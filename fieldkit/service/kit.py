"""A visit's kit checklist: made from the items data on first use, ticked with who and when.

One record per visit (kind ``kit``, id = the visit id, data
``{"format": 1, "items": [{"id", "label_id", "label_en", "group", "ticked", "by", "at"}]}``),
state ``packing`` until every item is ticked, then ``packed``. Every command that changes it
writes one new version (audited ``kit_ticked``). The items come from the ``kit_file`` setting
when it names a file, else the packaged list (:mod:`fieldkit.domain.kit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fieldkit.domain.counter import KitState, VisitState
from fieldkit.domain.findings import Finding, Message, error
from fieldkit.domain.kit import (
    KitItem,
    KitLine,
    apply_ticks,
    checklist_lines,
    default_kit_items,
    new_checklist,
    parse_kit_text,
)
from fieldkit.service.session import OfficerSession
from fieldkit.service.visits import invalid, visit_record
from fieldkit.vault import syncstate
from fieldkit.vault.clock import now
from fieldkit.vault.errors import InvalidInput, NotFound, VisitNotOpen, VisitWithdrawn
from fieldkit.vault.kinds import KIT, WITHDRAWN
from fieldkit.vault.records import Change, Record

# An items file is a short list; anything bigger is not one.
MAX_KIT_FILE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class KitChecklist:
    """A visit's checklist as stored (``version`` 0: not stored, a closed visit's default)."""

    visit_id: str
    version: int
    lines: tuple[KitLine, ...]

    @property
    def packed(self) -> bool:
        """True when every item is ticked."""
        return all(line.ticked for line in self.lines)

    def as_json(self) -> dict[str, object]:
        """The checklist as ``fieldkit visit kit --json`` prints it."""
        return {
            "visit_id": self.visit_id,
            "version": self.version,
            "packed": self.packed,
            "items": [line.as_json() for line in self.lines],
        }


def kit_items(kit_file: Path | None) -> tuple[KitItem, ...]:
    """The items a new checklist starts from: ``kit_file``'s, else the packaged ones.

    A file that cannot be read, is too big, is not JSON or breaks the format raises
    :class:`InvalidInput` with every problem, naming the file.
    """
    if kit_file is None:
        return default_kit_items()
    try:
        with kit_file.open("rb") as handle:
            raw = handle.read(MAX_KIT_FILE_BYTES + 1)
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        problem = error(
            "kit.file",
            "kit_file",
            f"Berkas daftar barang {kit_file} tidak dapat dibaca ({exc}).",
            f"The file of kit items {kit_file} cannot be read ({exc}).",
        )
        raise _bad_file(kit_file, [problem]) from None
    if len(raw) > MAX_KIT_FILE_BYTES:
        problem = error(
            "kit.file",
            "kit_file",
            f"Berkas daftar barang {kit_file} lebih dari {MAX_KIT_FILE_BYTES // 1024} KiB.",
            f"The file of kit items {kit_file} is over {MAX_KIT_FILE_BYTES // 1024} KiB.",
        )
        raise _bad_file(kit_file, [problem])
    checked = parse_kit_text(text)
    if checked.value is None or not checked.ok:
        raise _bad_file(kit_file, list(checked.errors))
    return checked.value


def _bad_file(kit_file: Path, findings: list[Finding]) -> InvalidInput:
    return InvalidInput(
        Message(
            f"Berkas daftar barang kit {kit_file} (FIELDKIT_KIT_FILE) tidak dapat dipakai; "
            "tidak ada yang disimpan.",
            f"The kit items file {kit_file} (FIELDKIT_KIT_FILE) cannot be used; nothing was "
            "stored.",
        ),
        [(0, f) for f in findings],
    )


def _stored(session: OfficerSession, visit_id: str) -> Record | None:
    try:
        return session.unlocked.read(KIT, visit_id)
    except NotFound:
        return None


def _view(visit_id: str, version: int, data: dict[str, object]) -> KitChecklist:
    return KitChecklist(visit_id, version, tuple(checklist_lines(data)))


def _packable(session: OfficerSession, visit_id: str) -> Record:
    """The visit, if its kit may still change: planned or open, on an active device."""
    syncstate.require_active_device(session.unlocked.vault)
    visit = visit_record(session, visit_id)
    if visit.state == WITHDRAWN:
        raise VisitWithdrawn(
            Message(
                f"Kunjungan {visit_id} ditarik oleh HQ; daftar kitnya tidak diubah lagi.",
                f"Visit {visit_id} was withdrawn by HQ; its kit list no longer changes.",
            )
        )
    if visit.state == VisitState.CLOSED:
        raise VisitNotOpen(
            Message(
                f"Kunjungan {visit_id} sudah ditutup; daftar kitnya tidak diubah lagi.",
                f"Visit {visit_id} is closed; its kit list no longer changes.",
            )
        )
    return visit


def kit_checklist(
    session: OfficerSession, visit_id: str, *, kit_file: Path | None = None
) -> KitChecklist:
    """A visit's kit checklist, made from the items (audited ``kit_created``) on first use.

    A visit that is closed or withdrawn and never had one shows the items unticked without
    storing anything (``version`` 0).
    """
    stored = _stored(session, visit_id)
    if stored is not None:
        return _view(visit_id, stored.version, stored.data)
    data = new_checklist(kit_items(kit_file))
    try:
        _packable(session, visit_id)
    except (VisitNotOpen, VisitWithdrawn):
        return _view(visit_id, 0, data)
    session.unlocked.write(
        [Change(KIT, visit_id, data, KitState.PACKING, visit_id)], action="kit_created"
    )
    return _view(visit_id, 1, data)


def tick_items(
    session: OfficerSession,
    visit_id: str,
    *,
    tick: Sequence[str] = (),
    untick: Sequence[str] = (),
    kit_file: Path | None = None,
) -> KitChecklist:
    """Tick and untick items of a planned or open visit's kit: one new version, ``kit_ticked``.

    Each changed line stores the unlocked officer and the time. An unknown item raises
    :class:`InvalidInput` naming it and the items there are; nothing is stored. A command that
    changes nothing writes nothing.
    """
    _packable(session, visit_id)
    stored = _stored(session, visit_id)
    base = stored.data if stored is not None else new_checklist(kit_items(kit_file))
    checked = apply_ticks(base, tick=tick, untick=untick, by=session.officer_id, at=now())
    if checked.value is None or not checked.ok:
        raise invalid([(0, f) for f in checked.errors])
    data = checked.value
    version = stored.version if stored is not None else 0
    if stored is not None and data == stored.data:
        return _view(visit_id, version, data)
    lines = checklist_lines(data)
    state = KitState.PACKED if all(line.ticked for line in lines) else KitState.PACKING
    detail = {"ticked": sorted(set(tick)), "unticked": sorted(set(untick))}
    session.unlocked.write(
        [Change(KIT, visit_id, data, state, visit_id, version)],
        action="kit_ticked",
        audit_detail=[detail],
    )
    return _view(visit_id, version + 1, data)


def tick_item(
    session: OfficerSession, visit_id: str, item_id: str, *, kit_file: Path | None = None
) -> KitChecklist:
    """Tick one item (see :func:`tick_items`)."""
    return tick_items(session, visit_id, tick=(item_id,), kit_file=kit_file)
