"""NIK rules: layout, birth date and sex, serial, and regions current and historical."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldkit.domain.nik import Sex, build_nik, parse_nik, resolve_two_digit_year
from fieldkit.domain.regions import districts

TODAY = date(2026, 11, 28)


def codes(checked):
    return sorted(f.code for f in checked.findings)


# Synthetic NIKs (serials 9xxx) in real format: region, DDMMYY (+40 for women), serial.
VALID = [
    # nik, district, birth date, sex, region name that must appear
    ("3174071508959001", "Kebayoran Baru", date(1995, 8, 15), Sex.MALE),
    ("3174075508959001", "Kebayoran Baru", date(1995, 8, 15), Sex.FEMALE),
    ("3273010101009002", "Sukasari", date(2000, 1, 1), Sex.MALE),
    ("3273014101009002", "Sukasari", date(2000, 1, 1), Sex.FEMALE),  # women's day 41
    ("3273017112859003", "Sukasari", date(1985, 12, 31), Sex.FEMALE),  # women's day 71
    ("3273016902009004", "Sukasari", date(2000, 2, 29), Sex.FEMALE),  # leap day in 2000
    ("3273012902969005", "Sukasari", date(1996, 2, 29), Sex.MALE),  # leap day in 1996
    ("6501011203139006", "Tanjung Palas", date(2013, 3, 12), Sex.MALE),  # Kalimantan Utara
    ("6571014506659007", "Tarakan Barat", date(1965, 6, 5), Sex.FEMALE),
    ("9301012010239008", "Merauke", date(2023, 10, 20), Sex.MALE),  # Papua Selatan
    ("9401010101909009", "Nabire", date(1990, 1, 1), Sex.MALE),  # Papua Tengah
    ("9501015505889010", "Wamena", date(1988, 5, 15), Sex.FEMALE),  # Papua Pegunungan
    ("9601010202029011", "Makbon", date(2002, 2, 2), Sex.MALE),  # Papua Barat Daya
    ("3273012811269012", "Sukasari", date(2026, 11, 28), Sex.MALE),  # born today
    ("3273010112269013", "Sukasari", date(1926, 12, 1), Sex.MALE),  # 20YY would be future
]


@pytest.mark.parametrize(("nik", "district", "born", "sex"), VALID)
def test_valid_niks_parse_into_their_parts(nik, district, born, sex):
    checked = parse_nik(nik, today=TODAY)
    assert checked.ok, codes(checked)
    assert checked.findings == ()
    assert checked.value.number == nik
    assert checked.value.region.district_name == district
    assert checked.value.birth_date == born
    assert checked.value.sex is sex
    assert checked.value.serial == nik[12:]


INVALID = [
    ("", "nik.charset"),
    ("317407150895900", "nik.length"),  # 15 digits
    ("31740715089590011", "nik.length"),  # 17 digits
    ("3174O71508959001", "nik.charset"),  # letter O for zero
    ("٣١٧٤٠٧١٥٠٨٩٥٩٠٠١", "nik.charset"),  # Arabic-Indic digits are not NIK digits
    ("3174070008959001", "nik.birth_day"),
    ("3174073208959001", "nik.birth_day"),
    ("3174074008959001", "nik.birth_day"),
    ("3174077208959001", "nik.birth_day"),
    ("3174071500959001", "nik.birth_month"),
    ("3174071513959001", "nik.birth_month"),
    ("3174073104959001", "nik.birth_date"),  # 31 April
    ("3174072902019001", "nik.birth_date"),  # 29 February 2001
    ("3174076902019001", "nik.birth_date"),  # the same for a woman
    ("3174071508950000", "nik.serial_zero"),
    ("0074071508959001", "nik.province_unknown"),
    ("1074071508959001", "nik.province_unknown"),
    ("2074071508959001", "nik.province_unknown"),
    ("9974071508959001", "nik.province_unknown"),
]


@pytest.mark.parametrize(("nik", "code"), INVALID)
def test_invalid_niks_name_the_reason(nik, code):
    checked = parse_nik(nik, today=TODAY)
    assert not checked.ok
    assert checked.value is None
    assert code in codes(checked)
    error = next(f for f in checked.findings if f.code == code)
    assert error.field == "nik"
    assert error.message.id and error.message.en and error.message.id != error.message.en


def test_several_problems_are_reported_together():
    checked = parse_nik("9974073104950000", today=TODAY)
    assert codes(checked) == ["nik.birth_date", "nik.province_unknown", "nik.serial_zero"]


def test_typed_separators_and_spaces_are_ignored():
    checked = parse_nik(" 3174 0715 0895 9001 ", today=TODAY)
    assert checked.ok
    assert checked.value.number == "3174071508959001"


def test_non_text_is_an_error_not_a_crash():
    for raw in (None, 3174071508959001, ["3174071508959001"], 1.5):
        assert codes(parse_nik(raw, today=TODAY)) == ["nik.not_text"]


HISTORICAL = [
    # A NIK issued before a split keeps its old code and resolves to today's region.
    ("6473014101809001", "6571", "Kota Tarakan", "Kalimantan Utara", "UU 20/2012"),
    ("6404011203759002", "6501", "Kab. Bulungan", "Kalimantan Utara", "UU 20/2012"),
    ("6410011203759003", "6504", "Kab. Tana Tidung", "Kalimantan Utara", "UU 20/2012"),
    ("9101011203759004", "9301", "Kab. Merauke", "Papua Selatan", "UU 14/2022"),
    ("9109011203759005", "9404", "Kab. Mimika", "Papua Tengah", "UU 15/2022"),
    ("9102011203759006", "9501", "Kab. Jayawijaya", "Papua Pegunungan", "UU 16/2022"),
    ("9271011203759007", "9671", "Kota Sorong", "Papua Barat Daya", "UU 29/2022"),
]


@pytest.mark.parametrize(("nik", "current", "regency", "province", "law"), HISTORICAL)
def test_historical_region_codes_are_accepted(nik, current, regency, province, law):
    checked = parse_nik(nik, today=TODAY)
    assert checked.ok, codes(checked)
    region = checked.value.region
    assert region.code == nik[:6]
    assert region.current_code == current + nik[4:6]
    assert region.regency_name == regency
    assert region.province_name == province
    assert region.renumbered.law == law
    assert codes(checked) == []


def test_retired_code_on_someone_born_after_the_split_is_a_warning():
    before = parse_nik("6473011511129001", today=TODAY)  # born 15-11-2012, the day before
    after = parse_nik("6473011611129001", today=TODAY)  # born on the day of UU 20/2012
    assert codes(before) == []
    assert after.ok
    assert codes(after) == ["nik.region_code_retired"]


def test_unknown_regency_and_kecamatan_are_warnings_not_errors():
    regency = parse_nik("3199011508959001", today=TODAY)
    district = parse_nik("3174991508959001", today=TODAY)
    assert regency.ok and codes(regency) == ["nik.regency_unknown"]
    assert regency.value.region.province_name == "DKI Jakarta"
    assert district.ok and codes(district) == ["nik.district_unknown"]
    assert district.value.region.regency_name == "Kota Jakarta Selatan"
    assert all(f.severity == "warning" for f in regency.findings + district.findings)


def test_stated_birth_date_and_sex_mismatches_are_warnings():
    nik = "3174075508959001"  # woman born 15-08-1995
    agree = parse_nik(nik, stated_birth_date=date(1995, 8, 15), stated_sex=Sex.FEMALE, today=TODAY)
    differ = parse_nik(nik, stated_birth_date=date(1995, 8, 16), stated_sex=Sex.MALE, today=TODAY)
    assert codes(agree) == []
    assert differ.ok
    assert codes(differ) == ["nik.birth_date_mismatch", "nik.sex_mismatch"]
    fields = {f.code: f.field for f in differ.findings}
    assert fields == {"nik.birth_date_mismatch": "birth_date", "nik.sex_mismatch": "sex"}


def test_stated_birth_date_settles_the_century():
    # 01-01-20: 2020 by default; a KTP saying 1920 makes it 1920 without a warning.
    assert parse_nik("3174070101209001", today=TODAY).value.birth_date == date(2020, 1, 1)
    old = parse_nik("3174070101209001", stated_birth_date=date(1920, 1, 1), today=TODAY)
    assert old.value.birth_date == date(1920, 1, 1)
    assert codes(old) == []


@pytest.mark.parametrize(
    ("yy", "month", "day", "expected"),
    [
        (0, 2, 29, date(2000, 2, 29)),
        (26, 11, 28, date(2026, 11, 28)),
        (26, 11, 29, date(1926, 11, 29)),
        (99, 12, 31, date(1999, 12, 31)),
        (1, 2, 29, None),
        (95, 4, 31, None),
    ],
)
def test_two_digit_years_resolve_to_the_latest_past_date(yy, month, day, expected):
    assert resolve_two_digit_year(yy, month, day, TODAY) == expected


DISTRICTS = sorted(districts())


@given(
    district=st.sampled_from(DISTRICTS),
    born=st.dates(min_value=date(1926, 11, 29), max_value=TODAY),
    sex=st.sampled_from(Sex),
    serial=st.integers(min_value=1, max_value=9999),
)
def test_a_generated_nik_parses_back_to_its_inputs(district, born, sex, serial):
    nik = build_nik(district, born, sex, serial)
    checked = parse_nik(nik, today=TODAY)
    assert checked.ok, codes(checked)
    assert checked.findings == ()
    value = checked.value
    assert (value.region.code, value.birth_date, value.sex, int(value.serial)) == (
        district,
        born,
        sex,
        serial,
    )
