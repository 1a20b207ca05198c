"""What the applicant buys: an ordinary or electronic passport, valid for 5 or 10 years."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from fieldkit.domain.dates import age_on
from fieldkit.domain.findings import Checked, Finding, Message, error

# Permenkumham 18/2022: 10-year passports only for applicants aged 17 or more, or married.
TEN_YEARS_MIN_AGE = 17
VALIDITY_YEARS: tuple[int, ...] = (5, 10)


class PassportKind(StrEnum):
    """The passport book: ordinary (paper, 48 pages) or electronic (with a chip)."""

    ORDINARY = "ordinary"
    ELECTRONIC = "electronic"

    @property
    def label(self) -> Message:
        """The kind in both working languages."""
        return _KIND_LABELS[self]


_KIND_LABELS: dict[PassportKind, Message] = {
    PassportKind.ORDINARY: Message("Paspor biasa (48 halaman)", "Ordinary passport (48 pages)"),
    PassportKind.ELECTRONIC: Message("Paspor elektronik", "Electronic passport"),
}


@dataclass(frozen=True, slots=True)
class Product:
    """A passport kind with its validity in years."""

    kind: PassportKind
    years: int

    @property
    def item(self) -> str:
        """The fee-schedule item code for this product, such as ``passport.ordinary.5``."""
        return f"passport.{self.kind.value}.{self.years}"

    @property
    def label(self) -> Message:
        """The product in both working languages: "Paspor elektronik berlaku 10 tahun"."""
        kind = self.kind.label
        return Message(
            f"{kind.id} berlaku {self.years} tahun", f"{kind.en} valid for {self.years} years"
        )


def check_product(
    kind: str, years: object, *, birth_date: date, married: bool, on: date
) -> Checked[Product]:
    """Check the passport an applicant asks for on ``on``.

    ``kind`` is a :class:`PassportKind` word (``ordinary``, ``electronic``; case and surrounding
    space do not matter); ``years`` is 5 or 10, as an int or as the digits typed on the command
    line. A 10-year passport is only for applicants who are 17 or older on ``on`` (the 17th
    birthday counts) or married, as Permenkumham 18/2022 rules; otherwise the finding is
    ``product.ten_years_not_allowed``. Other codes: ``product.unknown_kind``,
    ``product.years``.
    """
    findings: list[Finding] = []
    passport_kind = _parse_kind(kind)
    if passport_kind is None:
        choices = ", ".join(k.value for k in PassportKind)
        findings.append(
            error(
                "product.unknown_kind",
                "kind",
                f"Jenis paspor {kind!r} tidak dikenal; pilih salah satu: {choices}.",
                f"Unknown passport kind {kind!r}; choose one of: {choices}.",
            )
        )
    validity = _parse_years(years)
    if validity is None:
        findings.append(
            error(
                "product.years",
                "years",
                f"Masa berlaku {years!r} tidak tersedia; pilih 5 atau 10 tahun.",
                f"Validity {years!r} is not offered; choose 5 or 10 years.",
            )
        )
    elif validity == max(VALIDITY_YEARS) and not married:
        age = age_on(birth_date, on)
        if age < TEN_YEARS_MIN_AGE:
            findings.append(
                error(
                    "product.ten_years_not_allowed",
                    "years",
                    "Paspor berlaku 10 tahun hanya untuk pemohon yang berusia 17 tahun ke atas "
                    "atau sudah menikah (Permenkumham 18/2022). Pemohon berusia "
                    f"{age} tahun pada {on.isoformat()} dan belum menikah: pilih masa berlaku "
                    "5 tahun.",
                    "A 10-year passport is only for applicants aged 17 or older or married "
                    f"(Permenkumham 18/2022). The applicant is {age} on {on.isoformat()} and "
                    "unmarried: choose a 5-year validity.",
                )
            )
    if passport_kind is None or validity is None:
        return Checked.invalid(*findings)
    return Checked.of(Product(passport_kind, validity), findings)


def _parse_kind(raw: object) -> PassportKind | None:
    if not isinstance(raw, str):
        return None
    try:
        return PassportKind(raw.strip().lower())
    except ValueError:
        return None


def _parse_years(raw: object) -> int | None:
    # A bool is an int to Python but never a number of years someone meant.
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        # A lookup rather than int(): int() also reads "٥", "+5" and "1_0".
        return {str(years): years for years in VALIDITY_YEARS}.get(raw.strip())
    if isinstance(raw, int) and raw in VALIDITY_YEARS:
        return raw
    return None
