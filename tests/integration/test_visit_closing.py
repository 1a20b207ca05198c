"""A visit's life through the CLI on a real vault file: open, kit, summary, close, correct.

The visit is an Eazy Passport visit whose roster is a real CSV import (tests.support.counter_day);
the officer ``off2`` works the counter and the supervisor ``sup1`` approves the close with their
own passphrase on the same laptop. Every person is synthetic.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from fieldkit import kdf
from fieldkit.cli.main import main
from fieldkit.domain.counter import ROSTER_FORMAT, VISIT_FORMAT
from fieldkit.service import checkin, closing, counter
from fieldkit.service.errors import (
    InsecureSlot,
    NotAllowed,
    UnlockThrottled,
    VisitNotOpen,
    WrongPassphrase,
)
from fieldkit.service.session import OfficerSession
from fieldkit.vault import officers
from fieldkit.vault.kinds import APPLICANT, KIT, ROSTER, VISIT
from sync.hq.counter_checks import record_findings
from tests.support.counter_day import open_visit_with_roster, roster_rows
from tests.support.vault import (
    OFF2,
    OFF2_NAME,
    OFF2_PW,
    SUP,
    SUP_PW,
    WRONG_PW,
    VaultHome,
    cli_env,
    people,
    plan_visit,
    reopen,
)

pytestmark = pytest.mark.usefixtures("cheap_kdf")

COUNT = 5
DUE = (date.today() + timedelta(days=7)).isoformat()  # a pending decision's due date is ahead


@pytest.fixture
def day(tmp_path):
    """An open visit with COUNT people on its roster, and off2 as a second officer.

    ``(home, visit id, entry ids)``.
    """
    home = tmp_path / "home"
    session, visit_id, entry_ids = open_visit_with_roster(home, roster_rows(people(COUNT, 77)))
    officers.add_officer(session, OFF2, OFF2_NAME, "officer", OFF2_PW, kdf.INSECURE_TEST_PARAMS)
    session.vault.close()
    return home, visit_id, entry_ids


def run(home, *args, officer=OFF2, passphrase=OFF2_PW, **extra):
    env = cli_env(home, officer, passphrase, **{"FIELDKIT_LANG": "en", **extra})
    return CliRunner().invoke(main, list(args), env=env)


def ok_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def error_of(result, exit_code=1):
    assert result.exit_code == exit_code, result.output
    return json.loads(result.stdout)["error"]


def close(home, visit_id, supervisor=SUP, supervisor_pw=SUP_PW, **extra):
    return run(
        home,
        "visit",
        "close",
        visit_id,
        "--supervisor",
        supervisor,
        "--json",
        FIELDKIT_SUPERVISOR_PASSPHRASE=supervisor_pw,
        **extra,
    )


def check_in(home, visit_id, entry_id):
    """Check an entry in as off2 (service.checkin); the applicant's id."""
    session = reopen(home, OFF2, OFF2_PW)
    try:
        return checkin.check_in(OfficerSession(session), visit_id, entry_id).applicant_id
    finally:
        session.vault.close()


def decide(home, applicant_id, kind, **options):
    """Decide an applicant as off2 at the counter (service.counter.decide)."""
    session = reopen(home, OFF2, OFF2_PW)
    try:
        counter.decide(OfficerSession(session), applicant_id, kind, **options)
    finally:
        session.vault.close()


def update(home, applicant_id, changes):
    """Record what the counter found, as off2 (service.counter.update_applicant)."""
    session = reopen(home, OFF2, OFF2_PW)
    try:
        counter.update_applicant(OfficerSession(session), applicant_id, changes)
    finally:
        session.vault.close()


def name_of(home, applicant_id):
    session = reopen(home)
    try:
        return session.read(APPLICANT, applicant_id).data["name"]
    finally:
        session.vault.close()


def fee_of(home, applicant_id):
    session = reopen(home)
    try:
        return session.read(APPLICANT, applicant_id).data["fee"]["total"]
    finally:
        session.vault.close()


def hq_findings(home, kind, record_id):
    """What HQ's record checks find in every version of a record (nothing, for a good one)."""
    session = reopen(home)
    try:
        return [
            (r.version, f.code, f.field)
            for r in session.history(kind, record_id)
            for f in record_findings(kind, r.data, state=r.state)
        ]
    finally:
        session.vault.close()


def audit(home):
    return VaultHome(home).sql("SELECT officer_id, action, subject, detail FROM audit ORDER BY seq")


# -- open ----------------------------------------------------------------------------------------


def test_open_a_planned_visit_and_again(tmp_path):
    home = tmp_path / "home"
    session = VaultHome(home).create()
    visit_id = plan_visit(session, kind="simpatik", on="2026-12-12", coordinator_name="")
    session.vault.close()
    opened = ok_json(
        run(
            home,
            "visit",
            "open",
            visit_id,
            "--walk-in-quota",
            "25",
            "--json",
            officer=SUP,
            passphrase=SUP_PW,
        )
    )
    assert opened["state"] == "open" and opened["opened_by"] == SUP
    assert opened["walk_in_quota"] == 25 and opened["opened_at"]
    again = ok_json(run(home, "visit", "open", visit_id, "--json", officer=SUP, passphrase=SUP_PW))
    assert again["version"] == opened["version"]  # nothing new written
    assert [a for _, a, s, _ in audit(home) if s == f"visit:{visit_id}"].count("visit_opened") == 1
    text = run(home, "visit", "open", visit_id, officer=SUP, passphrase=SUP_PW)
    assert "Walk-in quota today: 25." in text.stdout


def test_a_negative_walk_in_quota_is_a_usage_error(day):
    home, visit_id, _ = day
    assert run(home, "visit", "open", visit_id, "--walk-in-quota", "-1").exit_code == 2


# -- the kit -------------------------------------------------------------------------------------


def test_the_kit_is_made_on_first_use_and_each_tick_stores_who_and_when(day):
    home, visit_id, _ = day
    first = ok_json(run(home, "visit", "kit", visit_id, "--json"))
    assert first["version"] == 1 and not first["packed"]
    assert {i["id"] for i in first["items"]} >= {"reading_glasses", "slip_on_sandals", "printer"}
    ticked = ok_json(
        run(
            home,
            "visit",
            "kit",
            visit_id,
            "--tick",
            "printer",
            "--tick",
            "reading_glasses",
            "--json",
        )
    )
    assert ticked["version"] == 2
    lines = {i["id"]: i for i in ticked["items"]}
    assert lines["printer"]["ticked"] and lines["printer"]["by"] == OFF2 and lines["printer"]["at"]
    assert lines["reading_glasses"]["by"] == OFF2
    assert not lines["modem"]["ticked"] and lines["modem"]["by"] is None
    by_sup = ok_json(
        run(
            home,
            "visit",
            "kit",
            visit_id,
            "--tick",
            "modem",
            "--untick",
            "printer",
            "--json",
            officer=SUP,
            passphrase=SUP_PW,
        )
    )
    lines = {i["id"]: i for i in by_sup["items"]}
    assert (lines["modem"]["ticked"], lines["modem"]["by"]) == (True, SUP)
    assert (lines["printer"]["ticked"], lines["printer"]["by"]) == (False, SUP)
    assert lines["reading_glasses"]["by"] == OFF2  # untouched lines keep who ticked them
    session = reopen(home)
    history = session.history(KIT, visit_id)
    session.vault.close()
    assert [r.version for r in history] == [1, 2, 3]  # one version per command
    assert history[-1].visit_id == visit_id and history[-1].data["format"] == 1
    assert hq_findings(home, KIT, visit_id) == []  # HQ reads the kit as stored
    ticks = [(o, d) for o, a, s, d in audit(home) if a == "kit_ticked"]
    assert [o for o, _ in ticks] == [OFF2, SUP]
    assert json.loads(ticks[1][1])["ticked"] == ["modem"]


def test_ticking_everything_packs_the_kit_and_the_text_shows_who(day):
    home, visit_id, _ = day
    items = [i["id"] for i in ok_json(run(home, "visit", "kit", visit_id, "--json"))["items"]]
    args = [a for item_id in items for a in ("--tick", item_id)]
    assert ok_json(run(home, "visit", "kit", visit_id, *args, "--json"))["packed"]
    text = run(home, "visit", "kit", visit_id)
    assert "[x] slip_on_sandals" in text.stdout and f"({OFF2}, " in text.stdout
    assert f"{len(items)} of {len(items)} items ticked." in text.stdout
    session = reopen(home)
    assert session.read(KIT, visit_id).state == "packed"
    session.vault.close()


def test_an_unknown_item_is_refused_naming_the_items_there_are(day):
    home, visit_id, _ = day
    error = error_of(run(home, "visit", "kit", visit_id, "--tick", "generator", "--json"), 2)
    assert [f["code"] for f in error["findings"]] == ["kit.unknown_item"]
    assert "slip_on_sandals" in error["findings"][0]["message"]


def test_an_office_kit_file_sets_the_items_and_a_bad_one_is_refused(day, tmp_path):
    home, visit_id, _ = day
    bad = tmp_path / "bad-kit.json"
    bad.write_text(json.dumps({"format": 1, "items": [{"id": "torch", "group": "spare"}]}))
    error = error_of(run(home, "visit", "kit", visit_id, "--json", FIELDKIT_KIT_FILE=str(bad)), 2)
    assert str(bad) in error["message"]
    assert {f["field"] for f in error["findings"]} == {"items[0]", "items[0].group"}
    missing = error_of(
        run(home, "visit", "kit", visit_id, "--json", FIELDKIT_KIT_FILE=str(tmp_path / "no")), 2
    )
    assert missing["findings"][0]["code"] == "kit.file"
    own = tmp_path / "kit.json"
    items = [{"id": "tent", "label_id": "Tenda", "label_en": "Tent", "group": "equipment"}]
    own.write_text(json.dumps({"format": 1, "items": items}))
    made = ok_json(run(home, "visit", "kit", visit_id, "--json", FIELDKIT_KIT_FILE=str(own)))
    assert [i["id"] for i in made["items"]] == ["tent"]
    # Once made, the visit's checklist keeps its items whatever the setting says later.
    later = ok_json(run(home, "visit", "kit", visit_id, "--json"))
    assert [i["id"] for i in later["items"]] == ["tent"]


# -- summary and close ---------------------------------------------------------------------------


def test_close_is_refused_while_an_applicant_is_checked_in_but_not_decided(day):
    home, visit_id, entry_ids = day
    applicant_id = check_in(home, visit_id, entry_ids[0])
    error = error_of(close(home, visit_id))
    assert error["kind"] == "refused"
    assert applicant_id in error["message"] and "not decided" in error["message"]
    summary = ok_json(run(home, "visit", "summary", visit_id, "--json"))
    assert summary["undecided_applicants"] == [applicant_id]
    session = reopen(home)
    assert session.read(VISIT, visit_id).state == "open"
    session.vault.close()
    # Refused before the supervisor's passphrase was ever tried.
    assert not [a for o, a, _, _ in audit(home) if o == SUP and a == "officer_authenticated"]


def test_close_by_a_non_supervisor_is_refused(day):
    home, visit_id, _ = day
    error = error_of(close(home, visit_id, supervisor=OFF2, supervisor_pw=OFF2_PW))
    assert error["kind"] == "not-allowed" and "not a supervisor" in error["message"]
    refused = [(o, d) for o, a, _, d in audit(home) if a == "visit_close_refused"]
    assert refused and json.loads(refused[0][1])["supervisor"] == OFF2
    assert error_of(close(home, visit_id, supervisor="nobody"))["kind"] == "unknown-officer"


def test_close_with_the_wrong_supervisor_passphrase_is_refused_and_counted(day):
    home, visit_id, _ = day
    error = error_of(close(home, visit_id, supervisor_pw=WRONG_PW))
    assert error["kind"] == "wrong-passphrase"
    assert VaultHome(home).sql(
        "SELECT failures FROM unlock_failures WHERE officer_id = ?", (SUP,)
    ) == [(1,)]
    failed = [d for o, a, _, d in audit(home) if o == SUP and a == "unlock_failed"]
    assert json.loads(failed[-1])["failures"] == 1
    assert error_of(close(home, visit_id, supervisor_pw=WRONG_PW))["kind"] == "wrong-passphrase"
    assert VaultHome(home).sql(
        "SELECT failures FROM unlock_failures WHERE officer_id = ?", (SUP,)
    ) == [(2,)]
    session = reopen(home, OFF2, OFF2_PW)  # the officer's own unlock is untouched
    assert session.read(VISIT, visit_id).state == "open"
    session.vault.close()
    # The right passphrase then closes it, and clears the count as an unlock would.
    ok_json(close(home, visit_id))
    assert (
        VaultHome(home).sql("SELECT failures FROM unlock_failures WHERE officer_id = ?", (SUP,))
        == []
    )


def test_a_throttled_supervisor_is_refused_even_with_the_right_passphrase(day):
    home, visit_id, _ = day
    session = reopen(home, OFF2, OFF2_PW)
    officer = OfficerSession(session)
    try:
        for _ in range(5):  # the free failures, then the throttle starts
            with pytest.raises(WrongPassphrase):
                closing.approve_close(officer, visit_id, SUP, lambda: WRONG_PW, allow_test_kdf=True)
        # Lock the slot far ahead (as a long run of failures would) to avoid a timing race.
        session.conn.execute(
            "UPDATE unlock_failures SET locked_until = '2999-01-01T00:00:00+00:00' "
            "WHERE officer_id = ?",
            (SUP,),
        )
        with pytest.raises(UnlockThrottled):
            closing.approve_close(officer, visit_id, SUP, lambda: SUP_PW, allow_test_kdf=True)
        assert session.read(VISIT, visit_id).state == "open"
        assert session.officer_id == OFF2 and session.role == "officer"
    finally:
        session.vault.close()


def test_a_close_marks_no_shows_closes_the_visit_and_queues_it_all_for_hq(day):
    home, visit_id, entry_ids = day
    referred = check_in(home, visit_id, entry_ids[0])
    pending = check_in(home, visit_id, entry_ids[1])
    decide(home, referred, "referred", reason="The KTP photo does not look like the applicant.")
    # The pending applicant chose the passport (so a fee is quoted) and paid for it already.
    update(home, pending, {"product": "ordinary", "validity_years": 5})
    paid = {"billing_code": "820261201000001", "paid": True, "ntpn": "0A1B2C3D4E5F6A7B"}
    update(home, pending, {"payment": paid})
    decide(home, pending, "pending_documents", missing=["ktp"], due=DUE)
    before = ok_json(run(home, "status", "--json"))["outbox"]["waiting"]
    text = run(home, "--lang", "en", "visit", "summary", visit_id)
    assert f"Roster: {COUNT} expected, 2 arrived, {COUNT - 2} no-shows" in text.stdout
    assert "Missing documents (coordinator: BUDI SANTOSO +6281234567890):" in text.stdout

    closed = ok_json(close(home, visit_id))
    assert closed["state"] == "closed" and closed["closed_by"] == SUP and closed["closed_at"]
    summary = closed["summary"]
    assert (summary["expected"], summary["arrived"], summary["no_shows"]) == (COUNT, 2, COUNT - 2)
    assert summary["decisions"] == {
        "accepted": 0,
        "pending_documents": 1,
        "rejected": 0,
        "referred": 1,
    }
    assert summary["applicants_missing_documents"] == [
        {"applicant_id": pending, "name": name_of(home, pending), "documents": ["ktp"], "due": DUE}
    ]
    # The pending applicant's quote is expected, and it was paid in full.
    fee = fee_of(home, pending)
    assert summary["fees_expected"] == fee > 0
    assert (summary["fees_paid"], summary["payments_paid"], summary["undecided"]) == (fee, 1, 0)

    session = reopen(home)
    visit = session.read(VISIT, visit_id)
    assert visit.state == "closed" and visit.officer_id == OFF2  # run by off2, approved by sup1
    assert visit.data["format"] == VISIT_FORMAT and visit.data["closed_by"] == SUP
    assert visit.data["summary"]["no_shows"] == COUNT - 2
    assert "applicants_missing_documents" not in visit.data["summary"]  # counts only
    entries = [session.read(ROSTER, e) for e in entry_ids]
    session.vault.close()
    assert [e.state for e in entries] == ["arrived", "arrived"] + ["no_show"] * (COUNT - 2)
    for entry in entries[2:]:
        assert entry.data["format"] == ROSTER_FORMAT
        assert entry.data["no_show_at"] == visit.data["closed_at"]
    for kind, record_id in [(VISIT, visit_id), *((ROSTER, e) for e in entry_ids)]:
        assert hq_findings(home, kind, record_id) == []  # HQ reads what the close wrote
    after = ok_json(run(home, "status", "--json"))["outbox"]["waiting"]
    assert after == before + (COUNT - 2) + 1  # every no-show and the visit, queued for HQ
    entries_ = audit(home)
    closes = [(o, s, json.loads(d)) for o, a, s, d in entries_ if a == "visit_closed"]
    assert len(closes) == 1  # one action
    officer, subject, detail = closes[0]
    assert (officer, subject) == (OFF2, f"visit:{visit_id}")
    assert detail["supervisor"] == SUP and detail["count"] == COUNT - 2 + 1
    approvals = [
        json.loads(d) for o, a, _, d in entries_ if o == SUP and a == "officer_authenticated"
    ]
    assert approvals == [{"purpose": "visit_close"}]


def test_a_closed_visit_refuses_check_in_decisions_and_a_second_close(day):
    home, visit_id, entry_ids = day
    applicant_id = check_in(home, visit_id, entry_ids[-1])
    decide(home, applicant_id, "referred", reason="Unsure about the birth certificate.")
    ok_json(close(home, visit_id))
    decided = error_of(
        run(
            home,
            "applicant",
            "decide",
            applicant_id,
            "pending_documents",
            "--missing",
            "ktp",
            "--json",
        )
    )
    assert decided["kind"] == "visit-not-open" and "is closed" in decided["message"]
    session = reopen(home, OFF2, OFF2_PW)
    try:
        with pytest.raises(VisitNotOpen):
            counter.decide(OfficerSession(session), applicant_id, "referred", reason="again")
    finally:
        session.vault.close()
    refused = error_of(run(home, "checkin", visit_id, "--entry", entry_ids[0], "--json"))
    assert refused["kind"] == "visit-not-open" and "is closed" in refused["message"]
    session = reopen(home, OFF2, OFF2_PW)
    try:
        with pytest.raises(VisitNotOpen):
            checkin.check_in(OfficerSession(session), visit_id, entry_ids[1])
    finally:
        session.vault.close()
    again = error_of(close(home, visit_id))
    assert again["kind"] == "visit-not-open" and "already closed" in again["message"]
    kit = error_of(run(home, "visit", "kit", visit_id, "--tick", "printer", "--json"))
    assert kit["kind"] == "visit-not-open"


def test_a_planned_visit_cannot_be_closed(tmp_path):
    home = tmp_path / "home"
    session = VaultHome(home).create()
    visit_id = plan_visit(session)
    session.vault.close()
    error = error_of(close(home, visit_id, officer=SUP, passphrase=SUP_PW))
    assert error["kind"] == "visit-not-open" and "not open yet" in error["message"]


def test_the_supervisor_passphrase_is_prompted_without_echo_when_not_in_the_environment(day):
    home, visit_id, _ = day
    env = cli_env(home, OFF2, OFF2_PW, FIELDKIT_LANG="en")
    result = CliRunner().invoke(
        main, ["visit", "close", visit_id, "--supervisor", SUP], env=env, input=SUP_PW + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "Passphrase of supervisor sup1" in result.output
    assert SUP_PW not in result.output  # hidden input is not echoed
    assert "closed, approved by sup1" in result.output


# -- corrections ---------------------------------------------------------------------------------


def test_a_supervisor_corrects_a_closed_visit_with_a_reason(day):
    home, visit_id, _ = day
    ok_json(close(home, visit_id))
    by_officer = error_of(run(home, "visit", "correct", visit_id, "--reason", "x", "--json"))
    assert by_officer["kind"] == "not-allowed"
    no_reason = error_of(
        run(
            home,
            "visit",
            "correct",
            visit_id,
            "--reason",
            " ",
            "--json",
            officer=SUP,
            passphrase=SUP_PW,
        ),
        2,
    )
    assert no_reason["findings"][0]["code"] == "visit.correction_reason"
    reason = "Two walk-ins were counted as no-shows; the roster was corrected."
    corrected = ok_json(
        run(
            home,
            "visit",
            "correct",
            visit_id,
            "--reason",
            reason,
            "--json",
            officer=SUP,
            passphrase=SUP_PW,
        )
    )
    assert corrected["state"] == "closed"
    assert corrected["correction"]["reason"] == reason and corrected["correction"]["by"] == SUP
    assert corrected["correction"]["at"]
    session = reopen(home)
    history = session.history(VISIT, visit_id)
    session.vault.close()
    assert [r.state for r in history][-2:] == ["closed", "closed"]
    assert history[-1].data["summary"] == history[-2].data["summary"]  # the approved counts stay
    assert [a for _, a, s, _ in audit(home) if s == f"visit:{visit_id}"][-1] == "visit_corrected"
    assert hq_findings(home, VISIT, visit_id) == []


def test_an_open_visit_is_not_corrected_but_changed_directly(day):
    home, visit_id, _ = day
    error = error_of(
        run(
            home,
            "visit",
            "correct",
            visit_id,
            "--reason",
            "typo",
            "--json",
            officer=SUP,
            passphrase=SUP_PW,
        )
    )
    assert error["kind"] == "refused" and "not closed" in error["message"]


def test_approve_close_refuses_a_non_supervisor_before_asking_the_passphrase(day):
    home, visit_id, _ = day
    session = reopen(home, OFF2, OFF2_PW)
    asked = []
    try:
        with pytest.raises(NotAllowed):
            closing.approve_close(
                OfficerSession(session), visit_id, OFF2, lambda: asked.append(1) or OFF2_PW
            )
    finally:
        session.vault.close()
    assert asked == []


def test_authenticating_a_second_officer_leaves_the_unlocked_session_as_it_is(day):
    home, _, _ = day
    session = reopen(home, OFF2, OFF2_PW)
    keys = dict(session.deks)
    try:
        vault = session.vault
        assert vault.authenticate_officer(SUP, SUP_PW, allow_test_kdf=True) == "supervisor"
        assert vault.authenticate_officer(OFF2, OFF2_PW, allow_test_kdf=True) == "officer"
        assert (session.officer_id, session.role, session.deks) == (OFF2, "officer", keys)
        with pytest.raises(WrongPassphrase):
            vault.authenticate_officer(SUP, WRONG_PW, allow_test_kdf=True)
        # A slot under the test KDF opens only with the test setting on, as at unlock.
        with pytest.raises(InsecureSlot):
            vault.authenticate_officer(SUP, SUP_PW)
    finally:
        session.vault.close()
    assert [(o, a) for o, a, _, _ in audit(home)][-4:] == [
        (SUP, "officer_authenticated"),
        (OFF2, "officer_authenticated"),
        (SUP, "unlock_failed"),
        (SUP, "unlock_refused"),
    ]


def test_the_unlocked_supervisor_approves_their_own_close_with_their_passphrase_again(day):
    home, visit_id, _ = day
    closed = ok_json(close(home, visit_id, officer=SUP, passphrase=SUP_PW))
    assert closed["closed_by"] == SUP and closed["summary"]["no_shows"] == COUNT
    text = run(
        home, "visit", "summary", visit_id, officer=SUP, passphrase=SUP_PW, FIELDKIT_LANG="id"
    )
    assert f"Daftar: {COUNT} terdaftar, 0 datang, {COUNT} tidak datang" in text.stdout
