"""The synthetic visit day: deterministic, complete, consistent with the domain rules."""

from __future__ import annotations

from datetime import date

import pytest

from fieldkit.domain.applicant import check_applicant
from fieldkit.domain.dates import age_on
from fieldkit.domain.synth import is_synthetic_serial
from fieldkit.domain.synthday import synthetic_day

ON = date(2026, 12, 10)


def test_the_same_seed_gives_the_same_day_and_another_seed_another():
    one = synthetic_day(3, 60, on=ON).as_json()
    assert synthetic_day(3, 60, on=ON).as_json() == one
    assert synthetic_day(4, 60, on=ON).as_json() != one


def test_every_booked_person_either_arrives_or_is_a_no_show():
    day = synthetic_day(1, 60, on=ON)
    booked = {str(r["booking_code"]) for r in day.roster}
    arrived = [str(a["booking_code"]) for a in day.arrivals if a["walk_in"] is None]
    assert len(arrived) == len(set(arrived))
    assert set(arrived) | set(day.no_shows) == booked
    assert not set(arrived) & set(day.no_shows)
    expected = day.expected()
    assert expected["arrived"] + expected["no_shows"] == expected["roster"] == 60


def test_the_day_has_every_case_once_or_in_its_share():
    day = synthetic_day(2, 60, on=ON)
    cases = [a["case"] for a in day.arrivals]
    assert cases.count("lost_passport") == 1
    assert cases.count("watchlist") == 1
    assert cases.count("walk_in") == 3
    assert cases.count("missing_document") == 6
    assert len(day.no_shows) == 6
    groups = sorted(a["walk_in"]["group"] for a in day.arrivals if a["walk_in"])  # type: ignore[index]
    assert groups == ["disability", "elderly", "under_five"]


def test_the_watchlisted_person_is_booked_and_arrives():
    day = synthetic_day(5, 40, on=ON)
    (nik,) = day.watchlist
    watched = next(a for a in day.arrivals if a["case"] == "watchlist")
    row = next(r for r in day.roster if r["booking_code"] == watched["booking_code"])
    assert row["nik"] == nik


def test_walk_ins_fit_their_priority_group_on_the_day():
    for seed in range(5):
        for arrival in synthetic_day(seed, 30, on=ON).arrivals:
            walk_in = arrival["walk_in"]
            if walk_in is None:
                continue
            age = age_on(date.fromisoformat(walk_in["birth_date"]), ON)  # type: ignore[index]
            group = walk_in["group"]  # type: ignore[index]
            assert (group != "elderly" or age >= 60) and (group != "under_five" or age < 5)


def test_arrival_times_rise_through_the_session():
    times = [str(a["at"]) for a in synthetic_day(1, 60, on=ON).arrivals]
    assert times == sorted(times)
    assert times[0] >= "08:00:00" and times[-1] <= "11:30:00"


def test_what_the_officer_types_passes_the_applicant_rules():
    """Each accepted applicant's roster row plus the counter fields is a valid applicant."""
    day = synthetic_day(1, 60, on=ON)
    rows = {r["booking_code"]: r for r in day.roster}
    for arrival in day.arrivals:
        if arrival["case"] != "accepted":
            continue
        row = rows[arrival["booking_code"]]
        person = {k: row[k] for k in ("name", "nik", "birth_date", "application_type", "phone")}
        checked = check_applicant(
            {**person, "booking_code": row["booking_code"], **arrival["set"]},  # type: ignore[dict-item]
            on=ON,
            visit_kind="eazy",
        )
        assert checked.ok, [f.code for f in checked.errors]
        assert checked.value["fee"]["total"] == arrival["payment"]["amount"]  # type: ignore[index]


def test_pending_applicants_name_a_missing_document_and_a_due_date():
    for arrival in synthetic_day(1, 60, on=ON).arrivals:
        if arrival["case"] == "missing_document":
            decision = arrival["decision"]
            (missing,) = decision["missing"]  # type: ignore[index]
            assert arrival["documents"][missing] == "missing"  # type: ignore[index]
            assert decision["due"] > ON.isoformat()  # type: ignore[index]


def test_every_person_is_synthetic():
    day = synthetic_day(7, 60, on=ON)
    niks = [str(r["nik"]) for r in day.roster] + [
        str(a["walk_in"]["nik"])
        for a in day.arrivals
        if a["walk_in"]  # type: ignore[index]
    ]
    assert all(is_synthetic_serial(nik[12:]) for nik in niks)


def test_a_day_needs_ten_applicants():
    with pytest.raises(ValueError):
        synthetic_day(0, 9, on=ON)


def test_synth_day_writes_the_roster_and_the_script_and_keeps_existing_files(tmp_path):
    import csv
    import json

    from click.testing import CliRunner

    from fieldkit.cli.main import main

    args = ["--lang", "en", "synth", "day", "--date", "2026-12-10", "--out", str(tmp_path)]
    first = CliRunner().invoke(main, [*args, "--seed", "1", "--json"])
    assert first.exit_code == 0, first.output
    told = json.loads(first.output)
    assert told["arrived"] + told["no_shows"] == told["roster"] == 60
    with (tmp_path / "roster.csv").open(encoding="utf-8") as sheet:
        rows = list(csv.reader(sheet, delimiter=";"))
    assert rows[0][:3] == ["Nama", "Tanggal Lahir", "NIK"] and len(rows) == 61
    day = json.loads((tmp_path / "day.json").read_text(encoding="utf-8"))
    assert day["format"] == 1 and day["expected"]["walk_ins"] == 3
    again = CliRunner().invoke(main, [*args, "--seed", "2"])
    assert again.exit_code == 1 and "--force" in again.output
    assert json.loads((tmp_path / "day.json").read_text(encoding="utf-8")) == day
    forced = CliRunner().invoke(main, [*args, "--seed", "2", "--force"])
    assert forced.exit_code == 0
    assert json.loads((tmp_path / "day.json").read_text(encoding="utf-8"))["seed"] == 2
