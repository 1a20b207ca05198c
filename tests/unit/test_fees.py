"""Fee schedules as data, the schedule in force on a day, quotes, and the schedule parser.

Expected amounts are DOMAIN.md's fee table, typed in here; effective dates are those of the
regulations (PP 28/2019 in force 2019-05-03, PP 45/2024 in force 2024-12-17).
"""

import copy
import json
from datetime import date
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldkit.domain.applications import ApplicationType
from fieldkit.domain.fees import (
    FeeSchedule,
    default_fee_schedules,
    parse_fee_schedules,
    quote_fee,
    schedule_on,
)
from fieldkit.domain.products import PassportKind, Product

PP28, PP45 = "PP 28/2019", "PP 45/2024"
PP28_FROM, PP45_FROM = date(2019, 5, 3), date(2024, 12, 17)

# DOMAIN.md "Fees and fines": item -> (PP 28/2019, PP 45/2024); None where the table has "—".
TABLE = {
    "passport.ordinary.5": (350_000, 350_000),
    "passport.ordinary.10": (None, 650_000),
    "passport.electronic.5": (650_000, 650_000),
    "passport.electronic.10": (None, 950_000),
    "service.same_day": (1_000_000, 1_000_000),
    "fine.lost": (1_000_000, 1_000_000),
    "fine.damaged": (500_000, 500_000),
    "fine.force_majeure": (0, 0),
}
COLUMN = {PP28: 0, PP45: 1}

# The day before, the day of, and a day well into each regulation.
DAYS = [
    (date(2019, 5, 2), None),
    (PP28_FROM, PP28),
    (date(2022, 8, 17), PP28),
    (date(2024, 12, 16), PP28),
    (PP45_FROM, PP45),
    (date(2026, 11, 28), PP45),
]
IN_FORCE = [(day, regulation) for day, regulation in DAYS if regulation is not None]

NEW, EXPIRED = ApplicationType.NEW, ApplicationType.EXPIRED
LOST, DAMAGED = ApplicationType.LOST, ApplicationType.DAMAGED


def codes(checked):
    return [f.code for f in checked.findings]


def product(item):
    _, kind, years = item.split(".")
    return Product(PassportKind(kind), int(years))


PASSPORTS = [item for item in TABLE if item.startswith("passport.")]


# --- the packaged schedules -------------------------------------------------------------------


def test_packaged_schedules_match_the_domain_table():
    schedules = default_fee_schedules()
    assert [(s.regulation, s.effective_from) for s in schedules] == [
        (PP28, PP28_FROM),
        (PP45, PP45_FROM),
    ]
    for schedule in schedules:
        column = COLUMN[schedule.regulation]
        expected = {item: row[column] for item, row in TABLE.items() if row[column] is not None}
        assert dict(schedule.items) == expected
        assert schedule.source
    # The disputed PP 45/2024 date is recorded, with the dates the press gave.
    assert all(day in schedules[1].note for day in ("17", "18", "22"))


def test_packaged_file_parses_without_any_finding():
    raw = resources.files("fieldkit.domain").joinpath("data/fees.json").read_text("utf-8")
    checked = parse_fee_schedules(json.loads(raw))
    assert checked.ok
    assert checked.findings == ()
    assert checked.value == default_fee_schedules()


def test_default_schedules_are_read_once():
    assert default_fee_schedules() is default_fee_schedules()


def test_schedule_items_are_read_only():
    items = {"passport.ordinary.5": 1, "service.same_day": 2}
    schedule = FeeSchedule("PP X", date(2030, 1, 1), "test", "", items)
    items["passport.ordinary.5"] = 999  # the caller's dict changing later changes nothing
    assert schedule.amount("passport.ordinary.5") == 1
    with pytest.raises(TypeError):
        schedule.items["passport.ordinary.5"] = 0  # type: ignore[index]
    assert schedule.amount("fine.lost") is None


# --- which schedule is in force ---------------------------------------------------------------


@pytest.mark.parametrize(("on", "regulation"), DAYS)
def test_schedule_on(on, regulation):
    schedule = schedule_on(default_fee_schedules(), on)
    assert (schedule.regulation if schedule else None) == regulation


def test_schedule_on_does_not_rely_on_order():
    pp28, pp45 = default_fee_schedules()
    assert schedule_on((pp45, pp28), date(2025, 1, 1)) is pp45
    assert schedule_on((pp45, pp28), date(2020, 1, 1)) is pp28
    assert schedule_on((), date(2025, 1, 1)) is None


# --- quotes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("on", "regulation"), IN_FORCE)
@pytest.mark.parametrize("item", PASSPORTS)
def test_passport_fee_on_each_side_of_each_date(item, on, regulation):
    expected = TABLE[item][COLUMN[regulation]]
    checked = quote_fee(app_type=NEW, product=product(item), on=on)
    if expected is None:
        # A 10-year passport before PP 45/2024: the message names the regulation in force.
        assert codes(checked) == ["fee.product_not_offered"]
        for text in (checked.findings[0].message.id, checked.findings[0].message.en):
            assert regulation in text
            assert PP45 in text  # ...and when the product becomes available
        return
    assert checked.ok
    quote = checked.value
    assert quote.regulation == regulation
    assert [(line.item, line.amount) for line in quote.lines] == [(item, expected)]
    assert quote.total == expected


@pytest.mark.parametrize("item", PASSPORTS)
def test_no_schedule_before_pp28(item):
    checked = quote_fee(app_type=NEW, product=product(item), on=date(2019, 5, 2))
    assert codes(checked) == ["fee.no_schedule"]
    assert "2019-05-03" in checked.findings[0].message.en


def test_no_schedule_loaded_at_all():
    checked = quote_fee(
        app_type=NEW, product=product("passport.ordinary.5"), on=date(2025, 1, 1), schedules=()
    )
    assert codes(checked) == ["fee.no_schedule"]


# (app type, force majeure) -> the fine row DOMAIN.md charges, or None for no fine line.
FINES = [
    (NEW, False, None),
    (EXPIRED, False, None),
    (LOST, False, "fine.lost"),
    (DAMAGED, False, "fine.damaged"),
    (LOST, True, "fine.force_majeure"),
    (DAMAGED, True, "fine.force_majeure"),
]


@pytest.mark.parametrize(("on", "regulation"), IN_FORCE)
@pytest.mark.parametrize("same_day", [False, True])
@pytest.mark.parametrize(("app_type", "force_majeure", "fine"), FINES)
def test_quote_lines_and_total(app_type, force_majeure, fine, same_day, on, regulation):
    column = COLUMN[regulation]
    base = "passport.ordinary.5"
    expected = [(base, TABLE[base][column])]
    if same_day:
        expected.append(("service.same_day", TABLE["service.same_day"][column]))
    if fine is not None:
        expected.append((fine, TABLE[fine][column]))
    checked = quote_fee(
        app_type=app_type,
        product=product(base),
        same_day=same_day,
        force_majeure=force_majeure,
        on=on,
    )
    assert checked.ok
    quote = checked.value
    assert [(line.item, line.amount) for line in quote.lines] == expected
    assert quote.total == sum(amount for _, amount in expected)
    assert all(line.label.id and line.label.en for line in quote.lines)


def test_the_seed_figures():
    # The seed: "Rp350 ribu" for a passport and "satu juta" for a lost one, on the day it was
    # written (PP 28/2019 era).
    checked = quote_fee(app_type=LOST, product=product("passport.ordinary.5"), on=date(2023, 3, 1))
    assert [line.amount for line in checked.value.lines] == [350_000, 1_000_000]


def test_lost_electronic_ten_years_same_day_under_pp45():
    checked = quote_fee(
        app_type=LOST,
        product=product("passport.electronic.10"),
        same_day=True,
        on=PP45_FROM,
    )
    assert checked.value.total == 950_000 + 1_000_000 + 1_000_000
    assert checked.value.regulation == PP45


@pytest.mark.parametrize("app_type", [NEW, EXPIRED])
def test_force_majeure_only_for_lost_or_damaged(app_type):
    checked = quote_fee(
        app_type=app_type,
        product=product("passport.ordinary.5"),
        force_majeure=True,
        on=date(2025, 1, 1),
    )
    assert codes(checked) == ["fee.force_majeure_not_applicable"]
    assert checked.value is None


def test_every_error_is_reported_at_once():
    checked = quote_fee(
        app_type=NEW,
        product=product("passport.ordinary.10"),
        force_majeure=True,
        on=date(2024, 12, 16),
    )
    assert sorted(codes(checked)) == ["fee.force_majeure_not_applicable", "fee.product_not_offered"]


def test_a_schedule_built_in_code_without_a_fine():
    schedule = FeeSchedule("PP X", date(2030, 1, 1), "test", "", {"passport.ordinary.5": 1})
    checked = quote_fee(
        app_type=LOST,
        product=product("passport.ordinary.5"),
        on=date(2030, 1, 1),
        schedules=(schedule,),
    )
    assert codes(checked) == ["fee.item_missing"]


def test_unknown_application_type_is_a_finding():
    checked = quote_fee(
        app_type="stolen", product=product("passport.ordinary.5"), on=date(2025, 1, 1)
    )
    assert codes(checked) == ["application.unknown_type"]


def test_hq_publishes_a_later_schedule():
    document = json.loads(
        resources.files("fieldkit.domain").joinpath("data/fees.json").read_text("utf-8")
    )
    later = copy.deepcopy(document["schedules"][1])
    later.update(regulation="PP 99/2027", effective_from="2027-07-01", note="")
    later["items"]["passport.ordinary.5"] = 400_000
    document["schedules"].insert(0, later)  # order in the file does not matter
    checked = parse_fee_schedules(document)
    assert checked.ok
    schedules = checked.value
    assert [s.regulation for s in schedules] == [PP28, PP45, "PP 99/2027"]
    quote = quote_fee(
        app_type=NEW,
        product=product("passport.ordinary.5"),
        on=date(2027, 7, 1),
        schedules=schedules,
    )
    assert quote.value.total == 400_000
    assert quote.value.regulation == "PP 99/2027"


# --- the parser on bad data -------------------------------------------------------------------


def valid_document():
    return {
        "format": 1,
        "schedules": [
            {
                "regulation": PP28,
                "effective_from": "2019-05-03",
                "source": "PP 28/2019",
                "note": "",
                "items": {item: row[0] for item, row in TABLE.items() if row[0] is not None},
            },
            {
                "regulation": PP45,
                "effective_from": "2024-12-17",
                "source": "PP 45/2024",
                "note": "Art. 13",
                "items": {item: row[1] for item, row in TABLE.items()},
            },
        ],
    }


def mutate(change):
    document = valid_document()
    change(document)
    return document


def first_schedule(change):
    return mutate(lambda d: change(d["schedules"][0]))


def first_items(change):
    return mutate(lambda d: change(d["schedules"][0]["items"]))


def set_item(item, value):
    return first_items(lambda items: items.__setitem__(item, value))


def drop(key):
    return first_schedule(lambda s: s.pop(key))


def set_key(key, value):
    return first_schedule(lambda s: s.__setitem__(key, value))


BAD = [
    ("not an object", [], "fee.data.structure"),
    ("a string", "fees", "fee.data.structure"),
    ("null", None, "fee.data.structure"),
    ("missing format", mutate(lambda d: d.pop("format")), "fee.data.missing_key"),
    ("format 2", mutate(lambda d: d.update(format=2)), "fee.data.format"),
    ("format as text", mutate(lambda d: d.update(format="1")), "fee.data.format"),
    ("format true", mutate(lambda d: d.update(format=True)), "fee.data.format"),
    ("format 1.0", mutate(lambda d: d.update(format=1.0)), "fee.data.format"),
    ("missing schedules", mutate(lambda d: d.pop("schedules")), "fee.data.missing_key"),
    ("schedules an object", mutate(lambda d: d.update(schedules={})), "fee.data.structure"),
    ("no schedules", mutate(lambda d: d.update(schedules=[])), "fee.data.empty"),
    ("schedule a list", mutate(lambda d: d["schedules"].append([])), "fee.data.structure"),
    ("missing regulation", drop("regulation"), "fee.data.missing_key"),
    ("missing effective_from", drop("effective_from"), "fee.data.missing_key"),
    ("missing source", drop("source"), "fee.data.missing_key"),
    ("missing items", drop("items"), "fee.data.missing_key"),
    ("blank regulation", set_key("regulation", "  "), "fee.data.text"),
    ("regulation a number", set_key("regulation", 28), "fee.data.text"),
    ("note a number", set_key("note", 1), "fee.data.text"),
    ("date without padding", set_key("effective_from", "2019-5-3"), "fee.data.date"),
    ("date that does not exist", set_key("effective_from", "2019-02-30"), "fee.data.date"),
    ("date as a number", set_key("effective_from", 20190503), "fee.data.date"),
    ("date in Indonesian order", set_key("effective_from", "03-05-2019"), "fee.data.date"),
    ("items a list", set_key("items", []), "fee.data.structure"),
    ("float amount", set_item("passport.ordinary.5", 350000.0), "fee.data.amount"),
    ("negative amount", set_item("fine.lost", -1), "fee.data.amount"),
    ("bool amount", set_item("fine.force_majeure", False), "fee.data.amount"),
    ("text amount", set_item("fine.damaged", "500000"), "fee.data.amount"),
    ("null amount", set_item("service.same_day", None), "fee.data.amount"),
    ("unknown item", set_item("passport.ordinary.7", 1), "fee.data.unknown_item"),
    ("unknown fine", set_item("fine.stolen", 1), "fee.data.unknown_item"),
    ("missing fine", first_items(lambda i: i.pop("fine.lost")), "fee.data.missing_item"),
    (
        "no passport at all",
        first_items(lambda i: [i.pop(k) for k in list(i) if k.startswith("passport.")]),
        "fee.data.missing_item",
    ),
    (
        "two schedules on one date",
        mutate(lambda d: d["schedules"][1].update(effective_from="2019-05-03")),
        "fee.data.duplicate_date",
    ),
]


@pytest.mark.parametrize(("why", "data", "code"), BAD, ids=[case[0] for case in BAD])
def test_parser_rejects_bad_data(why, data, code):
    checked = parse_fee_schedules(data)
    assert not checked.ok, why
    assert checked.value is None
    assert code in [f.code for f in checked.errors]
    for finding in checked.findings:
        assert finding.field.startswith("fees")
        assert finding.message.id and finding.message.en


def test_parser_reports_every_problem_in_one_pass():
    document = valid_document()
    document["schedules"][0]["items"]["fine.lost"] = -5
    document["schedules"][1]["effective_from"] = "2024-13-01"
    checked = parse_fee_schedules(document)
    assert {f.code for f in checked.errors} == {"fee.data.amount", "fee.data.date"}
    fields = {f.field for f in checked.errors}
    assert "fees.schedules[0].items['fine.lost']" in fields
    assert "fees.schedules[1].effective_from" in fields


def test_note_is_optional_and_unknown_keys_only_warn():
    document = valid_document()
    del document["schedules"][0]["note"]
    document["schedules"][1]["signed_on"] = "2024-10-18"
    document["published_by"] = "Direktorat Jenderal Imigrasi"
    checked = parse_fee_schedules(document)
    assert checked.ok
    assert checked.value[0].note == ""
    assert sorted(f.code for f in checked.warnings) == ["fee.data.unknown_key"] * 2


def test_a_huge_bad_value_keeps_the_message_short():
    checked = parse_fee_schedules(set_item("fine.lost", "9" * 10_000))
    assert max(len(f.message.en) for f in checked.findings) < 200


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@given(JSON)
def test_parser_survives_arbitrary_json(data):
    checked = parse_fee_schedules(data)
    assert checked.ok == (checked.value is not None)
    assert not checked.ok  # nothing random is a valid fee document


# Keys the parser looks for, so that random documents reach past the first checks.
NEAR_VALID = st.fixed_dictionaries(
    {
        "format": st.one_of(st.just(1), JSON),
        "schedules": st.lists(
            st.fixed_dictionaries(
                {
                    "regulation": st.one_of(st.just(PP45), JSON),
                    "effective_from": st.one_of(st.dates().map(date.isoformat), JSON),
                    "source": st.one_of(st.just("HQ"), JSON),
                    "items": st.one_of(st.dictionaries(st.sampled_from(sorted(TABLE)), JSON), JSON),
                }
            ),
            max_size=3,
        ),
    }
)


@given(NEAR_VALID)
def test_parser_survives_nearly_valid_documents(data):
    checked = parse_fee_schedules(data)
    assert checked.ok == (checked.value is not None)


@given(st.sampled_from(sorted(TABLE)), JSON)
def test_an_amount_is_accepted_only_as_a_non_negative_int(item, value):
    checked = parse_fee_schedules(set_item(item, value))
    is_amount = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    assert checked.ok is is_amount
    if is_amount:
        assert checked.value[0].amount(item) == value
