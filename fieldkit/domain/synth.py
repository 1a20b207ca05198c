"""Synthetic applicants for demos, tests and benchmarks: realistic, deterministic, never real.

Names follow the naming customs of the province the NIK places a person in (Javanese and
Sundanese single and double names, Batak family names, Balinese birth-order names, Bugis,
Minahasa and eastern Indonesian Christian names). NIK and KK numbers are consistent with the
birth date, sex and region, but their serials are drawn from 9000–9999: serials count people
registered in one kecamatan on one birth date (NIK) or one entry date (KK), and never come
near that range, so a synthetic number cannot be a real person's.

The output depends only on the seed (and the region data), not on today's date.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from fieldkit.domain.dates import age_on
from fieldkit.domain.nik import Sex, build_nik
from fieldkit.domain.regions import districts, regency_name

SYNTHETIC_SERIAL_FLOOR = 9000
# Ages and product choices are computed against this fixed day so a seed always gives the same
# people; everyone is only older later, so a 10-year passport stays allowed.
SYNTH_EPOCH = date(2025, 1, 1)

# Rough population weights (millions, 2020 census, rounded) so Java dominates as it does at
# real counters; provinces not listed weigh 2.
_PROVINCE_WEIGHTS = {
    "32": 48, "35": 41, "33": 37, "12": 15, "36": 12, "31": 11, "16": 9, "18": 9, "73": 9,
    "14": 6, "13": 6, "53": 5, "61": 5, "52": 5, "11": 5, "34": 4, "51": 4, "64": 4, "72": 3,
}  # fmt: skip

_MALE_GIVEN = {
    "jawa": "BUDI AGUS BAMBANG JOKO HERU SLAMET TEGUH WAHYU EKO DWI ADI SUGENG PURNOMO "
    "SUSILO HARYANTO",
    "sunda": "ASEP DEDE CECEP UJANG YAYAN DADANG ENDANG JAJANG AGUS RIDWAN",
    "muslim": "MUHAMMAD AHMAD ABDUL RIZKY FAJAR HENDRA IRFAN ARIF ANDI YUSUF MA'RUF MOH. "
    "FIRMAN HABIB",
    "batak": "JOHANNES MARTIN RUDI BONAR TOGAR HOTMAN PARULIAN DANIEL SAHAT ROBERT",
    "bali": "WAYAN MADE NYOMAN KETUT PUTU KADEK KOMANG GEDE",
    "bugis": "ANDI MUH. SYAMSUL ARIFUDDIN ASRUL BAHAR JUFRI RAHMAT",
    "timur": "YOHANES PETRUS FRANSISKUS AGUSTINUS MARKUS YOSEF STEFANUS PAULUS YAKOB",
}
_FEMALE_GIVEN = {
    "jawa": "SITI SRI ENDANG RAHAYU WAHYUNI LESTARI SUSANTI DEWI RATNA TRI PUJI WULAN",
    "sunda": "NENG EUIS IMAS CUCU YANTI ENENG NINA LILIS TETI RINA",
    "muslim": "SITI NUR FATIMAH AISYAH ANISA NURUL DIAN PUTRI INDAH RINA AYU ZAHRA",
    "batak": "MARIA ROSMAWATI DELIMA TIUR RUTH ELISABETH MARTHA LINDA",
    "bali": "WAYAN MADE NYOMAN KETUT PUTU KADEK KOMANG AYU",
    "bugis": "ANDI ST. NURHAYATI HASNAWATI MARDIANA RAHMAWATI SUKMAWATI",
    "timur": "MARIA MAGDALENA YOHANA KRISTINA AGUSTINA ELISABETH VERONIKA",
}
# Second names that mark sex in everyday use, by style.
_SECOND_MALE = {
    "jawa": "SANTOSO SETIAWAN WIBOWO PRASETYO SUSANTO NUGROHO HIDAYAT KURNIAWAN UTOMO SAPUTRA",
    "sunda": "SUPRIATNA HERMAWAN SUHENDAR KURNIA GUNAWAN SOLIHIN RUSTANDI",
    "muslim": "HIDAYAT RAMADHAN SAPUTRA FIRMANSYAH MAULANA AL-FARIZI NURDIN",
    "bali": "SUDARMA ARTANA WIRAWAN ASTAWA MAHENDRA",
    "bugis": "RAHMAN HASAN MAKKASAU LATIF SYAMSUDDIN AMIR",
}
_SECOND_FEMALE = {
    "jawa": "PURNAMASARI HANDAYANI KUSUMAWATI RAHAYU LESTARI WULANDARI NINGSIH",
    "sunda": "NURJANAH KURNIASIH SUMIATI HERLINA MULYANI",
    "muslim": "NURHALIZA HASANAH RAHMAWATI FITRIANI KHOIRUNNISA",
    "bali": "ARIASIH SURYANI ANTARI DEWI SRIASIH",
    "bugis": "RAHMAN HASAN AMIR LATIF",
}
# Family names, the same for men and women (Batak women write BR., "boru", before the marga).
_FAMILY = {
    "batak": "SIMANJUNTAK SIREGAR NASUTION HARAHAP SITOMPUL HUTAPEA SIHOMBING PANJAITAN "
    "SINAGA TAMBUNAN LUBIS MANURUNG",
    "timur": "RONDONUWU PANGEMANAN WENAS LAOLI DA-COSTA DE-FRETES MANDAGI WONDA KOIBUR",
}
_PROVINCE_STYLE = {
    "33": "jawa", "34": "jawa", "35": "jawa", "32": "sunda", "36": "sunda", "12": "batak",
    "51": "bali", "73": "bugis", "76": "bugis", "71": "timur", "53": "timur", "81": "timur",
    "91": "timur", "92": "timur", "93": "timur", "94": "timur", "95": "timur", "96": "timur",
}  # fmt: skip
_BALI_ORDER = {"WAYAN", "MADE", "NYOMAN", "KETUT", "PUTU", "KADEK", "KOMANG", "GEDE"}

# Mobile prefixes of the Indonesian operators (Telkomsel, Indosat, XL, Axis, Smartfren, Tri).
_MOBILE_PREFIXES = (
    "0811", "0812", "0813", "0821", "0822", "0823", "0852", "0853", "0814", "0815", "0816",
    "0855", "0856", "0857", "0858", "0817", "0818", "0819", "0859", "0877", "0878", "0831",
    "0832", "0833", "0838", "0881", "0882", "0887", "0888", "0895", "0896", "0897", "0898",
    "0899",
)  # fmt: skip
# Booking codes avoid characters that people confuse when reading them aloud (0/O, 1/I).
_BOOKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True, slots=True)
class SyntheticApplicant:
    """One synthetic applicant, in the shape of the applicant JSON format (docs/)."""

    name: str
    nik: str
    kk: str
    sex: Sex
    birth_date: date
    birth_place: str
    phone: str
    married: bool
    application_type: str
    old_passport_issued: date | None
    product: str
    validity_years: int
    booking_code: str

    def as_json(self) -> dict[str, object]:
        """Return the applicant as a JSON object (dates as YYYY-MM-DD)."""
        return {
            "name": self.name,
            "nik": self.nik,
            "kk": self.kk,
            "sex": self.sex.value,
            "birth_date": self.birth_date.isoformat(),
            "birth_place": self.birth_place,
            "phone": self.phone,
            "married": self.married,
            "application_type": self.application_type,
            "old_passport_issued": (
                self.old_passport_issued.isoformat() if self.old_passport_issued else None
            ),
            "product": self.product,
            "validity_years": self.validity_years,
            "booking_code": self.booking_code,
        }


@cache
def _districts_by_province() -> tuple[tuple[str, tuple[str, ...]], ...]:
    grouped: dict[str, list[str]] = {}
    for code in sorted(districts()):
        grouped.setdefault(code[:2], []).append(code)
    return tuple((pp, tuple(codes)) for pp, codes in sorted(grouped.items()))


def _name(rng: random.Random, province: str, sex: Sex) -> str:
    style = _PROVINCE_STYLE.get(province) or rng.choice(["jawa", "muslim", "muslim", "sunda"])
    male = sex is Sex.MALE
    first = rng.choice((_MALE_GIVEN if male else _FEMALE_GIVEN)[style].split())
    if style == "bali":
        birth_order = rng.choice([w for w in _BALI_ORDER if w in _MALE_GIVEN["bali"]])
        own = rng.choice((_SECOND_MALE if male else _SECOND_FEMALE)["bali"].split())
        return f"{'I' if male else 'NI'} {birth_order} {own}"
    if style in _FAMILY:
        marga = rng.choice(_FAMILY[style].split())
        boru = "BR. " if style == "batak" and not male else ""
        return f"{first} {boru}{marga}"
    if style == "jawa" and rng.random() < 0.25:
        return first  # single names are common in Java
    return f"{first} {rng.choice((_SECOND_MALE if male else _SECOND_FEMALE)[style].split())}"


def _birth_date(rng: random.Random) -> date:
    # Passport applicants: mostly working-age adults, some children and elders.
    age = rng.choices([rng.randint(1, 16), rng.randint(17, 59), rng.randint(60, 80)], [1, 8, 1])[0]
    return SYNTH_EPOCH - timedelta(days=365 * age + rng.randint(0, 364))


def synthetic_applicants(count: int, seed: int) -> Iterator[SyntheticApplicant]:
    """Yield ``count`` synthetic applicants; the same seed always yields the same people."""
    rng = random.Random(seed)
    grouped = _districts_by_province()
    weights = [_PROVINCE_WEIGHTS.get(pp, 2) for pp, _ in grouped]
    for _ in range(count):
        province, codes = rng.choices(grouped, weights)[0]
        district = rng.choice(codes)
        sex = rng.choice([Sex.MALE, Sex.FEMALE])
        born = _birth_date(rng)
        adult = age_on(born, SYNTH_EPOCH) >= 17
        married = adult and rng.random() < min(0.9, age_on(born, SYNTH_EPOCH) / 40)
        entry = date(2006, 1, 1) + timedelta(days=rng.randint(0, 18 * 365))
        expired = adult and rng.random() < 0.35
        yield SyntheticApplicant(
            name=_name(rng, province, sex),
            nik=build_nik(district, born, sex, rng.randint(SYNTHETIC_SERIAL_FLOOR, 9999)),
            kk=f"{district}{entry:%d%m%y}{rng.randint(SYNTHETIC_SERIAL_FLOOR, 9999):04d}",
            sex=sex,
            birth_date=born,
            birth_place=_birth_place(district),
            phone="+62" + rng.choice(_MOBILE_PREFIXES)[1:] + f"{rng.randint(0, 10**8 - 1):08d}",
            married=married,
            application_type="expired" if expired else "new",
            old_passport_issued=_old_passport_issued(rng, born) if expired else None,
            product=rng.choices(["ordinary", "electronic"], [6, 4])[0],
            validity_years=10 if (adult or married) and rng.random() < 0.5 else 5,
            booking_code="".join(rng.choice(_BOOKING_ALPHABET) for _ in range(10)),
        )


def _old_passport_issued(rng: random.Random, born: date) -> date:
    """A passport issued after birth, between 2005 and 2020, so it has expired by now."""
    first = max(born + timedelta(days=30), date(2005, 1, 1))
    return first + timedelta(days=rng.randint(0, (date(2020, 12, 31) - first).days))


def _birth_place(district: str) -> str:
    """The regency or city as printed on a KTP ("KAB. BOGOR" is printed "BOGOR")."""
    name = regency_name(district[:4]) or ""
    for prefix in ("Kab. ", "Kota "):
        name = name.removeprefix(prefix)
    return name.upper()


def is_synthetic_serial(serial: str) -> bool:
    """True for a NIK or KK serial in the range reserved for synthetic people."""
    return serial.isascii() and serial.isdigit() and int(serial) >= SYNTHETIC_SERIAL_FLOOR
