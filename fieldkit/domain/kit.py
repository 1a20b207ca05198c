"""A visit's kit: the equipment a team packs and what the office lends applicants.

The items are data, not code: ``data/kit.json`` by default (laptops, the biometric station,
the barcode scanner, the printer, the modem, power; and the reading glasses and slip-on
sandals the Karawang office lends, from the originating article), or an office's own file
(the ``kit_file`` setting) in the same format::

    {"format": 1, "items": [{"id": "printer", "label_id": "Printer dan kertas",
                             "label_en": "Printer and paper", "group": "equipment"}, …]}

A visit's checklist is made from the items the first time it is used and then keeps its own
copy: a later change to the file does not rewrite the checklist of a visit already packed.
Each tick (or untick) stores who did it and when.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

from fieldkit.domain.counter import KIT_FORMAT
from fieldkit.domain.findings import Checked, Finding, Message, error

ITEMS_FORMAT = 1
MAX_ITEMS = 100
MAX_LABEL = 120
_ITEM_ID = re.compile(r"[a-z0-9][a-z0-9_]{0,39}")
_ITEM_KEYS = frozenset({"id", "label_id", "label_en", "group"})


class KitGroup(StrEnum):
    """Equipment the team uses, or something lent to applicants for the day."""

    EQUIPMENT = "equipment"
    LOAN = "loan"

    @property
    def label(self) -> Message:
        """The group's heading in both languages."""
        if self is KitGroup.EQUIPMENT:
            return Message("Peralatan", "Equipment")
        return Message("Dipinjamkan ke pemohon", "Lent to applicants")


@dataclass(frozen=True, slots=True)
class KitItem:
    """One line of the kit: a stable id, its label in both languages, its group."""

    id: str
    label: Message
    group: KitGroup

    def as_data(self) -> dict[str, object]:
        """The item as the items file and the checklist record hold it (not yet ticked)."""
        return {
            "id": self.id,
            "label_id": self.label.id,
            "label_en": self.label.en,
            "group": self.group.value,
        }


@dataclass(frozen=True, slots=True)
class KitLine:
    """One line of a visit's checklist: the item, whether it is ticked, by whom, when."""

    item: KitItem
    ticked: bool
    by: str | None
    at: str | None

    def as_json(self) -> dict[str, object]:
        """The line as the kit record stores it and ``--json`` prints it."""
        return {**self.item.as_data(), "ticked": self.ticked, "by": self.by, "at": self.at}


def _item_error(where: str, id_text: str, en_text: str) -> Finding:
    return error("kit.item", where, id_text, en_text)


def _check_item(number: int, raw: object, seen: set[str]) -> tuple[KitItem | None, list[Finding]]:
    where = f"items[{number}]"
    if not isinstance(raw, Mapping):
        return None, [
            _item_error(where, "Barang harus berupa objek JSON.", "An item must be a JSON object.")
        ]
    findings: list[Finding] = []
    unknown = sorted(str(k) for k in raw if k not in _ITEM_KEYS)
    missing = sorted(k for k in _ITEM_KEYS if k not in raw)
    if unknown:
        named = ", ".join(unknown)
        findings.append(
            _item_error(where, f"Kolom tidak dikenal: {named}.", f"Unknown field(s): {named}.")
        )
    if missing:
        named = ", ".join(missing)
        findings.append(
            _item_error(where, f"Kolom wajib tidak ada: {named}.", f"Missing field(s): {named}.")
        )
    item_id = raw.get("id")
    if "id" in raw and (not isinstance(item_id, str) or not _ITEM_ID.fullmatch(item_id)):
        findings.append(
            _item_error(
                f"{where}.id",
                "ID barang: 1–40 huruf kecil, angka atau garis bawah, diawali huruf/angka.",
                "An item id is 1–40 lowercase letters, digits or underscores, starting with a "
                "letter or digit.",
            )
        )
    elif isinstance(item_id, str) and item_id in seen:
        findings.append(
            _item_error(
                f"{where}.id", f"ID barang ganda: {item_id}.", f"Duplicate item id: {item_id}."
            )
        )
    for key in ("label_id", "label_en"):
        label = raw.get(key)
        if key in raw and (
            not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL
        ):
            findings.append(
                _item_error(
                    f"{where}.{key}",
                    f"Label harus teks, 1–{MAX_LABEL} karakter.",
                    f"A label is text of 1–{MAX_LABEL} characters.",
                )
            )
    group = raw.get("group")
    if "group" in raw and group not in tuple(KitGroup):
        findings.append(
            _item_error(
                f"{where}.group",
                f"Kelompok harus equipment atau loan, bukan {group!r}.",
                f"The group must be equipment or loan, not {group!r}.",
            )
        )
    if findings:
        return None, findings
    seen.add(str(item_id))
    label = Message(str(raw["label_id"]).strip(), str(raw["label_en"]).strip())
    return KitItem(str(item_id), label, KitGroup(str(group))), []


def parse_kit_items(raw: object) -> Checked[tuple[KitItem, ...]]:
    """The items of an items document (parsed JSON), or every problem found in it."""
    if not isinstance(raw, Mapping):
        return Checked.invalid(
            error(
                "kit.file",
                "",
                'Daftar barang harus objek JSON {"format": 1, "items": [...]}.',
                'The list of items must be a JSON object {"format": 1, "items": [...]}.',
            )
        )
    findings: list[Finding] = []
    if raw.get("format") != ITEMS_FORMAT:
        findings.append(
            error(
                "kit.format",
                "format",
                f"Format daftar barang harus {ITEMS_FORMAT}, bukan {raw.get('format')!r}.",
                f"The format of the list of items must be {ITEMS_FORMAT}, not "
                f"{raw.get('format')!r}.",
            )
        )
    unknown = sorted(str(k) for k in raw if k not in ("format", "items"))
    if unknown:
        named = ", ".join(unknown)
        findings.append(
            error(
                "kit.file", named, f"Kolom tidak dikenal: {named}.", f"Unknown field(s): {named}."
            )
        )
    items = raw.get("items")
    if not isinstance(items, list) or not items or len(items) > MAX_ITEMS:
        findings.append(
            error(
                "kit.items",
                "items",
                f"items harus daftar berisi 1–{MAX_ITEMS} barang.",
                f"items must be a list of 1–{MAX_ITEMS} items.",
            )
        )
        return Checked.invalid(*findings)
    seen: set[str] = set()
    parsed: list[KitItem] = []
    for number, entry in enumerate(items):
        item, problems = _check_item(number, entry, seen)
        findings.extend(problems)
        if item is not None:
            parsed.append(item)
    return Checked.of(tuple(parsed), findings)


def parse_kit_text(text: str) -> Checked[tuple[KitItem, ...]]:
    """The items of an items file's text (JSON), or why it cannot be used."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return Checked.invalid(
            error(
                "kit.json",
                "",
                f"Berkas daftar barang bukan JSON yang sah ({exc}).",
                f"The file of items is not valid JSON ({exc}).",
            )
        )
    return parse_kit_items(raw)


@cache
def default_kit_items() -> tuple[KitItem, ...]:
    """The items packaged with fieldkit (read once); a broken packaged file is a bug."""
    text = resources.files("fieldkit.domain").joinpath("data/kit.json").read_text("utf-8")
    checked = parse_kit_text(text)
    if checked.value is None or not checked.ok:
        problems = "; ".join(f"{f.field}: {f.message.en}" for f in checked.findings)
        raise RuntimeError(f"packaged kit.json is invalid: {problems}")
    return checked.value


def new_checklist(items: Sequence[KitItem]) -> dict[str, object]:
    """The data of a visit's kit record before anything is ticked (format 1)."""
    return {
        "format": KIT_FORMAT,
        "items": [KitLine(item, False, None, None).as_json() for item in items],
    }


def checklist_lines(data: Mapping[str, object]) -> list[KitLine]:
    """The lines of a stored kit record, in their order."""
    lines: list[KitLine] = []
    for raw in data.get("items") or []:  # type: ignore[union-attr]
        label = Message(str(raw["label_id"]), str(raw["label_en"]))
        item = KitItem(str(raw["id"]), label, KitGroup(str(raw["group"])))
        lines.append(KitLine(item, bool(raw.get("ticked")), raw.get("by"), raw.get("at")))
    return lines


def apply_ticks(
    data: Mapping[str, object],
    *,
    tick: Sequence[str] = (),
    untick: Sequence[str] = (),
    by: str,
    at: str,
) -> Checked[dict[str, object]]:
    """The kit data after ticking ``tick`` and unticking ``untick``, by ``by`` at ``at``.

    Each changed line records who changed it and when (an untick too: who took it off the
    list last); a line already ticked (or unticked) keeps its who and when. An item not on
    this checklist, or one both ticked and unticked, is an error naming it, and nothing
    changes.
    """
    lines = checklist_lines(data)
    known = {line.item.id for line in lines}
    findings: list[Finding] = []
    listed = ", ".join(sorted(known))
    for item_id in sorted({*tick, *untick} - known):
        findings.append(
            error(
                "kit.unknown_item",
                item_id,
                f"Barang {item_id!r} tidak ada di daftar kunjungan ini ({listed}).",
                f"Item {item_id!r} is not on this visit's list ({listed}).",
            )
        )
    for item_id in sorted(set(tick) & set(untick)):
        findings.append(
            error(
                "kit.tick_and_untick",
                item_id,
                f"Barang {item_id} tidak dapat dicentang dan dihapus centangnya sekaligus.",
                f"Item {item_id} cannot be both ticked and unticked.",
            )
        )
    if findings:
        return Checked.invalid(*findings)
    changed: list[KitLine] = []
    for line in lines:
        # A line already as asked keeps who changed it first and when.
        if line.item.id in tick and not line.ticked:
            line = KitLine(line.item, True, by, at)
        elif line.item.id in untick and line.ticked:
            line = KitLine(line.item, False, by, at)
        changed.append(line)
    return Checked.of({**data, "items": [line.as_json() for line in changed]})
