"""The applicant at the counter on a real vault, through the service and through the CLI.

A visit is opened with a booked roster (tests.support.counter_day), arrivals are checked in
(service.checkin), then served: the person completed, each original marked, the billing
paid, the biometrics reference, and a decision. Refusals: accepting with something missing,
a format-1 applicant, deciding on a closed visit (closed by the real supervisor approval),
resolving a watchlist match as an officer. Every edit is a new version (``applicant show
--history``). Synthetic people only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fieldkit import kdf
from fieldkit.cli.main import main
from fieldkit.service import checkin, counter
from fieldkit.service.closing import approve_close
from fieldkit.service.errors import InvalidInput, NotAllowed, Refused, VisitNotOpen
from fieldkit.service.session import OfficerSession
from fieldkit.vault import officers
from fieldkit.vault.kinds import APPLICANT
from fieldkit.vault.records import Change
from tests.support.counter_day import DAY, open_visit_with_roster, roster_rows
from tests.support.vault import (
    OFF2,
    OFF2_NAME,
    OFF2_PW,
    SUP,
    SUP_PW,
    add_applicants,
    cli_env,
    people,
    reopen,
)

pytestmark = pytest.mark.usefixtures("cheap_kdf")

# The person fields a roster does not carry, which the counter fills in from the KTP.
COUNTER_SET = ("sex", "kk", "birth_place", "married", "product", "validity_years")
BILLING = "820240012345678"
NTPN = "0A1B2C3D4E5F6A7B"


@pytest.fixture
def day(tmp_path: Path) -> tuple[Path, str, list[str], list[dict[str, Any]]]:
    """An open visit with 4 booked people on its roster; off2 is an officer (not supervisor).

    ``(home, visit id, entry ids, the people's JSON)``.
    """
    home = tmp_path / "home"
    crowd = [p for p in people(40, 5) if p["application_type"] in ("new", "expired")][:4]
    for person in crowd:
        person["old_passport_issued"] = None  # the roster does not know it: the full set
    session, visit_id, entry_ids = open_visit_with_roster(home, roster_rows(crowd, booked=True))
    officers.add_officer(session, OFF2, OFF2_NAME, "officer", OFF2_PW, kdf.INSECURE_TEST_PARAMS)
    session.vault.close()
    return home, visit_id, entry_ids, crowd


@contextmanager
def desk(home: Path, officer: str = OFF2, passphrase: str = OFF2_PW) -> Iterator[OfficerSession]:
    session = reopen(home, officer, passphrase)
    try:
        yield OfficerSession(session)
    finally:
        session.vault.close()


def arrive(home: Path, visit_id: str, entry_id: str) -> str:
    with desk(home) as session:
        return checkin.check_in(session, visit_id, entry_id).applicant_id


def person_fields(person: dict[str, Any]) -> dict[str, object]:
    return {field: person[field] for field in COUNTER_SET}


def all_seen(view: counter.CounterView) -> dict[str, str]:
    """Every line of the checklist satisfied: its first original seen, conditions not applicable."""
    assert view.checklist is not None
    return {
        line.requirement.alternatives[0].value: (
            "seen" if line.requirement.condition is None else "not_applicable"
        )
        for line in view.checklist
    } | {"online_registration_proof": "seen"}


def codes(exc: InvalidInput) -> list[str]:
    return [f.code for _, f in exc.findings]  # type: ignore[attr-defined]


def serve_fully(session: OfficerSession, applicant_id: str, person: dict[str, Any]) -> None:
    """Everything an acceptance needs, in three edits (three versions)."""
    filled = counter.update_applicant(session, applicant_id, person_fields(person))
    assert filled.fee is not None
    documents = all_seen(counter.counter_view(session, applicant_id))
    counter.update_applicant(session, applicant_id, {"documents": documents})
    counter.update_applicant(
        session,
        applicant_id,
        {
            "payment": {"billing_code": BILLING, "paid": True, "ntpn": NTPN.lower()},
            "biometrics_ref": "BIO-00000001",
            "notes": "Wawancara singkat (sintetis).",
        },
    )


# --- through the service ----------------------------------------------------------------------


def test_a_full_acceptance_each_edit_a_new_version(day):
    home, visit_id, entry_ids, crowd = day
    applicant_id = arrive(home, visit_id, entry_ids[0])
    with desk(home) as session:
        before = counter.counter_view(session, applicant_id)
        assert before.applicant.state == "waiting" and before.open
        serve_fully(session, applicant_id, crowd[0])
        ready = counter.counter_view(session, applicant_id)
        assert ready.open == () and ready.applicant.state == "at_counter"
        decided = counter.decide(session, applicant_id, "accepted")
        history = session.unlocked.history(APPLICANT, applicant_id)
    assert decided.state == "accepted"
    assert [r.state for r in history] == ["waiting", *["at_counter"] * 3, "accepted"]
    assert [r.version for r in history] == [1, 2, 3, 4, 5]
    data = history[-1].data
    decision = data["decision"]
    assert decision["kind"] == "accepted" and decision["by"] == OFF2
    assert decision["at"] >= data["checked_in_at"]
    assert {k: decision[k] for k in ("reason", "text", "documents", "due")} == {
        "reason": None,
        "text": None,
        "documents": [],
        "due": None,
    }
    payment = data["payment"]
    assert payment["billing_code"] == BILLING and payment["ntpn"] == NTPN  # upper-cased
    assert payment["paid"] is True and payment["paid_at"]
    assert payment["amount"] == data["fee"]["total"]  # the amount defaults to the fee
    assert data["biometrics_ref"] == "BIO-00000001"
    assert data["sex"] == crowd[0]["sex"] and data["product"] == crowd[0]["product"]


def test_accepting_with_things_missing_is_refused_with_every_finding(day):
    home, visit_id, entry_ids, crowd = day
    applicant_id = arrive(home, visit_id, entry_ids[0])
    with desk(home) as session:
        counter.update_applicant(session, applicant_id, person_fields(crowd[0]))
        counter.update_applicant(session, applicant_id, {"documents": {"ktp": "seen"}})
        with pytest.raises(InvalidInput) as refused:
            counter.decide(session, applicant_id, "accepted")
        found = codes(refused.value)
        assert {
            "decision.document_missing",
            "decision.no_billing_code",
            "decision.unpaid",
            "decision.no_biometrics",
        } <= set(found)
        assert session.unlocked.read(APPLICANT, applicant_id).state == "at_counter"
        with pytest.raises(InvalidInput) as no_ntpn:
            counter.update_applicant(
                session, applicant_id, {"payment": {"billing_code": BILLING, "paid": True}}
            )
        assert codes(no_ntpn.value) == ["payment.no_ntpn"]
        with pytest.raises(InvalidInput) as bad_code:
            counter.update_applicant(session, applicant_id, {"payment": {"billing_code": "123"}})
        assert codes(bad_code.value) == ["billing.length"]


def test_update_refuses_unknown_keys_bad_documents_and_errors_in_fields_given(day):
    home, visit_id, entry_ids, _ = day
    applicant_id = arrive(home, visit_id, entry_ids[0])
    with desk(home) as session:
        cases = [
            ({"decision": {"kind": "accepted"}}, "counter.unknown_field"),
            ({"documents": {"passport_photo": "seen"}}, "counter.unknown_document"),
            ({"documents": {"police_loss_report": "seen"}}, "counter.document_not_required"),
            ({"documents": {"ktp": "looked"}}, "counter.document_state"),
            ({"phone": "0211234567"}, "phone.not_mobile"),
            ({"application_type": "lost"}, "application.office_only"),
        ]
        for changes, code in cases:
            with pytest.raises(InvalidInput) as refused:
                counter.update_applicant(session, applicant_id, changes)
            assert code in codes(refused.value), changes
        with pytest.raises(InvalidInput) as ack:
            counter.update_applicant(session, applicant_id, {}, acknowledge=["nik.sex_mismatch"])
        assert codes(ack.value) == ["counter.ack_unknown"]
        # Nothing was stored by any refusal; required fields not filled in yet do not refuse.
        assert session.unlocked.read(APPLICANT, applicant_id).version == 1
        assert counter.update_applicant(session, applicant_id, {"notes": "x"}).version == 2


def test_a_warning_is_acknowledged_with_who_and_when(day):
    home, visit_id, entry_ids, crowd = day
    applicant_id = arrive(home, visit_id, entry_ids[0])
    nik = crowd[0]["nik"]
    wrong_sex = "M" if int(nik[6:8]) > 40 else "F"  # the NIK says the other
    with desk(home) as session:
        counter.update_applicant(session, applicant_id, {"sex": wrong_sex})
        view = counter.counter_view(session, applicant_id)
        assert "nik.sex_mismatch" in [w.code for w in view.warnings]
        assert "decision.warning_unacknowledged" in [f.code for f in view.open]
        saved = counter.update_applicant(
            session, applicant_id, {}, acknowledge=["nik.sex_mismatch"]
        )
        view = counter.counter_view(session, applicant_id)
    [ack] = saved.fields["acknowledged"]  # type: ignore[misc]
    assert ack["code"] == "nik.sex_mismatch" and ack["by"] == OFF2 and ack["at"]
    assert "decision.warning_unacknowledged" not in [f.code for f in view.open]


def test_a_pending_documents_decision_names_them_and_the_due_date(day):
    home, visit_id, entry_ids, crowd = day
    applicant_id = arrive(home, visit_id, entry_ids[1])
    visit_day = date.fromisoformat(DAY)  # the rules run on the visit's date
    due = (visit_day + timedelta(days=10)).isoformat()
    with desk(home) as session:
        counter.update_applicant(session, applicant_id, person_fields(crowd[1]))
        with pytest.raises(InvalidInput) as none_named:
            counter.decide(session, applicant_id, "pending_documents")
        assert codes(none_named.value) == ["decision.no_missing_documents"]
        past = (visit_day - timedelta(days=1)).isoformat()
        with pytest.raises(InvalidInput) as late:
            counter.decide(session, applicant_id, "pending_documents", missing=["kk"], due=past)
        assert codes(late.value) == ["decision.due_past"]
        counter.update_applicant(session, applicant_id, {"documents": {"kk": "missing"}})
        decided = counter.decide(
            session, applicant_id, "pending_documents", missing=["kk"], due=due
        )
        # The applicant comes back with the KK: at the counter again, to be decided anew.
        back = counter.update_applicant(session, applicant_id, {"documents": {"kk": "seen"}})
        history = session.unlocked.history(APPLICANT, applicant_id)
    assert decided.state == "pending_documents"
    assert decided.fields["decision"]["documents"] == ["kk"]  # type: ignore[index]
    assert decided.fields["decision"]["due"] == due  # type: ignore[index]
    assert back.state == "at_counter" and back.fields["decision"] is None
    assert history[-2].data["decision"]["kind"] == "pending_documents"  # kept in the history


def test_a_rejection_takes_a_reason_from_the_list(day):
    home, visit_id, entry_ids, _ = day
    applicant_id = arrive(home, visit_id, entry_ids[2])
    with desk(home) as session:
        with pytest.raises(InvalidInput) as unknown:
            counter.decide(session, applicant_id, "rejected", reason="rude")
        assert codes(unknown.value) == ["decision.unknown_reason"]
        with pytest.raises(InvalidInput) as no_text:
            counter.decide(session, applicant_id, "rejected", reason="other")
        assert codes(no_text.value) == ["decision.no_text"]
        decided = counter.decide(
            session,
            applicant_id,
            "rejected",
            reason="not_eligible_mobile",
            text="Paspor hilang hanya dilayani di Kantor Imigrasi.",
        )
    assert decided.state == "rejected"
    assert decided.fields["decision"]["reason"] == "not_eligible_mobile"  # type: ignore[index]


def test_deciding_on_a_closed_visit_is_refused_but_a_supervisor_may_correct(day):
    home, visit_id, entry_ids, _ = day
    applicant_id = arrive(home, visit_id, entry_ids[0])
    with desk(home) as session:
        counter.decide(session, applicant_id, "referred", reason="Cek supervisor.")
        approve_close(session, visit_id, SUP, lambda: SUP_PW, allow_test_kdf=True)
        with pytest.raises(VisitNotOpen):
            counter.decide(session, applicant_id, "rejected", reason="data_mismatch")
        with pytest.raises(VisitNotOpen):
            counter.update_applicant(session, applicant_id, {"notes": "terlambat"})
        with pytest.raises(NotAllowed):  # a correction, but not by a supervisor
            counter.update_applicant(
                session, applicant_id, {"notes": "x"}, correction_reason="Salah ketik."
            )
    with desk(home, SUP, SUP_PW) as supervisor:
        corrected = counter.decide(
            supervisor,
            applicant_id,
            "rejected",
            reason="data_mismatch",
            correction_reason="Keputusan salah dicatat.",
        )
        noted = counter.update_applicant(
            supervisor, applicant_id, {"notes": "Dikoreksi."}, correction_reason="Catatan."
        )
    assert noted.state == "rejected" and noted.fields["decision"]["kind"] == "rejected"  # type: ignore[index]
    assert noted.fields["correction"]["reason"] == "Catatan."  # type: ignore[index]
    assert corrected.state == "rejected"
    correction = corrected.fields["correction"]
    assert correction["reason"] == "Keputusan salah dicatat." and correction["by"] == SUP  # type: ignore[index]


def test_only_a_supervisor_resolves_a_watchlist_match(day):
    home, visit_id, entry_ids, _ = day
    applicant_id = arrive(home, visit_id, entry_ids[3])
    with desk(home) as session, pytest.raises(NotAllowed):
        counter.resolve_watchlist(session, applicant_id, "cleared", "Bukan orang yang sama.")
    with desk(home, SUP, SUP_PW) as supervisor:
        with pytest.raises(Refused) as no_match:
            counter.resolve_watchlist(supervisor, applicant_id, "cleared", "Tidak ada.")
        assert no_match.value.code == "counter.no_watchlist_match"
        # The check-in's answer for a NIK on the watchlist, written as check-in writes it.
        record = supervisor.unlocked.read(APPLICANT, applicant_id)
        hit = {"possible_match": True, "reference_version": 7, "resolution": None}
        supervisor.unlocked.write(
            [
                Change(
                    APPLICANT,
                    applicant_id,
                    {**record.data, "watchlist": hit},
                    record.state,
                    visit_id,
                    record.version,
                )
            ],
            action="checked_in",
        )
        view = counter.counter_view(supervisor, applicant_id)
        assert "decision.watchlist_unresolved" in [f.code for f in view.open]
        saved = counter.resolve_watchlist(
            supervisor, applicant_id, "cleared", "Tanggal lahir berbeda."
        )
        view = counter.counter_view(supervisor, applicant_id)
    resolution = saved.fields["watchlist"]["resolution"]  # type: ignore[index]
    assert resolution["outcome"] == "cleared" and resolution["by"] == SUP
    assert resolution["reason"] == "Tanggal lahir berbeda." and resolution["at"]
    assert "decision.watchlist_unresolved" not in [f.code for f in view.open]
    assert saved.state == "waiting"  # the state is kept


def test_a_captured_format_1_applicant_has_no_counter_workflow(day):
    home, visit_id, _, _ = day
    with desk(home, SUP, SUP_PW) as session:
        [applicant_id] = add_applicants(session.unlocked, visit_id, [people(1, 99)[0]])
        with pytest.raises(Refused) as refused:
            counter.update_applicant(session, applicant_id, {"notes": "x"})
        assert refused.value.code == "counter.not_checked_in"
        with pytest.raises(Refused):
            counter.decide(session, applicant_id, "referred", reason="x")


# --- through the CLI --------------------------------------------------------------------------


def cli(home: Path, *args: str, officer: str = OFF2, passphrase: str = OFF2_PW) -> Result:
    env = cli_env(home, officer, passphrase, FIELDKIT_LANG="en")
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def ok(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_full_acceptance_through_the_cli_with_its_history(day):
    home, visit_id, entry_ids, crowd = day
    applicant_id = arrive(home, visit_id, entry_ids[0])
    person = crowd[0]
    sets = [f"--set={k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in
            person_fields(person).items()]  # fmt: skip
    first = ok(cli(home, "applicant", "update", applicant_id, *sets, "--json"))
    assert first["applicant"]["state"] == "at_counter" and not first["ready_to_accept"]
    view = ok(cli(home, "applicant", "checklist", applicant_id, "--json"))
    assert view["category"] == "adult" and view["fee"]["total"] > 0
    marks: list[str] = []
    for line in view["checklist"]:
        doc = line["documents"][0]["document"]
        marks += ["--na", doc] if line["condition_en"] and doc != "online_registration_proof" else [
            "--seen", doc]  # fmt: skip
    refused = cli(home, "applicant", "decide", applicant_id, "accepted", "--json")
    assert refused.exit_code == 2
    found = [f["code"] for f in json.loads(refused.stdout)["findings"]]
    assert "decision.document_missing" in found and "decision.unpaid" in found
    second = ok(
        cli(
            home, "applicant", "update", applicant_id, *marks, "--billing-code", BILLING,
            "--paid", "--ntpn", NTPN, "--biometrics", "BIO-00000002", "--notes", "Oke.", "--json",
        )
    )  # fmt: skip
    assert second["ready_to_accept"], second["open"]
    text = cli(home, "applicant", "checklist", applicant_id)
    assert text.exit_code == 0 and "Ready to accept." in text.stdout and "[x]" in text.stdout
    decided = ok(cli(home, "applicant", "decide", applicant_id, "accepted", "--json"))
    assert decided["decision"]["kind"] == "accepted" and decided["decision"]["by"] == OFF2
    history = ok(cli(home, "applicant", "show", applicant_id, "--history", "--json"))
    assert [v["state"] for v in history] == ["waiting", "at_counter", "at_counter", "accepted"]
    assert [v["version"] for v in history] == [1, 2, 3, 4]
    assert history[-1]["data"]["payment"]["ntpn"] == NTPN


def test_pending_and_rejected_through_the_cli(day):
    home, visit_id, entry_ids, _ = day
    pending_id = arrive(home, visit_id, entry_ids[1])
    rejected_id = arrive(home, visit_id, entry_ids[2])
    due = (date.fromisoformat(DAY) + timedelta(days=5)).isoformat()
    ok(cli(home, "applicant", "update", pending_id, "--missing", "kk", "--json"))
    decided = ok(
        cli(home, "applicant", "decide", pending_id, "pending_documents", "--missing", "kk",
            "--due", due, "--json")
    )  # fmt: skip
    assert decided["decision"]["documents"] == ["kk"] and decided["decision"]["due"] == due
    unknown = cli(home, "applicant", "decide", rejected_id, "rejected", "--reason", "rude")
    assert unknown.exit_code == 2 and "decision.unknown_reason" in unknown.stderr
    rejected = ok(
        cli(home, "applicant", "decide", rejected_id, "rejected", "--reason", "other", "--text",
            "Pemohon membatalkan.", "--json")
    )  # fmt: skip
    assert rejected["applicant"]["state"] == "rejected"


def test_the_cli_refuses_a_closed_visit_and_a_non_supervisor_resolve(day):
    home, visit_id, entry_ids, _ = day
    applicant_id = arrive(home, visit_id, entry_ids[0])
    resolve = cli(home, "applicant", "resolve", applicant_id, "cleared", "--reason", "x", "--json")
    assert resolve.exit_code == 1
    assert json.loads(resolve.stdout)["error"]["kind"] == "not-allowed"
    ok(cli(home, "applicant", "decide", applicant_id, "referred", "--reason", "Cek.", "--json"))
    with desk(home) as session:
        approve_close(session, visit_id, SUP, lambda: SUP_PW, allow_test_kdf=True)
    closed = cli(home, "applicant", "decide", applicant_id, "rejected", "--reason", "other",
                 "--text", "x", "--json")  # fmt: skip
    assert closed.exit_code == 1
    assert json.loads(closed.stdout)["error"]["kind"] == "visit-not-open"
    update = cli(home, "applicant", "update", applicant_id, "--notes", "x")
    assert update.exit_code == 1 and "closed" in update.stderr
