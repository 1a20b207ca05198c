"""ICAO Doc 9303 TD3 MRZ: check digits, parsing, and what ICAO can and cannot detect."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fieldkit.domain.findings import Checked
from fieldkit.domain.mrz import Td3, check_digit, parse_td3

# The ICAO specimen (DOMAIN.md). Its expiry is in the past: that must not be an error.
SPECIMEN_1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
SPECIMEN_2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
TODAY = date(2026, 1, 1)

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
ALPHABET = DIGITS + LETTERS + "<"


def icao_value(ch: str) -> int:
    """ICAO character value, computed independently of the module: base-36 digit, '<' is 0."""
    return 0 if ch == "<" else int(ch, 36)


def parse(line1: str, line2: str) -> Checked[Td3]:
    return parse_td3(line1, line2, today=TODAY)


def error_fields(result: Checked[Td3]) -> set[str]:
    return {f.field for f in result.errors}


def error_pairs(result: Checked[Td3]) -> set[tuple[str, str]]:
    return {(f.code, f.field) for f in result.errors}


def replace_at(line: str, position: int, ch: str) -> str:
    """Replace the character at 1-based ``position``."""
    return line[: position - 1] + ch + line[position:]


def make_line1(surname: str, given_names: str = "", state: str = "IDN", kind: str = "P<") -> str:
    """Build line 1 from names written with spaces, as on the printed page."""
    name = surname.replace(" ", "<")
    if given_names:
        name += "<<" + given_names.replace(" ", "<")
    return (kind + state.ljust(3, "<") + name).ljust(44, "<")


def make_line2(
    number: str,
    nationality: str,
    birth: str,
    sex: str,
    expiry: str,
    optional: str = "",
    optional_check: str | None = None,
) -> str:
    """Build a line 2 with every check digit computed by ``check_digit``."""
    number = number.ljust(9, "<")
    optional = optional.ljust(14, "<")
    if optional_check is None:
        optional_check = str(check_digit(optional))
    head = number + str(check_digit(number))
    birth_part = birth + str(check_digit(birth))
    tail = expiry + str(check_digit(expiry)) + optional + optional_check
    composite = str(check_digit(head + birth_part + tail))
    return head + nationality.ljust(3, "<") + birth_part + sex + tail + composite


# --- check_digit -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("L898902C3", 6),  # the specimen's five check digits
        ("740812", 2),
        ("120415", 9),
        ("ZE184226B<<<<<", 1),
        ("L898902C36" + "7408122" + "1204159ZE184226B<<<<<1", 0),
        ("<<<<<<<<<<<<<<", 0),  # an unused optional data field
        ("", 0),
        ("A", 0),  # 10 * 7 = 70
        ("1", 7),
        ("01", 3),
        ("001", 1),
    ],
)
def test_check_digit_known_values(data: str, expected: int) -> None:
    assert check_digit(data) == expected


@pytest.mark.parametrize("data", ["l898902C3", "L898 902C3", "É", "٣", "L898902C3\n", "-"])
def test_check_digit_refuses_characters_outside_the_mrz_alphabet(data: str) -> None:
    with pytest.raises(ValueError, match="not an MRZ character"):
        check_digit(data)


@given(st.text(alphabet=DIGITS, min_size=1, max_size=20), st.data())
def test_check_digit_catches_every_single_digit_substitution(digits: str, data: st.DataObject):
    # Weights 7, 3, 1 are all coprime with 10, so changing one digit always changes the sum mod 10.
    index = data.draw(st.integers(0, len(digits) - 1))
    new = data.draw(st.sampled_from(DIGITS).filter(lambda d: d != digits[index]))
    changed = digits[:index] + new + digits[index + 1 :]
    assert check_digit(changed) != check_digit(digits)


@given(st.text(alphabet=ALPHABET, min_size=1, max_size=20), st.data())
def test_check_digit_changes_iff_values_differ_mod_10(text: str, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(text) - 1))
    new = data.draw(st.sampled_from(ALPHABET))
    changed = text[:index] + new + text[index + 1 :]
    differs_mod_10 = (icao_value(new) - icao_value(text[index])) % 10 != 0
    assert (check_digit(changed) != check_digit(text)) == differs_mod_10


# --- valid MRZs --------------------------------------------------------------------------------


def test_icao_specimen_parses_to_its_fields() -> None:
    result = parse(SPECIMEN_1, SPECIMEN_2)
    assert result.ok
    assert result.findings == ()  # expired in 2012, and that is not a finding
    assert result.value == Td3(
        document_type="P",
        issuing_state="UTO",
        surname="ERIKSSON",
        given_names="ANNA MARIA",
        document_number="L898902C3",
        nationality="UTO",
        birth_date=date(1974, 8, 12),
        sex="F",
        expiry_date=date(2012, 4, 15),
        optional_data="ZE184226B",
    )


@pytest.mark.parametrize("optional_check", ["<", "0"])
def test_indonesian_passport_with_empty_optional_data_parses(optional_check: str) -> None:
    line1 = make_line1("SIREGAR", "BUTET MARIA")
    line2 = make_line2("C1234567", "IDN", "900817", "F", "290816", "", optional_check)
    assert line2[42] == optional_check
    result = parse(line1, line2)
    assert result.ok, result.findings
    assert result.value == Td3(
        document_type="P",
        issuing_state="IDN",
        surname="SIREGAR",
        given_names="BUTET MARIA",
        document_number="C1234567",
        nationality="IDN",
        birth_date=date(1990, 8, 17),
        sex="F",
        expiry_date=date(2029, 8, 16),
        optional_data="",
    )


def test_single_name_goes_to_surname_and_unspecified_sex_is_x() -> None:
    line1 = make_line1("SUKARNO")
    line2 = make_line2("B7654321", "IDN", "010606", "<", "300101")
    result = parse(line1, line2)
    assert result.ok, result.findings
    assert result.value is not None
    assert (result.value.surname, result.value.given_names) == ("SUKARNO", "")
    assert result.value.sex == "X"
    assert result.value.birth_date == date(2001, 6, 6)


def test_surrounding_whitespace_is_stripped() -> None:
    result = parse(f"  {SPECIMEN_1}\t", f"\n{SPECIMEN_2}  \r\n")
    assert result.ok
    assert result.value is not None
    assert result.value.document_number == "L898902C3"


def test_today_may_be_a_datetime() -> None:
    result = parse_td3(SPECIMEN_1, SPECIMEN_2, today=datetime(2026, 1, 1, 12, 30))
    assert result.ok
    assert result.value is not None
    assert result.value.birth_date == date(1974, 8, 12)


# --- exhaustive single-character mutation of line 2 --------------------------------------------

# Field of each position of line 2 (DOMAIN.md); a check digit belongs to its field.
LINE2_FIELDS: list[tuple[str, range]] = [
    ("mrz.document_number", range(1, 11)),
    ("mrz.nationality", range(11, 14)),
    ("mrz.birth_date", range(14, 21)),
    ("mrz.sex", range(21, 22)),
    ("mrz.expiry_date", range(22, 29)),
    ("mrz.optional_data", range(29, 44)),
    ("mrz.composite", range(44, 45)),
]
CHECK_DIGIT_POSITIONS = frozenset({10, 20, 28, 43, 44})
UNCHECKED_FIELDS = frozenset({"mrz.nationality", "mrz.sex"})  # outside every check digit


def field_of(position: int) -> tuple[str, range]:
    return next((name, span) for name, span in LINE2_FIELDS if position in span)


def well_formed(field: str, text: str) -> bool:
    """The field's own shape rule, which catches what a check digit cannot."""
    if field == "mrz.document_number":
        return re.fullmatch(r"[A-Z0-9]+<*", text) is not None  # fillers only pad on the right
    if field == "mrz.nationality":
        return all(ch in LETTERS + "<" for ch in text) and text != "<<<"
    if field in ("mrz.birth_date", "mrz.expiry_date"):
        # Whether the digits form a real date never matters here: two different digits differ
        # by less than 10, so a digit-for-digit change is always caught by the check digit.
        return all(ch in DIGITS for ch in text)
    if field == "mrz.sex":
        return text in ("M", "F", "<", "X")
    return True  # optional data: any MRZ character


def undetectable(position: int, new: str) -> bool:
    """Decide from ICAO's rules alone whether replacing ``position`` by ``new`` goes unseen."""
    if position in CHECK_DIGIT_POSITIONS:
        # The printed digit no longer equals the computed one (and '<' at 43 is allowed only
        # for unused optional data, which the specimen's is not).
        return False
    field, span = field_of(position)
    # The shape rule is about the data, so leave out the field's check digit (its last position).
    data_stop = span.stop if field in UNCHECKED_FIELDS else span.stop - 1
    value = replace_at(SPECIMEN_2, position, new)[span.start - 1 : data_stop - 1]
    if field in UNCHECKED_FIELDS:
        return well_formed(field, value)
    # The field's check digit and the composite both weigh this position by 7, 3 or 1, all
    # coprime with 10: both stay unchanged exactly when the values differ by a multiple of 10.
    same_mod_10 = (icao_value(new) - icao_value(SPECIMEN_2[position - 1])) % 10 == 0
    return same_mod_10 and well_formed(field, value)


def test_every_single_character_change_of_line_2_is_caught_unless_icao_cannot_see_it() -> None:
    undetected: set[tuple[int, str]] = set()
    expected_undetected: set[tuple[int, str]] = set()
    for position in range(1, 45):
        original = SPECIMEN_2[position - 1]
        field, _ = field_of(position)
        for new in ALPHABET:
            if new == original:
                continue
            if undetectable(position, new):
                expected_undetected.add((position, new))
            result = parse(SPECIMEN_1, replace_at(SPECIMEN_2, position, new))
            if result.ok:
                undetected.add((position, new))
            else:
                assert field in error_fields(result), (position, new, result.errors)
    assert undetected == expected_undetected
    # The computed set is what the module docstring promises, not an empty or trivial one.
    assert {(11, "I"), (13, "<"), (21, "M"), (21, "<"), (21, "X")} <= expected_undetected
    assert {(1, "1"), (1, "B"), (6, "A"), (29, "5"), (37, "L"), (38, "K")} <= expected_undetected
    assert not any(position in range(14, 29) and position != 21 for position, _ in undetected)
    # '0' -> '<' inside the number keeps every check digit; only the shape rule sees it.
    assert (6, "<") not in expected_undetected


# --- line 1 mutations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line1", "code", "field"),
    [
        pytest.param(replace_at(SPECIMEN_1, 8, "i"), "mrz.charset", "mrz.line1", id="lowercase"),
        pytest.param(SPECIMEN_1.lower(), "mrz.charset", "mrz.line1", id="all-lowercase"),
        pytest.param(replace_at(SPECIMEN_1, 9, "é"), "mrz.charset", "mrz.line1", id="accent"),
        pytest.param(replace_at(SPECIMEN_1, 12, "0"), "mrz.name", "mrz.name", id="digit-in-name"),
        pytest.param("P<UTO" + "<" * 39, "mrz.name", "mrz.name", id="empty-name"),
        pytest.param(
            replace_at(SPECIMEN_1, 1, "V"), "mrz.document_type", "mrz.document_type", id="visa"
        ),
        pytest.param(
            replace_at(SPECIMEN_1, 1, "I"), "mrz.document_type", "mrz.document_type", id="id-card"
        ),
        pytest.param(
            replace_at(SPECIMEN_1, 2, "1"), "mrz.document_type", "mrz.document_type", id="P1"
        ),
        pytest.param(
            replace_at(SPECIMEN_1, 4, "7"), "mrz.country_code", "mrz.issuing_state", id="state"
        ),
        pytest.param(
            "P<<<<" + SPECIMEN_1[5:], "mrz.country_code", "mrz.issuing_state", id="no-state"
        ),
        pytest.param(SPECIMEN_1[:-1], "mrz.length", "mrz.line1", id="short"),
        pytest.param(SPECIMEN_1 + "<", "mrz.length", "mrz.line1", id="long"),
        pytest.param("", "mrz.length", "mrz.line1", id="empty"),
    ],
)
def test_line_1_mutations_are_rejected_naming_the_field(line1: str, code: str, field: str):
    result = parse(line1, SPECIMEN_2)
    assert not result.ok
    assert result.value is None
    assert (code, field) in error_pairs(result)
    assert all(f.field not in dict(LINE2_FIELDS) for f in result.findings)  # line 2 is fine


def test_wrong_length_skips_field_checks_of_that_line() -> None:
    # Shifted by one, every field would look wrong; only the line's own problems are reported.
    result = parse("V" + SPECIMEN_1[1:] + "1", "l" + SPECIMEN_2[2:])
    assert error_pairs(result) == {
        ("mrz.length", "mrz.line1"),
        ("mrz.length", "mrz.line2"),
        ("mrz.charset", "mrz.line2"),
    }


def test_every_problem_is_reported_not_just_the_first() -> None:
    line1 = "V1U7O" + "ERIKSS0N<<ANNA" + "<" * 25
    line2 = replace_at(replace_at(SPECIMEN_2, 21, "Q"), 20, "3")
    result = parse(line1, line2)
    assert error_pairs(result) >= {
        ("mrz.document_type", "mrz.document_type"),
        ("mrz.country_code", "mrz.issuing_state"),
        ("mrz.name", "mrz.name"),
        ("mrz.sex", "mrz.sex"),
        ("mrz.check_digit", "mrz.birth_date"),
    }


def test_lowercase_line_2_is_a_charset_error_naming_the_line() -> None:
    result = parse(SPECIMEN_1, SPECIMEN_2.lower())
    assert ("mrz.charset", "mrz.line2") in error_pairs(result)
    message = next(f for f in result.errors if f.code == "mrz.charset").message
    assert "huruf kecil" in message.id
    assert "lowercase" in message.en


@pytest.mark.parametrize(
    ("line1", "line2", "fields"),
    [
        (None, SPECIMEN_2, {"mrz.line1"}),
        (SPECIMEN_1, 44, {"mrz.line2"}),
        (SPECIMEN_1.encode(), SPECIMEN_2.encode(), {"mrz.line1", "mrz.line2"}),
        ([SPECIMEN_1], None, {"mrz.line1", "mrz.line2"}),
    ],
)
def test_values_that_are_not_text_are_a_type_error_finding(line1, line2, fields) -> None:
    result = parse(line1, line2)
    assert not result.ok
    assert error_pairs(result) == {("mrz.type", field) for field in fields}


# --- check digits, one at a time -------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "field"),
    [
        (10, "mrz.document_number"),
        (20, "mrz.birth_date"),
        (28, "mrz.expiry_date"),
        (43, "mrz.optional_data"),
        (44, "mrz.composite"),
    ],
)
@pytest.mark.parametrize("bump", [1, 5, 9])
def test_each_wrong_check_digit_names_its_field(position: int, field: str, bump: int) -> None:
    wrong = str((int(SPECIMEN_2[position - 1]) + bump) % 10)
    result = parse(SPECIMEN_1, replace_at(SPECIMEN_2, position, wrong))
    assert ("mrz.check_digit", field) in error_pairs(result)
    # The composite covers positions 10, 20, 28 and 43, so it may break too; nothing else may.
    assert error_fields(result) <= {field, "mrz.composite"}
    finding = next(f for f in result.errors if f.field == field)
    assert f"posisi {position}" in finding.message.id
    assert f"position {position}" in finding.message.en


@pytest.mark.parametrize(
    ("position", "field"),
    [(10, "mrz.document_number"), (20, "mrz.birth_date"), (28, "mrz.expiry_date")],
)
@pytest.mark.parametrize("printed", ["<", "A"])
def test_a_check_digit_that_is_not_a_digit_is_an_error(position: int, field: str, printed: str):
    result = parse(SPECIMEN_1, replace_at(SPECIMEN_2, position, printed))
    assert ("mrz.check_digit", field) in error_pairs(result)


def test_birth_date_check_digit_message_names_the_field_in_both_languages() -> None:
    result = parse(SPECIMEN_1, replace_at(SPECIMEN_2, 20, "3"))
    finding = next(f for f in result.errors if f.field == "mrz.birth_date")
    assert finding.message.id == "Digit pemeriksa tanggal lahir salah (baris 2, posisi 20)."
    assert finding.message.en == "Birth date check digit is wrong (line 2, position 20)."


def test_optional_data_check_digit_may_be_filler_only_when_the_field_is_unused() -> None:
    # "0" has check digit 0, so '<' would "match" as a value, but ICAO allows '<' only for an
    # unused field: here the field is used.
    line2 = make_line2("C1234567", "IDN", "900817", "M", "290816", "0", optional_check="<")
    assert check_digit("0".ljust(14, "<")) == 0
    assert ("mrz.check_digit", "mrz.optional_data") in error_pairs(parse(SPECIMEN_1, line2))
    unused_but_one = make_line2("C1234567", "IDN", "900817", "M", "290816", "", "1")
    assert ("mrz.check_digit", "mrz.optional_data") in error_pairs(
        parse(SPECIMEN_1, unused_but_one)
    )


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "expected"),
    [
        ("251231", date(2025, 12, 31)),
        ("260101", date(2026, 1, 1)),  # born today
        ("260102", date(1926, 1, 2)),  # tomorrow in 2026 is impossible: a centenarian
        ("000229", date(2000, 2, 29)),
        ("740812", date(1974, 8, 12)),
    ],
)
def test_birth_date_takes_the_latest_century_not_after_today(birth: str, expected: date) -> None:
    result = parse(SPECIMEN_1, make_line2("C1234567", "IDN", birth, "M", "300101"))
    assert result.value is not None, result.findings
    assert result.value.birth_date == expected


def test_birth_on_29_february_skips_a_century_where_that_day_does_not_exist() -> None:
    # 2100 is not a leap year, so "000229" read on 1 March 2100 can only be 29 February 2000.
    result = parse_td3(
        SPECIMEN_1, make_line2("C1234567", "IDN", "000229", "M", "300101"), today=date(2100, 3, 1)
    )
    assert result.value is not None, result.findings
    assert result.value.birth_date == date(2000, 2, 29)


@pytest.mark.parametrize(
    ("expiry", "expected"),
    [
        ("310515", date(2031, 5, 15)),
        ("760101", date(2076, 1, 1)),  # today.year + 50 is still this century
        ("770101", date(1977, 1, 1)),  # more than 50 years ahead: last century
        ("120415", date(2012, 4, 15)),  # expired: a value, not an error
    ],
)
def test_expiry_century(expiry: str, expected: date) -> None:
    result = parse(SPECIMEN_1, make_line2("C1234567", "IDN", "900817", "M", expiry))
    assert result.ok, result.findings
    assert result.value is not None
    assert result.value.expiry_date == expected


@pytest.mark.parametrize(
    ("birth", "expiry", "field"),
    [
        ("740231", "300101", "mrz.birth_date"),  # 31 February
        ("741312", "300101", "mrz.birth_date"),  # month 13
        ("74O812", "300101", "mrz.birth_date"),  # letter O for zero, check digit recomputed
        ("7408<2", "300101", "mrz.birth_date"),
        ("900817", "290229", "mrz.expiry_date"),  # 2029 is not a leap year
        ("900817", "300100", "mrz.expiry_date"),
    ],
)
def test_impossible_dates_are_date_errors(birth: str, expiry: str, field: str) -> None:
    result = parse(SPECIMEN_1, make_line2("C1234567", "IDN", birth, "M", expiry))
    # The check digits were computed over the bad text, so the date rule alone must catch it.
    assert error_pairs(result) == {("mrz.date", field)}


# --- properties ----------------------------------------------------------------------------------


@given(st.text(), st.text())
def test_parser_never_raises_on_arbitrary_text(line1: str, line2: str) -> None:
    result = parse(line1, line2)
    assert not result.ok
    assert result.value is None
    assert len(result.errors) >= 1


@given(
    st.text(alphabet=ALPHABET + "abc <\t", min_size=44, max_size=44),
    st.text(alphabet=ALPHABET + "xyz é", min_size=44, max_size=44),
)
def test_parser_never_raises_on_mrz_like_text(line1: str, line2: str) -> None:
    # Right length and mostly the right alphabet, so every field-level rule gets exercised.
    result = parse(line1, line2)
    assert result.ok == (result.value is not None)
    assert result.ok or len(result.errors) >= 1


names = st.lists(st.text(alphabet=LETTERS, min_size=1, max_size=8), min_size=1, max_size=3)
state_codes = st.text(alphabet=LETTERS + "<", min_size=3, max_size=3).filter(lambda s: s != "<<<")


@st.composite
def td3_mrzs(draw: st.DrawFn) -> tuple[str, str, Td3]:
    kind = "P" + draw(st.sampled_from(LETTERS + "<"))
    issuing_state = draw(state_codes)
    surname = draw(names)
    given_names = draw(st.one_of(st.just([]), names))
    name = "<".join(surname) + ("<<" + "<".join(given_names) if given_names else "")
    assume(len(name) <= 39)
    number = draw(st.from_regex(r"[A-Z0-9]{1,9}", fullmatch=True))
    nationality = draw(state_codes)
    # Birth dates within the last 100 years, expiry dates within the window of the 50-year rule.
    birth = draw(st.dates(date(TODAY.year - 99, 1, 1), TODAY))
    expiry = draw(st.dates(date(TODAY.year + 50 - 99, 1, 1), date(TODAY.year + 50, 12, 31)))
    sex = draw(st.sampled_from("MF<X"))
    optional = draw(st.text(alphabet=ALPHABET, max_size=14))
    unused = set(optional) <= {"<"}
    optional_check = "<" if unused and draw(st.booleans()) else None
    line1 = (kind + issuing_state + name).ljust(44, "<")
    line2 = make_line2(
        number,
        nationality,
        birth.strftime("%y%m%d"),
        sex,
        expiry.strftime("%y%m%d"),
        optional,
        optional_check,
    )
    expected = Td3(
        document_type=kind.rstrip("<"),
        issuing_state=issuing_state.rstrip("<"),
        surname=" ".join(surname),
        given_names=" ".join(given_names),
        document_number=number,
        nationality=nationality.rstrip("<"),
        birth_date=birth,
        sex="X" if sex == "<" else sex,
        expiry_date=expiry,
        optional_data=optional.ljust(14, "<").rstrip("<"),
    )
    return line1, line2, expected


@given(td3_mrzs())
def test_generated_td3_parses_back_to_its_fields(mrz: tuple[str, str, Td3]) -> None:
    line1, line2, expected = mrz
    assert len(line1) == len(line2) == 44
    result = parse(line1, line2)
    assert result.findings == ()
    assert result.value == expected
