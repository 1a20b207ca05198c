"""The check-in rules: name search, arrival checks, walk-in groups and quota, queue numbers."""

from __future__ import annotations

from datetime import date

import pytest

from fieldkit.domain.checkin import NameIndex, check_arrival, fold, priority_group
from fieldkit.domain.counter import QueueSeries, WalkInGroup
from fieldkit.domain.queueing import empty_queue, next_number, series_for
from fieldkit.domain.walkin import REFUSALS, check_walk_in

DAY = date(2026, 12, 1)
SIMPATIK_DAY = date(2026, 12, 12)


# -- fold and the name index -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("SITI NURHALIZA", "siti nurhaliza"),
        ("  Siti   Nurhaliza ", "siti nurhaliza"),
        ("Désirée Çelik", "desiree celik"),
        ("NUR'AINI", "nuraini"),
        ("Nur’Aini", "nuraini"),
        ("AL-FARIZI", "al farizi"),
        ("ＡＧＵＳ", "agus"),  # full-width letters (NFKD)
        ("STRAßE", "strasse"),  # casefold, not lower
    ],
)
def test_fold_strips_accents_case_and_extra_spaces(raw, folded):
    assert fold(raw) == folded


ROSTER = [
    ("e1", "SITI NURHALIZA", "BK0001AA", "3201014101900001"),
    ("e2", "AHMAD SITI RAHMAN", "BK0002AA", None),
    ("e3", "SRIWATI", None, None),
    ("e4", "SITI", None, None),
    ("e5", "NUR'AINI SITI", None, None),
    ("e6", "BUDI SANTOSO", None, None),
    ("e7", "DÉSIRÉE WATI", None, None),
]


def ids(found):
    return [e.entry_id for e in found]


@pytest.fixture(scope="module")
def index():
    return NameIndex(ROSTER)


def test_a_word_prefix_finds_every_name_with_a_word_starting_so_best_first(index):
    # The name equal to the query, then names starting with it, then later words.
    assert ids(index.lookup("siti")) == ["e4", "e1", "e2", "e5"]


def test_the_search_ignores_case_and_accents_on_both_sides(index):
    # Word order does not matter; the name starting with the query comes first.
    assert ids(index.lookup("SiTi NuR")) == ["e1", "e5"]
    assert ids(index.lookup("desiree")) == ["e7"]
    assert ids(index.lookup("désirée")) == ["e7"]
    assert ids(index.lookup("nuraini")) == ["e5"]
    assert ids(index.lookup("nur'aini")) == ["e5"]


def test_two_letters_are_enough_for_a_prefix(index):
    assert ids(index.lookup("bu")) == ["e6"]
    assert ids(index.lookup("sr")) == ["e3"]


def test_a_part_inside_a_word_is_found_after_the_prefixes(index):
    # "wati" starts a word of e7 and sits inside SRIWATI.
    assert ids(index.lookup("wati")) == ["e7", "e3"]
    assert ids(index.lookup("toso")) == ["e6"]


def test_every_word_of_the_query_must_start_a_word_of_the_name(index):
    assert ids(index.lookup("siti rah")) == ["e2"]
    assert ids(index.lookup("siti zzz")) == []


def test_limit_and_empty_queries(index):
    assert len(index.lookup("siti", limit=2)) == 2
    assert index.lookup("") == [] and index.lookup("   ") == [] and index.lookup("'") == []
    assert index.lookup("x", limit=0) == []


def test_the_index_answers_membership_and_entries(index):
    assert "e1" in index and "nope" not in index and len(index) == len(ROSTER)
    entry = index.entry("e1")
    assert entry is not None and entry.booking_code == "BK0001AA"
    assert index.entry("nope") is None


def test_a_large_roster_ranks_an_exact_name_first():
    many = [(f"x{i}", f"SITI NAMA{i}", None, None) for i in range(2000)] + [
        ("t", "SITI", None, None)
    ]
    assert ids(NameIndex(many).lookup("siti", limit=3))[0] == "t"


# -- arrivals --------------------------------------------------------------------------------------


def codes(findings):
    return [(f.code, f.severity.value) for f in findings]


def test_an_expected_entry_on_its_day_and_session_may_arrive():
    assert check_arrival("expected", DAY, "pagi", DAY, "pagi") == ()
    assert check_arrival("expected", None, None, DAY, "pagi") == (), "a coordinator's list"


def test_checking_in_twice_is_refused_with_when_and_the_queue_number():
    [f] = check_arrival(
        "arrived", DAY, "pagi", DAY, "pagi", arrived_at="2026-12-01 08:14 UTC", queue_label="A-007"
    )
    assert f.code == "checkin.already_arrived" and f.is_error
    for text in (f.message.id, f.message.en):
        assert "2026-12-01 08:14 UTC" in text and "A-007" in text


def test_a_booking_for_another_day_is_refused():
    [f] = check_arrival("expected", date(2026, 12, 2), "pagi", DAY, "pagi")
    assert f.code == "checkin.other_date" and f.is_error
    assert "2026-12-02" in f.message.en and "2026-12-01" in f.message.id


def test_a_booking_for_the_other_session_is_a_warning():
    assert codes(check_arrival("expected", DAY, "siang", DAY, "pagi")) == [
        ("checkin.other_session", "warning")
    ]


@pytest.mark.parametrize(
    ("state", "code"), [("no_show", "checkin.no_show"), ("withdrawn", "checkin.withdrawn")]
)
def test_no_shows_and_withdrawn_entries_are_refused(state, code):
    assert codes(check_arrival(state, DAY, "pagi", DAY, "pagi")) == [(code, "error")]


@pytest.mark.parametrize(
    ("born", "group"),
    [
        (date(1966, 12, 1), WalkInGroup.ELDERLY),  # 60 on the day
        (date(1966, 12, 2), None),  # 59 until tomorrow
        (date(2021, 12, 2), WalkInGroup.UNDER_FIVE),  # 4
        (date(2021, 12, 1), None),  # 5 on the day
        (None, None),
    ],
)
def test_priority_group_by_age_on_the_day(born, group):
    assert priority_group(born, DAY) is group


# -- walk-ins --------------------------------------------------------------------------------------


def walk(group, reason="kursi roda", *, born=date(1950, 5, 5), kind="eazy", so_far=0, quota=None):
    return check_walk_in(
        group,
        reason,
        birth_date=born,
        on=SIMPATIK_DAY if kind == "simpatik" else DAY,
        visit_kind=kind,
        walk_ins_so_far=so_far,
        quota=quota,
    )


def error_codes(checked):
    return [f.code for f in checked.errors]


def test_the_priority_groups_may_walk_in():
    assert walk("elderly").value is WalkInGroup.ELDERLY
    assert walk("under_five", "balita", born=date(2023, 1, 1)).value is WalkInGroup.UNDER_FIVE
    assert walk("disability", "tunanetra", born=date(1990, 1, 1)).value is WalkInGroup.DISABILITY
    assert walk("elderly", kind="office").ok


def test_a_walk_in_outside_the_priority_groups_is_refused_with_a_reason_to_read_out():
    checked = walk("elderly", born=date(1980, 1, 1))
    assert error_codes(checked) == ["walkin.not_priority"]
    assert "60" in checked.errors[0].message.id and "M-Paspor" in checked.errors[0].message.en
    assert error_codes(walk("under_five", born=date(2020, 1, 1))) == ["walkin.not_priority"]
    assert error_codes(walk("vip")) == ["walkin.not_priority"]


def test_the_simpatik_quota_is_only_for_a_simpatik_visit():
    assert error_codes(walk("simpatik_quota", born=date(1990, 1, 1))) == ["walkin.not_simpatik"]
    assert walk("simpatik_quota", born=date(1990, 1, 1), kind="simpatik", quota=2).ok


def test_the_simpatik_quota_is_refused_once_full():
    ok = walk("simpatik_quota", kind="simpatik", so_far=1, quota=2)
    full = walk("simpatik_quota", kind="simpatik", so_far=2, quota=2)
    assert ok.ok and error_codes(full) == ["walkin.quota_full"]
    assert "(2)" in full.errors[0].message.en
    assert error_codes(walk("simpatik_quota", kind="simpatik", quota=None)) == ["walkin.quota_full"]
    # Priority groups are not refused by a full quota.
    assert walk("elderly", kind="simpatik", so_far=5, quota=2).ok


@pytest.mark.parametrize("reason", [None, "", "   ", 7])
def test_every_walk_in_needs_a_reason(reason):
    assert error_codes(walk("elderly", reason)) == ["walkin.reason_required"]
    assert error_codes(walk("disability", reason)) == ["walkin.reason_required"]
    assert "walkin.reason_required" not in REFUSALS, "invalid input, not a refusal"


def test_refusals_and_a_missing_reason_are_all_reported():
    checked = walk("elderly", "", born=date(1990, 1, 1))
    assert sorted(error_codes(checked)) == ["walkin.not_priority", "walkin.reason_required"]


# -- queue numbers ---------------------------------------------------------------------------------


def test_queue_numbers_run_per_series_without_gaps():
    last = empty_queue()["last"]
    handed = []
    for series in "AAPAPA":
        last, number = next_number(last, series)
        handed.append(f"{series}{number}")
    assert handed == ["A1", "A2", "P1", "A3", "P2", "A4"]
    assert last == {"A": 4, "P": 2}


def test_next_number_leaves_its_input_alone_and_fills_missing_series():
    last = {"A": 3}
    assert next_number(last, QueueSeries.PRIORITY) == ({"A": 3, "P": 1}, 1)
    assert last == {"A": 3}
    with pytest.raises(ValueError):
        next_number(last, "Z")


def test_the_series_of_priority_and_regular_arrivals():
    assert series_for(True) is QueueSeries.PRIORITY and series_for(False) is QueueSeries.REGULAR
    assert empty_queue() == {"format": 1, "last": {"A": 0, "P": 0}, "walk_ins": 0}
