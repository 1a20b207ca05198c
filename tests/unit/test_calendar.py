"""Visit kinds, sessions, Paspor Simpatik Saturdays and visit plans.

The Simpatik days are computed here independently of the module, by walking each month's days
and keeping its Saturdays (the seed: Saturdays of the 2nd and 4th week, read as the 2nd and 4th
Saturday of the month).
"""

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldkit.domain.calendar import (
    VisitKind,
    VisitPlan,
    VisitSession,
    check_visit_plan,
    is_simpatik_saturday,
    next_simpatik_saturday,
    simpatik_saturdays,
)

YEARS = range(2024, 2028)
MONTHS = [(year, month) for year in YEARS for month in range(1, 13)]


def days_of(year, month):
    day = date(year, month, 1)
    while day.month == month:
        yield day
        day += timedelta(days=1)


def saturdays(year, month):
    return [d for d in days_of(year, month) if d.isoweekday() == 6]


def all_days():
    return [d for year, month in MONTHS for d in days_of(year, month)]


def codes(checked):
    return [f.code for f in checked.findings]


# --- Simpatik Saturdays -----------------------------------------------------------------------


@pytest.mark.parametrize(("year", "month"), MONTHS)
def test_second_and_fourth_saturdays(year, month):
    found = saturdays(year, month)
    assert simpatik_saturdays(year, month) == (found[1], found[3])


def test_months_starting_on_a_saturday():
    starting = [(y, m) for y, m in MONTHS if date(y, m, 1).isoweekday() == 6]
    # 2024–2027 has such months (June 2024, February 2025 ...); the 1st is the 1st Saturday.
    assert (2024, 6) in starting
    assert (2025, 2) in starting
    for year, month in starting:
        assert simpatik_saturdays(year, month) == (date(year, month, 8), date(year, month, 22))


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2024, (date(2024, 2, 10), date(2024, 2, 24))),  # leap February, begins on a Thursday
        (2028, (date(2028, 2, 12), date(2028, 2, 26))),  # leap February, begins on a Tuesday
        (2026, (date(2026, 2, 14), date(2026, 2, 28))),  # 4th Saturday on the last day
    ],
)
def test_february(year, expected):
    assert simpatik_saturdays(year, 2) == expected
    assert expected == tuple(saturdays(year, 2)[i] for i in (1, 3))


def test_is_simpatik_saturday_every_day_2024_to_2027():
    expected = {d for y, m in MONTHS for d in (saturdays(y, m)[1], saturdays(y, m)[3])}
    assert {d for d in all_days() if is_simpatik_saturday(d)} == expected
    # The 1st, 3rd and 5th Saturdays are not Simpatik days.
    for year, month in MONTHS:
        for d in saturdays(year, month)[0::2]:
            assert not is_simpatik_saturday(d)


def test_next_simpatik_saturday_every_day_2024_to_2027():
    days = all_days()
    simpatik = sorted(d for d in days if is_simpatik_saturday(d))
    simpatik.append(simpatik_saturdays(2028, 1)[0])
    for d in days:
        expected = next(s for s in simpatik if s >= d)
        assert next_simpatik_saturday(d) == expected


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2024, 12, 29), date(2025, 1, 11)),  # across the new year
        (date(2024, 1, 13), date(2024, 1, 13)),  # on a Simpatik day: that day
        (date(2024, 1, 14), date(2024, 1, 27)),
        (date(2024, 2, 25), date(2024, 3, 9)),
    ],
)
def test_next_simpatik_saturday_examples(on, expected):
    assert next_simpatik_saturday(on) == expected


# --- sessions and labels ----------------------------------------------------------------------


def test_sessions_split_the_visit_day_at_noon():
    # DOMAIN.md: 08:00–16:00, morning (pagi) and afternoon (siang/sore) sessions.
    assert (VisitSession.PAGI.start, VisitSession.PAGI.end) == (time(8), time(12))
    assert (VisitSession.SIANG.start, VisitSession.SIANG.end) == (time(12), time(16))
    assert VisitSession.PAGI.label.id.startswith("pagi")
    assert VisitSession.PAGI.label.en.startswith("morning")
    assert "08.00" in VisitSession.PAGI.label.id  # Indonesian writes times with a dot
    assert "16:00" in VisitSession.SIANG.label.en


@pytest.mark.parametrize("enum", [VisitKind, VisitSession])
def test_labels_exist_in_both_languages(enum):
    labels = [member.label for member in enum]
    assert all(label.id and label.en for label in labels)
    assert len({label.en for label in labels}) == len(labels)


# --- visit plans ------------------------------------------------------------------------------

SITE = "Aula Kantor Bupati Karawang"
COORDINATOR = ("Siti Rahmawati", "0812-3456-7890")

VALID = [
    # kind, on, session, site, coordinator name, phone, expected plan
    (
        "eazy",
        "2025-03-12",
        "pagi",
        SITE,
        *COORDINATOR,
        VisitPlan(
            VisitKind.EAZY,
            date(2025, 3, 12),
            VisitSession.PAGI,
            SITE,
            "SITI RAHMAWATI",
            "+6281234567890",
        ),
    ),
    (
        VisitKind.SIMPATIK,
        date(2025, 3, 8),  # 2nd Saturday of March 2025 (the 1st is a Saturday)
        VisitSession.SIANG,
        "  Kanim   Karawang ",
        None,
        None,
        VisitPlan(VisitKind.SIMPATIK, date(2025, 3, 8), VisitSession.SIANG, "Kanim Karawang"),
    ),
    (
        "simpatik",
        "2025-03-22",
        "sore",  # the seed's word for the afternoon session
        "Kanim Karawang",
        None,
        None,
        VisitPlan(VisitKind.SIMPATIK, date(2025, 3, 22), VisitSession.SIANG, "Kanim Karawang"),
    ),
    (
        " OFFICE ",
        datetime(2025, 3, 10, 9, 30),
        "PAGI",
        "Kanim Karawang",
        "",
        "",
        VisitPlan(VisitKind.OFFICE, date(2025, 3, 10), VisitSession.PAGI, "Kanim Karawang"),
    ),
]


@pytest.mark.parametrize(("kind", "on", "session", "site", "name", "phone", "plan"), VALID)
def test_valid_visit_plans(kind, on, session, site, name, phone, plan):
    checked = check_visit_plan(kind, on, session, site, name, phone)
    assert checked.ok
    assert checked.findings == ()
    assert checked.value == plan


INVALID = [
    # why, arguments, expected error codes
    ("unknown kind", ("bus", "2025-03-12", "pagi", SITE), ["visit.unknown_kind"]),
    ("unknown session", ("office", "2025-03-12", "malam", SITE), ["visit.unknown_session"]),
    ("date in Indonesian order", ("office", "12-03-2025", "pagi", SITE), ["visit.date"]),
    ("date that does not exist", ("office", "2025-02-29", "pagi", SITE), ["visit.date"]),
    ("date as a number", ("office", 20250312, "pagi", SITE), ["visit.date"]),
    ("blank site", ("office", "2025-03-12", "pagi", "   "), ["visit.site_missing"]),
    ("no site", ("office", "2025-03-12", "pagi", None), ["visit.site_missing"]),
    (
        "eazy without coordinator",
        ("eazy", "2025-03-12", "pagi", SITE),
        ["visit.coordinator_name_missing", "visit.coordinator_phone_missing"],
    ),
    (
        "eazy with a landline",
        ("eazy", "2025-03-12", "pagi", SITE, COORDINATOR[0], "021-5551234"),
        ["phone.not_mobile"],
    ),
    (
        "eazy with a bad name",
        ("eazy", "2025-03-12", "pagi", SITE, "Siti 2", COORDINATOR[1]),
        ["name.charset"],
    ),
    ("simpatik on a 1st Saturday", ("simpatik", "2025-03-01", "pagi", SITE), None),
    ("simpatik on a 3rd Saturday", ("simpatik", "2025-03-15", "pagi", SITE), None),
    ("simpatik on a 5th Saturday", ("simpatik", "2025-03-29", "pagi", SITE), None),
    ("simpatik on a weekday", ("simpatik", "2025-03-12", "pagi", SITE), None),
    ("nothing right", (None, None, None, None), None),
]


@pytest.mark.parametrize(("why", "args", "expected"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_visit_plans(why, args, expected):
    checked = check_visit_plan(*args)
    assert not checked.ok, why
    assert checked.value is None
    if expected is not None:
        assert codes(checked) == expected
    for finding in checked.findings:
        assert finding.message.id and finding.message.en


@pytest.mark.parametrize("on", ["2025-03-01", "2025-03-15", "2025-03-29", "2025-03-12"])
def test_simpatik_error_names_the_next_simpatik_saturday(on):
    checked = check_visit_plan("simpatik", on, "pagi", SITE)
    assert codes(checked) == ["visit.not_simpatik_saturday"]
    day = date.fromisoformat(on)
    suggestion = next(s for s in all_days() if s >= day and is_simpatik_saturday(s))
    message = checked.findings[0].message
    assert f"{suggestion.day} " in message.id  # "Sabtu, 8 Maret 2025"
    assert "Sabtu" in message.id
    assert f"Saturday {suggestion.day} " in message.en


def test_all_problems_reported_together():
    checked = check_visit_plan("eazy", "2025-13-01", "malam", "")
    assert set(codes(checked)) == {
        "visit.date",
        "visit.unknown_session",
        "visit.site_missing",
        "visit.coordinator_name_missing",
        "visit.coordinator_phone_missing",
    }


def test_office_on_a_sunday_warns():
    checked = check_visit_plan("office", "2025-03-16", "pagi", "Kanim Karawang")
    assert checked.ok  # allowed ...
    assert [f.code for f in checked.warnings] == ["visit.office_sunday"]  # ... but flagged
    assert "Minggu" in checked.findings[0].message.id


@pytest.mark.parametrize("kind", ["eazy", "simpatik"])
def test_sunday_warning_is_only_for_the_office(kind):
    checked = check_visit_plan(kind, "2025-03-16", "pagi", SITE, *COORDINATOR)
    assert "visit.office_sunday" not in codes(checked)


def test_optional_coordinator_is_checked_when_given():
    checked = check_visit_plan("office", "2025-03-12", "pagi", SITE, "budi", "+62 812 0000 1111")
    assert checked.value.coordinator_name == "BUDI"
    assert checked.value.coordinator_phone == "+6281200001111"
    assert codes(check_visit_plan("office", "2025-03-12", "pagi", SITE, None, "12")) != []


def test_last_simpatik_saturday_of_the_calendar_does_not_break_the_check():
    checked = check_visit_plan("simpatik", "9999-12-31", "pagi", SITE)
    assert codes(checked) == ["visit.not_simpatik_saturday"]


ANYTHING = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(), st.dates(), st.lists(st.text())
)


@given(
    kind=st.one_of(ANYTHING, st.sampled_from([k.value for k in VisitKind])),
    on=st.one_of(ANYTHING, st.dates().map(date.isoformat)),
    session=st.one_of(ANYTHING, st.sampled_from(["pagi", "siang", "sore"])),
    site=ANYTHING,
    name=ANYTHING,
    phone=ANYTHING,
)
def test_check_visit_plan_never_raises(kind, on, session, site, name, phone):
    checked = check_visit_plan(kind, on, session, site, name, phone)
    assert checked.ok == (checked.value is not None)
    if checked.ok and checked.value.kind is VisitKind.SIMPATIK:
        assert is_simpatik_saturday(checked.value.on)
    if checked.ok and checked.value.kind is VisitKind.EAZY:
        assert checked.value.coordinator_phone.startswith("+628")
