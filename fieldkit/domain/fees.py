"""PNBP passport fees and fines: schedules as dated data, and the quote for one application.

Fees change by government regulation (PP 28/2019, then PP 45/2024), so they are never constants
in code: a schedule names its regulation and the day it came into force, and the quote uses the
schedule in force on the day of the application. The kit ships the known schedules in
``data/fees.json``; HQ publishes later ones in the same format.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from types import MappingProxyType

from fieldkit.domain.applications import ApplicationType
from fieldkit.domain.dates import parse_iso_date
from fieldkit.domain.findings import Checked, Finding, Message, error, warning
from fieldkit.domain.products import VALIDITY_YEARS, PassportKind, Product

FORMAT_VERSION = 1

SAME_DAY = "service.same_day"
FINE_LOST = "fine.lost"
FINE_DAMAGED = "fine.damaged"
FINE_FORCE_MAJEURE = "fine.force_majeure"

PASSPORT_ITEMS: tuple[str, ...] = tuple(
    Product(kind, years).item for kind in PassportKind for years in VALIDITY_YEARS
)
# Every schedule must price these; which passports are offered is up to each regulation.
REQUIRED_ITEMS: tuple[str, ...] = (SAME_DAY, FINE_LOST, FINE_DAMAGED, FINE_FORCE_MAJEURE)
ITEM_CODES: frozenset[str] = frozenset(PASSPORT_ITEMS + REQUIRED_ITEMS)

_ITEM_LABELS: dict[str, Message] = {
    **{
        Product(kind, years).item: Product(kind, years).label
        for kind in PassportKind
        for years in VALIDITY_YEARS
    },
    SAME_DAY: Message(
        "Layanan percepatan paspor (selesai pada hari yang sama)",
        "Same-day service (percepatan)",
    ),
    FINE_LOST: Message("Denda paspor hilang", "Fine for a lost passport"),
    FINE_DAMAGED: Message("Denda paspor rusak", "Fine for a damaged passport"),
    FINE_FORCE_MAJEURE: Message(
        "Denda paspor hilang atau rusak karena keadaan kahar (bencana)",
        "Fine for a passport lost or damaged by force majeure (disaster)",
    ),
}

_TOP_KEYS = frozenset({"format", "schedules"})
_SCHEDULE_KEYS = frozenset({"regulation", "effective_from", "source", "note", "items"})


def item_label(item: str) -> Message:
    """Return the officer-facing name of a fee item code such as ``fine.lost``."""
    return _ITEM_LABELS.get(item, Message(item, item))


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """The fees one regulation sets, in force from ``effective_from`` until the next schedule.

    ``items`` maps item codes (``passport.ordinary.5``, ``fine.lost`` ...) to whole rupiah; it
    is read-only. ``source`` names where the figures come from; ``note`` records doubts, such as
    sources that disagree on the date.
    """

    regulation: str
    effective_from: date
    source: str
    note: str
    items: Mapping[str, int] = field(hash=False)

    def __post_init__(self) -> None:
        # A copy behind a read-only view: a published schedule must not change under a quote.
        object.__setattr__(self, "items", MappingProxyType(dict(self.items)))

    def amount(self, item: str) -> int | None:
        """Return the fee for ``item``, or None when this schedule does not have it."""
        return self.items.get(item)


@dataclass(frozen=True, slots=True)
class FeeLine:
    """One line of a quote: what is paid for and how much."""

    item: str
    label: Message
    amount: int


@dataclass(frozen=True, slots=True)
class FeeQuote:
    """What one application costs under ``regulation``: its lines and their sum."""

    regulation: str
    lines: tuple[FeeLine, ...]
    total: int


def parse_fee_schedules(data: object) -> Checked[tuple[FeeSchedule, ...]]:
    """Read fee schedules from decoded JSON, reporting every problem instead of raising.

    The expected shape is ``{"format": 1, "schedules": [{"regulation", "effective_from",
    "source", "note", "items"}, ...]}``. ``regulation`` and ``source`` are non-empty text,
    ``note`` is optional text, ``effective_from`` is ``YYYY-MM-DD``, and ``items`` maps known
    item codes to whole rupiah (an int of 0 or more: floats, text and booleans are refused).
    Each schedule must price same-day service and the three fines and at least one passport.
    No two schedules may share an effective date, since then the fee on that day would be
    ambiguous. An unknown ``format`` stops the reading: the rest cannot be trusted to mean
    what this version of the kit thinks. Unknown keys give a warning only. The schedules come
    back ordered by effective date.
    """
    if not isinstance(data, Mapping):
        return Checked.invalid(
            _structure("fees", "seluruh data harus berupa objek JSON", "must be a JSON object")
        )
    if "format" not in data:
        return Checked.invalid(_missing("fees", "format"))
    version = data["format"]
    if not _is_int(version) or version != FORMAT_VERSION:
        return Checked.invalid(
            error(
                "fee.data.format",
                "fees.format",
                f"Format data tarif {_show(version)} tidak dikenal; versi fieldkit ini membaca "
                f"format {FORMAT_VERSION}. Perbarui fieldkit sebelum memuat tarif ini.",
                f"Unknown fee data format {_show(version)}; this version of fieldkit reads "
                f"format {FORMAT_VERSION}. Update fieldkit before loading these fees.",
            )
        )
    findings: list[Finding] = _unknown_keys(data, _TOP_KEYS, "fees")
    if "schedules" not in data:
        return Checked.invalid(_missing("fees", "schedules"), *findings)
    raw_schedules = data["schedules"]
    if not isinstance(raw_schedules, list):
        return Checked.invalid(
            _structure("fees.schedules", "harus berupa daftar", "must be a list"), *findings
        )
    if not raw_schedules:
        return Checked.invalid(
            error(
                "fee.data.empty",
                "fees.schedules",
                "Data tarif tidak memuat satu pun jadwal tarif.",
                "The fee data holds no fee schedule.",
            ),
            *findings,
        )
    schedules: list[FeeSchedule] = []
    for index, raw in enumerate(raw_schedules):
        schedule, found = _parse_schedule(raw, f"fees.schedules[{index}]")
        findings.extend(found)
        if schedule is not None:
            schedules.append(schedule)
    findings.extend(_duplicate_dates(schedules))
    ordered = tuple(sorted(schedules, key=lambda s: s.effective_from))
    return Checked.of(ordered, findings)


@cache
def default_fee_schedules() -> tuple[FeeSchedule, ...]:
    """Return the schedules packaged with fieldkit (read once, then cached).

    The packaged file is part of the program, not input: if it does not parse, fieldkit is
    broken and this raises :class:`RuntimeError` naming the problems.
    """
    text = resources.files("fieldkit.domain").joinpath("data/fees.json").read_text("utf-8")
    checked = parse_fee_schedules(json.loads(text))
    if checked.value is None or not checked.ok or checked.warnings:
        problems = "; ".join(f"{f.field}: {f.message.en}" for f in checked.findings)
        raise RuntimeError(f"packaged fees.json is invalid: {problems}")
    return checked.value


def schedule_on(schedules: tuple[FeeSchedule, ...], on: date) -> FeeSchedule | None:
    """Return the schedule in force on ``on``: the latest one whose ``effective_from`` ≤ ``on``."""
    in_force = [s for s in schedules if s.effective_from <= on]
    return max(in_force, key=lambda s: s.effective_from, default=None)


def quote_fee(
    *,
    app_type: ApplicationType,
    product: Product,
    same_day: bool = False,
    force_majeure: bool = False,
    on: date,
    schedules: tuple[FeeSchedule, ...] | None = None,
) -> Checked[FeeQuote]:
    """Quote the PNBP for one application on ``on`` under the schedule then in force.

    The lines are the passport itself, same-day service when ``same_day``, and for a lost or
    damaged passport the fine; when the loss or damage was caused by force majeure (a disaster)
    the fine is the schedule's force-majeure row instead (0 under PP 28/2019 and PP 45/2024),
    kept as a line so the officer sees why no fine is charged. ``schedules`` defaults to
    :func:`default_fee_schedules`.

    Errors: ``fee.no_schedule`` (nothing in force on ``on``), ``fee.product_not_offered`` (the
    regulation in force has no such passport, such as a 10-year passport before PP 45/2024),
    ``fee.force_majeure_not_applicable`` (force majeure claimed for a new passport or an
    expired one), ``fee.item_missing`` (a schedule built in code lacks a required row).
    """
    try:
        kind = ApplicationType(app_type)
    except ValueError:
        return Checked.invalid(_unknown_type(app_type))
    known = default_fee_schedules() if schedules is None else schedules
    findings: list[Finding] = []
    if force_majeure and kind not in (ApplicationType.LOST, ApplicationType.DAMAGED):
        findings.append(_force_majeure_not_applicable(kind))
    schedule = schedule_on(known, on)
    if schedule is None:
        return Checked.invalid(_no_schedule(known, on), *findings)

    wanted = [product.item]
    if same_day:
        wanted.append(SAME_DAY)
    if kind in (ApplicationType.LOST, ApplicationType.DAMAGED):
        fine = FINE_LOST if kind is ApplicationType.LOST else FINE_DAMAGED
        wanted.append(FINE_FORCE_MAJEURE if force_majeure else fine)

    lines: list[FeeLine] = []
    for item in wanted:
        amount = schedule.amount(item)
        if amount is not None:
            lines.append(FeeLine(item, item_label(item), amount))
        elif item == product.item:
            findings.append(_product_not_offered(product, schedule, known, on))
        else:
            findings.append(_item_missing(item, schedule))
    quote = FeeQuote(schedule.regulation, tuple(lines), sum(line.amount for line in lines))
    return Checked.of(quote, findings)


def _parse_schedule(raw: object, where: str) -> tuple[FeeSchedule | None, list[Finding]]:
    if not isinstance(raw, Mapping):
        return None, [_structure(where, "harus berupa objek JSON", "must be a JSON object")]
    findings = _unknown_keys(raw, _SCHEDULE_KEYS, where)
    regulation = _text(raw, "regulation", where, findings, required=True)
    source = _text(raw, "source", where, findings, required=True)
    note = _text(raw, "note", where, findings, required=False)
    effective_from = _effective_from(raw, where, findings)
    items = _items(raw, where, findings)
    if regulation is None or source is None or note is None:
        return None, findings
    if effective_from is None or items is None:
        return None, findings
    return FeeSchedule(regulation, effective_from, source, note, items), findings


def _text(
    raw: Mapping[object, object],
    key: str,
    where: str,
    findings: list[Finding],
    *,
    required: bool,
) -> str | None:
    if key not in raw:
        if required:
            findings.append(_missing(where, key))
            return None
        return ""
    value = raw[key]
    if isinstance(value, str) and (value.strip() or not required):
        return value.strip()
    findings.append(
        error(
            "fee.data.text",
            f"{where}.{key}",
            f"{key} harus berupa teks{' yang tidak kosong' if required else ''}, "
            f"bukan {_show(value)}.",
            f"{key} must be {'non-empty ' if required else ''}text, not {_show(value)}.",
        )
    )
    return None


def _effective_from(
    raw: Mapping[object, object], where: str, findings: list[Finding]
) -> date | None:
    if "effective_from" not in raw:
        findings.append(_missing(where, "effective_from"))
        return None
    value = raw["effective_from"]
    parsed = parse_iso_date(value)
    if parsed is None:
        findings.append(
            error(
                "fee.data.date",
                f"{where}.effective_from",
                f"effective_from harus berupa tanggal YYYY-MM-DD, bukan {_show(value)}.",
                f"effective_from must be a YYYY-MM-DD date, not {_show(value)}.",
            )
        )
    return parsed


def _items(
    raw: Mapping[object, object], where: str, findings: list[Finding]
) -> dict[str, int] | None:
    if "items" not in raw:
        findings.append(_missing(where, "items"))
        return None
    value = raw["items"]
    if not isinstance(value, Mapping):
        findings.append(
            _structure(f"{where}.items", "harus berupa objek JSON", "must be a JSON object")
        )
        return None
    items: dict[str, int] = {}
    valid = True
    for code, amount in value.items():
        field_name = f"{where}.items[{_show(code)}]"
        if not isinstance(code, str) or code not in ITEM_CODES:
            valid = False
            findings.append(
                error(
                    "fee.data.unknown_item",
                    field_name,
                    f"Kode tarif {_show(code)} tidak dikenal.",
                    f"Unknown fee item code {_show(code)}.",
                )
            )
        elif not _is_int(amount) or amount < 0:
            valid = False
            findings.append(
                error(
                    "fee.data.amount",
                    field_name,
                    "Tarif harus berupa bilangan bulat rupiah, 0 atau lebih, "
                    f"bukan {_show(amount)}.",
                    f"A fee must be a whole number of rupiah, 0 or more, not {_show(amount)}.",
                )
            )
        else:
            items[code] = amount
    missing = [code for code in REQUIRED_ITEMS if code not in value]
    if not any(code in value for code in PASSPORT_ITEMS):
        missing.append(f"paspor / passport ({', '.join(PASSPORT_ITEMS)})")
    for code in missing:
        valid = False
        findings.append(
            error(
                "fee.data.missing_item",
                f"{where}.items",
                f"Jadwal tarif tidak memuat tarif {code}.",
                f"The fee schedule has no fee for {code}.",
            )
        )
    return items if valid else None


def _duplicate_dates(schedules: list[FeeSchedule]) -> list[Finding]:
    by_date: dict[date, list[str]] = {}
    for schedule in schedules:
        by_date.setdefault(schedule.effective_from, []).append(schedule.regulation)
    return [
        error(
            "fee.data.duplicate_date",
            "fees.schedules",
            f"Lebih dari satu jadwal tarif berlaku mulai {day.isoformat()} "
            f"({', '.join(regulations)}); tarif pada hari itu menjadi tidak jelas.",
            f"More than one fee schedule takes effect on {day.isoformat()} "
            f"({', '.join(regulations)}); the fee on that day would be ambiguous.",
        )
        for day, regulations in sorted(by_date.items())
        if len(regulations) > 1
    ]


def _unknown_keys(raw: Mapping[object, object], known: frozenset[str], where: str) -> list[Finding]:
    return [
        warning(
            "fee.data.unknown_key",
            f"{where}.{_show(key)}",
            f"Kunci {_show(key)} tidak dikenal dan diabaikan.",
            f"Unknown key {_show(key)} is ignored.",
        )
        for key in raw
        if key not in known
    ]


def _missing(where: str, key: str) -> Finding:
    return error(
        "fee.data.missing_key",
        f"{where}.{key}",
        f"Kunci {key!r} tidak ada.",
        f"The key {key!r} is missing.",
    )


def _structure(where: str, id_detail: str, en_detail: str) -> Finding:
    return error("fee.data.structure", where, f"{where} {id_detail}.", f"{where} {en_detail}.")


def _is_int(value: object) -> bool:
    # JSON true/false decode to bool, which Python counts as int; a fee of True is a data error.
    return isinstance(value, int) and not isinstance(value, bool)


def _show(value: object) -> str:
    # Data from HQ may be anything; keep messages readable however large the bad value is.
    shown = repr(value)
    return shown if len(shown) <= 40 else f"{shown[:37]}..."


def _no_schedule(schedules: tuple[FeeSchedule, ...], on: date) -> Finding:
    if not schedules:
        return error(
            "fee.no_schedule",
            "on",
            "Tidak ada jadwal tarif PNBP yang dimuat.",
            "No PNBP fee schedule is loaded.",
        )
    first = min(schedules, key=lambda s: s.effective_from)
    return error(
        "fee.no_schedule",
        "on",
        f"Tidak ada tarif PNBP yang berlaku pada {on.isoformat()}: tarif paling awal yang dikenal "
        f"({first.regulation}) berlaku mulai {first.effective_from.isoformat()}.",
        f"No PNBP fee schedule is in force on {on.isoformat()}: the earliest known one "
        f"({first.regulation}) takes effect on {first.effective_from.isoformat()}.",
    )


def _product_not_offered(
    product: Product, schedule: FeeSchedule, schedules: tuple[FeeSchedule, ...], on: date
) -> Finding:
    later = sorted(
        (s for s in schedules if s.effective_from > on and s.amount(product.item) is not None),
        key=lambda s: s.effective_from,
    )
    when_id = when_en = ""
    if later:
        first = later[0]
        when_id = (
            f" Produk ini tersedia mulai {first.effective_from.isoformat()} ({first.regulation})."
        )
        when_en = f" It is offered from {first.effective_from.isoformat()} ({first.regulation})."
    name = product.label
    return error(
        "fee.product_not_offered",
        "product",
        f"{name.id} tidak tersedia menurut {schedule.regulation}, yang berlaku pada "
        f"{on.isoformat()}.{when_id}",
        f"{name.en} is not offered under {schedule.regulation}, in force on "
        f"{on.isoformat()}.{when_en}",
    )


def _force_majeure_not_applicable(app_type: ApplicationType) -> Finding:
    return error(
        "fee.force_majeure_not_applicable",
        "force_majeure",
        "Keadaan kahar hanya berlaku untuk paspor yang hilang atau rusak, bukan untuk "
        f"permohonan {app_type.label.id.lower()}.",
        f"Force majeure only applies to a lost or damaged passport, not to a "
        f"{app_type.label.en.lower()}.",
    )


def _unknown_type(app_type: object) -> Finding:
    choices = ", ".join(kind.value for kind in ApplicationType)
    return error(
        "application.unknown_type",
        "application_type",
        f"Jenis permohonan {_show(app_type)} tidak dikenal; pilih salah satu: {choices}.",
        f"Unknown application type {_show(app_type)}; choose one of: {choices}.",
    )


def _item_missing(item: str, schedule: FeeSchedule) -> Finding:
    return error(
        "fee.item_missing",
        "schedule",
        f"Jadwal tarif {schedule.regulation} tidak memuat {item_label(item).id.lower()} ({item}).",
        f"The fee schedule {schedule.regulation} has no {item_label(item).en.lower()} ({item}).",
    )
