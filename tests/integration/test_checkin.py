"""Check-in, walk-ins and the queue through the CLI, on a real vault file.

The visit is an Eazy Passport visit whose roster is a real CSV import of online bookings
(tests.support.counter_day); every person is synthetic. A watchlist gets onto the laptop as a
sync would leave it: a format-2 reference document sealed into the vault
(``syncstate.store_reference``) with the test's cheap Argon2id cost.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

from fieldkit.cli.main import main
from fieldkit.domain.checkin import priority_group
from fieldkit.domain.counter import ROSTER_FORMAT
from fieldkit.service import checkin
from fieldkit.service.errors import InvalidInput, Refused
from fieldkit.service.roster import import_roster
from fieldkit.service.session import OfficerSession
from fieldkit.vault.kinds import APPLICANT, QUEUE, ROSTER
from fieldkit.vault.records import Change
from sync.wire.reference import WatchlistParams
from tests.support.counter_day import (
    DAY,
    open_visit_on,
    open_visit_with_roster,
    roster_rows,
    write_roster_csv,
)
from tests.support.reference import put_watchlist
from tests.support.vault import cli_env, people, plan_visit, reopen

pytestmark = pytest.mark.usefixtures("cheap_kdf")

COUNT = 12
COST = WatchlistParams(memory_kib=8, iterations=1, lanes=1, bits=20)  # 1 in a million false hits
VISIT_DAY = date.fromisoformat(DAY)


@pytest.fixture
def day(tmp_path):
    """An open visit with COUNT booked people: ``(home, visit id, people, entry ids)``."""
    home = tmp_path / "home"
    crowd = people(COUNT, 4242)
    session, visit_id, entry_ids = open_visit_with_roster(home, roster_rows(crowd, booked=True))
    session.vault.close()
    return home, visit_id, crowd, entry_ids


def run(home, *args, lang="en"):
    env = cli_env(home, FIELDKIT_LANG=lang)
    return CliRunner().invoke(main, list(args), env=env)


def as_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def expected_series(person):
    return "P" if priority_group(date.fromisoformat(person["birth_date"]), VISIT_DAY) else "A"


def test_a_scanned_booking_code_checks_in_at_once(day):
    home, visit_id, crowd, entry_ids = day
    result = run(home, "checkin", visit_id, crowd[0]["booking_code"].lower())
    assert result.exit_code == 0, result.output
    series = expected_series(crowd[0])
    assert f"QUEUE   {series}-001" in result.stdout and "Applicant: " in result.stdout
    session = reopen(home)
    entry = session.read(ROSTER, entry_ids[0])
    assert entry.state == "arrived" and entry.data["format"] == ROSTER_FORMAT
    applicant = session.read(APPLICANT, str(entry.data["applicant_id"]))
    data = applicant.data
    assert applicant.state == "waiting" and applicant.visit_id == visit_id
    assert data["format"] == 2 and data["roster_entry_id"] == entry_ids[0]
    assert data["name"] == crowd[0]["name"] and data["nik"] == crowd[0]["nik"]
    assert data["booking_code"] == crowd[0]["booking_code"] and data["walk_in"] is None
    assert data["queue"] == {"series": series, "number": 1}
    assert data["checked_in_at"] == entry.data["arrived_at"] and data["checked_in_by"] == "sup1"
    assert data["watchlist"] == {
        "possible_match": None,
        "reference_version": None,
        "resolution": None,
    }, "no watchlist on the laptop: not checked, never 'no hit'"
    assert "No watchlist on this laptop" in result.stderr
    assert session.read(QUEUE, visit_id).data["last"][series] == 1
    # The three versions are one action: one transaction, audited checked_in each.
    actions = [a for (a,) in session.conn.execute("SELECT action FROM audit")]
    assert actions.count("checked_in") == 3
    session.vault.close()


def test_check_in_by_nik_and_json(day):
    home, visit_id, crowd, entry_ids = day
    done = as_json(run(home, "checkin", visit_id, "--nik", crowd[1]["nik"], "--json"))
    arrival = done["checked_in"]
    assert arrival["entry_id"] == entry_ids[1] and arrival["number"] == 1
    assert arrival["queue"] == f"{expected_series(crowd[1])}-001"
    assert arrival["refer_to_supervisor"] is False and done["matches"] == []
    bad = run(home, "checkin", visit_id, "--nik", "1234")
    assert bad.exit_code == 2


def test_a_name_lists_the_matches_and_entry_checks_one_in(day):
    home, visit_id, crowd, entry_ids = day
    first_word = crowd[2]["name"].split()[0]
    query = first_word[:3].lower()
    listed = as_json(run(home, "checkin", visit_id, query, "--json"))
    assert listed["checked_in"] is None
    found = {m["entry_id"] for m in listed["matches"]}
    assert entry_ids[2] in found and all(m["matched_by"] == "name" for m in listed["matches"])
    assert all(m["state"] == "expected" for m in listed["matches"])
    session = reopen(home)
    assert (
        session.conn.execute("SELECT COUNT(*) FROM records WHERE kind = 'applicant'").fetchone()[0]
        == 0
    ), "a name search checks nobody in"
    session.vault.close()
    human = run(home, "checkin", visit_id, "--name", first_word.title())
    assert human.exit_code == 0 and entry_ids[2] in human.stdout and "--entry ID" in human.stderr
    done = as_json(run(home, "checkin", visit_id, "--entry", entry_ids[2], "--json"))
    assert done["checked_in"]["entry_id"] == entry_ids[2]
    again = as_json(run(home, "checkin", visit_id, query, "--json"))
    assert {m["entry_id"]: m["state"] for m in again["matches"]}[entry_ids[2]] == "arrived"


def test_nothing_found_and_no_query(day):
    home, visit_id, _crowd, _ids = day
    missing = run(home, "checkin", visit_id, "ZZZZ9999QQ")
    assert missing.exit_code == 1 and "No roster entry" in missing.output
    assert run(home, "checkin", visit_id).exit_code == 2


def test_checking_in_twice_is_refused_with_when_and_the_number(day):
    home, visit_id, crowd, _ids = day
    code = crowd[3]["booking_code"]
    first = as_json(run(home, "checkin", visit_id, code, "--json"))["checked_in"]
    twice = run(home, "checkin", visit_id, code)
    assert twice.exit_code == 1
    assert "Already checked in at " in twice.output and first["queue"] in twice.output
    in_id = run(home, "checkin", visit_id, code, lang="id")
    assert in_id.exit_code == 1 and "Sudah check-in pada" in in_id.output
    refused = as_json_error(run(home, "checkin", visit_id, code, "--json"))
    assert refused["kind"] == "refused" and refused["exit_code"] == 1
    assert refused["code"] == "checkin.already_arrived"


def as_json_error(result):
    document = json.loads(result.stdout)
    assert document["ok"] is False
    return document["error"]


def test_a_visit_not_yet_open_takes_no_arrivals(tmp_path):
    home = tmp_path / "home"
    crowd = people(2, 77)
    session, _open_visit, _ids = open_visit_with_roster(home, roster_rows(crowd, booked=True))
    planned = plan_visit(session)
    session.vault.close()
    result = run(home, "walkin", planned, "--name", "Ani", "--birth-date", "1950-01-01",
                 "--group", "elderly", "--reason", "tongkat")  # fmt: skip
    assert result.exit_code == 1 and "not open yet" in result.output


def test_walk_ins_by_group_refused_outside_them_and_the_queue(day):
    home, visit_id, _crowd, _ids = day
    elderly = as_json(
        run(home, "walkin", visit_id, "--name", "Ani Wulandari", "--birth-date", "1950-03-04",
            "--group", "elderly", "--reason", "datang dengan tongkat", "--json")
    )  # fmt: skip
    assert elderly["queue"].startswith("P-") and elderly["entry_id"] is None
    young = run(home, "walkin", visit_id, "--name", "Bayu Saputra", "--birth-date", "1995-01-01",
                "--group", "elderly", "--reason", "minta")  # fmt: skip
    assert young.exit_code == 1 and "aged 60 or over" in young.output
    quota = run(home, "walkin", visit_id, "--name", "Bayu Saputra", "--birth-date", "1995-01-01",
                "--group", "simpatik_quota", "--reason", "minta")  # fmt: skip
    assert quota.exit_code == 1 and "Paspor Simpatik" in quota.output
    no_reason = run(home, "walkin", visit_id, "--name", "Ani", "--birth-date", "1950-01-01",
                    "--group", "elderly", "--reason", "  ")  # fmt: skip
    assert no_reason.exit_code == 2 and "reason" in no_reason.output
    bad_nik = run(home, "walkin", visit_id, "--name", "Ani", "--birth-date", "1950-01-01",
                  "--group", "elderly", "--reason", "tongkat", "--nik", "12")  # fmt: skip
    assert bad_nik.exit_code == 2

    session = reopen(home)
    applicant = session.read(APPLICANT, elderly["applicant_id"])
    assert applicant.data["walk_in"] == {"group": "elderly", "reason": "datang dengan tongkat"}
    assert applicant.data["roster_entry_id"] is None and applicant.state == "waiting"
    assert session.read(QUEUE, visit_id).data["walk_ins"] == 1
    session.vault.close()

    queue = as_json(run(home, "queue", visit_id, "--json"))
    assert [(i["queue"], i["name"], i["walk_in"]) for i in queue] == [
        (elderly["queue"], "ANI WULANDARI", True)
    ]
    human = run(home, "queue", visit_id)
    assert "ANI WULANDARI (walk-in)" in human.stdout


def test_a_simpatik_saturday_takes_walk_ins_up_to_its_quota(tmp_path):
    home = tmp_path / "home"
    session, visit_id, _ids = open_visit_with_roster(home, [], kind="simpatik", walk_in_quota=2)
    session.vault.close()

    def walk(name):
        return run(home, "walkin", visit_id, "--name", name, "--birth-date", "1990-01-01",
                   "--group", "simpatik_quota", "--reason", "antre", "--json")  # fmt: skip

    first, second = as_json(walk("Agus Salim")), as_json(walk("Budi Hartono"))
    assert [first["queue"], second["queue"]] == ["A-001", "A-002"]
    full = walk("Citra Dewi")
    assert full.exit_code == 1 and "quota (2) is full" in as_json_error(full)["message"]


def test_queue_numbers_are_gapless_per_series(day):
    home, visit_id, crowd, _entry_ids = day
    for person in crowd:
        assert run(home, "checkin", visit_id, person["booking_code"]).exit_code == 0
    for name, born in (("Ani Wulandari", "1950-03-04"), ("Putri Kecil", "2024-02-02")):
        group = "elderly" if born < "2000" else "under_five"
        walked = run(home, "walkin", visit_id, "--name", name, "--birth-date", born,
                     "--group", group, "--reason", "prioritas")  # fmt: skip
        assert walked.exit_code == 0, walked.output
    queue = as_json(run(home, "queue", visit_id, "--all", "--json"))
    by_series: dict[str, list[int]] = {}
    for item in queue:
        by_series.setdefault(item["series"], []).append(item["number"])
    want_p = sum(expected_series(p) == "P" for p in crowd) + 2
    assert by_series["P"] == list(range(1, want_p + 1))
    assert by_series["A"] == list(range(1, COUNT + 2 - want_p + 1))
    assert [i["series"] for i in queue] == ["P"] * want_p + ["A"] * (COUNT + 2 - want_p)
    session = reopen(home)
    assert session.read(QUEUE, visit_id).data["last"] == {"A": COUNT + 2 - want_p, "P": want_p}
    assert {r.state for r in session.latest(ROSTER, visit_id)} == {"arrived"}
    session.vault.close()


# -- rules the importer keeps out of a file, met through the service ------------------------------


def test_a_booking_for_another_day_or_session(tmp_path):
    home = tmp_path / "home"
    crowd = people(3, 99)
    rows = roster_rows(crowd, booked=True)
    rows[1]["session"] = "siang"  # the importer keeps it, with a warning
    session, visit_id, entry_ids = open_visit_with_roster(home, rows)
    officer = OfficerSession(session)
    # An entry for another day, as HQ might assign it (the importer refuses such a row).
    record = session.read(ROSTER, entry_ids[0])
    other_day = {**record.data, "booking_date": "2026-12-03"}
    session.write(
        [Change(ROSTER, record.id, other_day, "expected", visit_id, record.version)],
        action="roster_assigned",
    )
    with pytest.raises(Refused) as refused:
        checkin.check_in(officer, visit_id, entry_ids[0])
    assert refused.value.code == "checkin.other_date" and "2026-12-03" in refused.value.message.en
    arrival = checkin.check_in(officer, visit_id, entry_ids[1])
    assert any("siang" in w.en for w in arrival.warnings)
    assert "siang" in arrival.message.en
    session.vault.close()


def test_a_code_or_nik_booked_for_another_visit_is_refused_with_its_day(tmp_path):
    home = tmp_path / "home"
    crowd = people(3, 3131)
    session, visit_id, _ids = open_visit_with_roster(home, roster_rows(crowd[:1], booked=True))
    later = roster_rows(crowd[1:2], booked=True)
    later[0]["booking_date"] = "2026-12-03"
    open_visit_on(session, later, csv_dir=tmp_path / "later", on="2026-12-03")
    same_day = roster_rows(crowd[2:], booked=True)
    open_visit_on(session, same_day, csv_dir=tmp_path / "same", kind="office")
    session.vault.close()
    other_day = run(home, "checkin", visit_id, crowd[1]["booking_code"])
    assert other_day.exit_code == 1 and "This booking is for 2026-12-03" in other_day.output
    by_nik = run(home, "checkin", visit_id, "--nik", crowd[1]["nik"], "--json")
    assert by_nik.exit_code == 1 and "2026-12-03" in as_json_error(by_nik)["message"]
    other_visit = run(home, "checkin", visit_id, crowd[2]["booking_code"])
    assert (
        other_visit.exit_code == 1
        and "roster of another visit (Kanim Karawang" in other_visit.output
    )


def test_the_name_index_follows_the_roster_within_one_session(tmp_path):
    home = tmp_path / "home"
    crowd = people(6, 5150)
    session, visit_id, entry_ids = open_visit_with_roster(home, roster_rows(crowd[:4]))
    officer = OfficerSession(session)
    assert checkin.prepare_index(officer, visit_id) == 4
    name = crowd[0]["name"]
    assert checkin.find_arrival(officer, visit_id, name)[0].entry_id == entry_ids[0]
    checkin.check_in(officer, visit_id, entry_ids[0])
    [match] = [m for m in checkin.find_arrival(officer, visit_id, name) if m.name == name]
    assert match.state == "arrived", "our own check-in updates the index in place"
    # More entries imported into the same visit: the index is rebuilt on the next lookup.
    extra = write_roster_csv(tmp_path / "more.csv", roster_rows(crowd[4:]))
    assert import_roster(officer, visit_id, extra).imported == 2
    found = checkin.find_arrival(officer, visit_id, crowd[5]["name"])
    assert found and found[0].name == crowd[5]["name"]
    # Another visit's entry is never offered, even by an exact NIK: the officer is told.
    _other, (other_entry,) = open_visit_on(
        session, roster_rows(people(1, 8080)), csv_dir=tmp_path / "other"
    )
    other_nik = str(session.read(ROSTER, other_entry).data["nik"])
    with pytest.raises(Refused) as refused:
        checkin.find_arrival(officer, visit_id, other_nik)
    assert refused.value.code == "checkin.other_visit"
    session.vault.close()


def test_the_name_index_sees_what_another_process_wrote(tmp_path):
    home = tmp_path / "home"
    crowd = people(4, 6161)
    session, visit_id, entry_ids = open_visit_with_roster(home, roster_rows(crowd))
    desk = OfficerSession(session)
    assert checkin.find_arrival(desk, visit_id, crowd[1]["nik"])[0].state == "expected"
    other = reopen(home)  # another connection: another process, as far as SQLite knows
    checkin.check_in(OfficerSession(other), visit_id, entry_ids[1])
    assert checkin.find_arrival(desk, visit_id, crowd[1]["nik"])[0].state == "arrived"
    # A corrected name (HQ's reassignment, say) rebuilds the index.
    record = other.read(ROSTER, entry_ids[2])
    renamed = {**record.data, "name": "ZAINAL ABIDIN"}
    other.write(
        [Change(ROSTER, record.id, renamed, record.state, visit_id, record.version)],
        action="roster_assigned",
    )
    [found] = checkin.find_arrival(desk, visit_id, "zain")
    assert found.entry_id == entry_ids[2] and found.name == "ZAINAL ABIDIN"
    other.vault.close()
    session.vault.close()


# -- the watchlist --------------------------------------------------------------------------------


def test_a_watchlist_hit_says_only_refer_to_supervisor(day):
    home, visit_id, crowd, entry_ids = day
    put_watchlist(home, DAY, COST, [crowd[4]["nik"]])
    hit = run(home, "checkin", visit_id, crowd[4]["booking_code"])
    assert hit.exit_code == 0, hit.output
    assert "REFER TO SUPERVISOR" in hit.stdout
    for word in ("watchlist", "cekal", "ban", "match"):
        assert word not in hit.output.lower(), "the officer is never told why"
    in_id = run(home, "checkin", visit_id, crowd[5]["booking_code"], lang="id")
    assert in_id.exit_code == 0 and "RUJUK KE SUPERVISOR" not in in_id.stdout
    clear = as_json(run(home, "checkin", visit_id, crowd[6]["booking_code"], "--json"))
    assert clear["checked_in"]["refer_to_supervisor"] is False
    session = reopen(home)
    entry = session.read(ROSTER, entry_ids[4])
    watch = session.read(APPLICANT, str(entry.data["applicant_id"])).data["watchlist"]
    assert watch == {"possible_match": True, "reference_version": 3, "resolution": None}
    session.vault.close()
    queue = as_json(run(home, "queue", visit_id, "--json"))
    assert [i["refer_to_supervisor"] for i in queue if i["name"] == crowd[4]["name"]] == [True]


def test_a_walk_in_with_a_listed_nik_is_referred_and_bad_fields_are_invalid(day):
    home, visit_id, _crowd, _ids = day
    walker = people(1, 7373)[0]
    put_watchlist(home, DAY, COST, [walker["nik"]])
    session = reopen(home)
    desk = OfficerSession(session)
    person = {"name": walker["name"], "birth_date": walker["birth_date"], "nik": walker["nik"]}
    arrival = checkin.walk_in(desk, visit_id, person, group="disability", reason="kursi roda")
    assert arrival.refer_to_supervisor and arrival.series == "P"
    assert "Refer to supervisor" in arrival.message.en and "Rujuk" in arrival.message.id
    for bad in ({**person, "product": "ordinary"}, {**person, "sex": "X"}, {"name": "Ani"}):
        with pytest.raises(InvalidInput):
            checkin.walk_in(desk, visit_id, bad, group="disability", reason="kursi roda")
    assert session.read(QUEUE, visit_id).data["walk_ins"] == 1, "nothing stored when invalid"
    session.vault.close()


# -- nothing in plaintext on disk -----------------------------------------------------------------


def test_no_name_nik_or_booking_code_in_the_vault_files_after_check_ins(day):
    home, visit_id, crowd, _ids = day
    for person in crowd[:6]:
        assert run(home, "checkin", visit_id, person["booking_code"]).exit_code == 0
    assert run(home, "checkin", visit_id, "--nik", crowd[6]["nik"]).exit_code == 0
    walked = run(home, "walkin", visit_id, "--name", "Wulandari Kusumawati", "--birth-date",
                 "1950-03-04", "--nik", "3201014403500001", "--group", "elderly",
                 "--reason", "kursi roda")  # fmt: skip
    assert walked.exit_code == 0, walked.output
    assert run(home, "queue", visit_id).exit_code == 0
    needles = {"WULANDARI KUSUMAWATI", "3201014403500001", "kursi roda"}
    for person in crowd:
        needles |= {person["nik"], person["booking_code"], person["phone"]}
        if len(person["name"]) >= 7:  # shorter names occur in random bytes by chance
            needles.add(person["name"])
    files = {p: p.read_bytes() for p in home.rglob("*") if p.is_file()}
    assert files
    for path, content in files.items():
        for needle in needles:
            for form in {needle, needle.lower(), needle.title()}:
                assert form.encode() not in content, (path.name, needle)
                assert form.encode("utf-16-le") not in content, (path.name, needle)
