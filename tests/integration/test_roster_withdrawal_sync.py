"""HQ withdraws a visit it assigned: a real vault learns it over HTTP from `fieldkit-hq serve`.

The visit and its roster entries get a new version in state ``withdrawn`` (one
``roster_withdrawn`` audit entry), applicants already captured are kept and reach HQ exactly
once, new captures are refused in both languages, and pulling again changes nothing. SQLite and,
marked ``postgres``, PostgreSQL. All NIKs are synthetic.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fieldkit.cli.main import main
from fieldkit.service import applicants
from fieldkit.service.roster import import_roster
from fieldkit.service.session import OfficerSession
from fieldkit.vault.errors import VisitWithdrawn
from fieldkit.vault.kinds import VISIT
from fieldkit.vault.records import Change
from fieldkit.vault.session import UnlockedVault
from sync.hq import store
from tests.support.hq import Server, running_hq
from tests.support.reference import EAZY_VISIT, entries_of, write_roster
from tests.support.vault import add_applicants, cli_env, enrolled_vault, no_wait_client, people

REASON = "kunjungan dibatalkan sekolah / cancelled by the school"


pytestmark = pytest.mark.usefixtures("cheap_kdf")


def eazy_applicants(count: int, seed: int) -> list[dict]:
    """Applicants an Eazy Passport visit serves (new or expired passports only)."""
    found = [p for p in people(40, seed) if p["application_type"] in ("new", "expired")]
    assert len(found) >= count
    return found[:count]


def counts(session: UnlockedVault) -> tuple[int, int]:
    conn = session.conn
    versions = conn.execute("SELECT COUNT(*) FROM record_versions").fetchone()[0]
    entries = conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    return versions, entries


def audit_of(session: UnlockedVault, action: str) -> list[dict]:
    rows = session.conn.execute(
        "SELECT subject, detail FROM audit WHERE action = ? ORDER BY seq", (action,)
    ).fetchall()
    return [{"subject": subject, **json.loads(detail)} for subject, detail in rows]


def hq_records(server: Server, kind: str, record_id: str) -> list[dict]:
    table = store.records
    return sorted(
        server.hq.rows(table, table.c.kind == kind, table.c.id == record_id),
        key=lambda r: r["version"],
    )


def _withdrawal_reaches_the_device(server: Server, tmp: Path) -> None:
    home = tmp / "device"
    session = enrolled_vault(home, server.url, server.enroll_code())
    device_id = session.vault.device_id
    visit_id = server.cli(
        "roster", "assign", "--device", device_id, "--visit-json",
        str(write_roster(tmp, entries_of(people(3, 701)), EAZY_VISIT)),
    ).stdout.strip()  # fmt: skip
    assert no_wait_client(server.url, session).sync(once=True, reference=True).exit_code == 0
    assert session.read(VISIT, visit_id).state == "planned"

    [applicant_id] = add_applicants(session, visit_id, eazy_applicants(1, 702))
    first = no_wait_client(server.url, session).sync(once=True)
    assert first.exit_code == 0, first.as_json("en")
    assert len(hq_records(server, "applicant", applicant_id)) == 1

    done = json.loads(
        server.cli("roster", "withdraw", visit_id, "--reason", REASON, "--json").stdout
    )
    # A visit assigned and withdrawn before the laptop ever pulled it is ignored there.
    never_held = server.cli(
        "roster", "assign", "--device", device_id, "--visit-json",
        str(write_roster(tmp, entries_of(people(2, 703)), EAZY_VISIT)),
    ).stdout.strip()  # fmt: skip
    server.cli("roster", "withdraw", never_held, "--reason", "wrong device")

    report = no_wait_client(server.url, session).sync(once=True, reference=True)
    assert report.exit_code == 0, report.as_json("en")
    outcome = report.reference
    assert outcome is not None and outcome.visits_withdrawn == 1
    assert "1 visits withdrawn by HQ" in outcome.summary().en
    assert "ditarik HQ" in outcome.summary().id

    withdrawn = session.read(VISIT, visit_id)
    assert withdrawn.state == "withdrawn" and withdrawn.version == 2
    assert withdrawn.data["site"] == "SMAN 1 Karawang"
    assert withdrawn.data["withdrawal"] == {
        "reason": REASON,
        "withdrawn_at": done["withdrawn_at"],
        "reference_version": outcome.version,
    }
    roster = session.latest("roster", visit_id)
    assert len(roster) == 3 and {(e.state, e.version) for e in roster} == {("withdrawn", 2)}
    kept = session.read("applicant", applicant_id)
    assert (kept.state, kept.version) == ("captured", 1), "officer work is never touched"
    assert session.conn.execute(
        "SELECT COUNT(*) FROM records WHERE id = ?", (never_held,)
    ).fetchone() == (0,)
    [entry] = audit_of(session, "roster_withdrawn")
    assert entry["subject"] == f"visit:{visit_id}" and entry["reason"] == REASON
    assert entry["reference_version"] == outcome.version and entry["count"] == 4

    # New captures are refused; the applicant already captured may still be completed.
    with pytest.raises(VisitWithdrawn) as refused:
        applicants.add_applicants(OfficerSession(session), visit_id, eazy_applicants(1, 704))
    assert refused.value.exit_code == 1 and REASON in refused.value.message.en
    assert "Pemohon baru tidak dapat dicatat" in refused.value.message.id
    late = tmp / "late-roster.csv"
    late.write_text("Nama,NIK\nSITI AMINAH,3175014506709001\n", encoding="utf-8")
    with pytest.raises(VisitWithdrawn):  # nor is a roster imported into it
        import_roster(OfficerSession(session), visit_id, late)
    session.write(
        [Change("applicant", applicant_id, {**kept.data, "notes": "selesai"}, "completed",
                visit_id, expected_version=1)],
        action="applicant_updated",
    )  # fmt: skip

    # Re-applying the same document changes nothing.
    before = counts(session)
    again = no_wait_client(server.url, session).pull_reference()
    assert not again.new and again.visits_withdrawn == 0
    assert counts(session) == before

    # Everything goes to HQ once: the applicant's two versions, the withdrawn visit and roster.
    assert no_wait_client(server.url, session).sync(once=True).exit_code == 0
    assert no_wait_client(server.url, session).sync(once=True).exit_code == 0
    assert [(r["version"], r["state"]) for r in hq_records(server, "applicant", applicant_id)] == [
        (1, "captured"),
        (2, "completed"),
    ]
    assert [r["state"] for r in hq_records(server, "visit", visit_id)] == ["planned", "withdrawn"]
    assert session.vault.verify_audit().ok
    audit = store.audit_entries
    held = server.hq.rows(audit, audit.c.device_id == device_id)
    assert held and all(r["verified"] for r in held)
    assert sum(1 for r in held if r["action"] == "roster_withdrawn") == 1
    session.vault.close()

    # The officer's view: `fieldkit visit list` and `applicant add`, in both languages.
    env = cli_env(home)
    runner = CliRunner()
    english = runner.invoke(main, ["--lang", "en", "visit", "list"], env=env)
    assert english.exit_code == 0, english.output
    assert f"Visit {visit_id} was withdrawn by HQ at {done['withdrawn_at']}: {REASON}" in (
        english.output
    )
    indonesian = runner.invoke(main, ["--lang", "id", "visit", "list"], env=env)
    assert f"Kunjungan {visit_id} ditarik oleh HQ pada" in indonesian.output
    listed = json.loads(runner.invoke(main, ["visit", "list", "--json"], env=env).stdout)
    [shown] = [v for v in listed if v["visit_id"] == visit_id]
    assert shown["state"] == "withdrawn" and shown["withdrawal"]["reason"] == REASON
    (tmp / "new.json").write_text(json.dumps(eazy_applicants(1, 705)[0]), encoding="utf-8")
    for lang, words in (("en", "New applicants cannot be captured"), ("id", "Pemohon baru")):
        capture = runner.invoke(
            main,
            [
                "--lang",
                lang,
                "applicant",
                "add",
                "--visit",
                visit_id,
                "--json",
                str(tmp / "new.json"),
            ],
            env=env,
        )
        assert capture.exit_code == 1 and words in capture.output, capture.output
    records = store.records
    count = server.hq.count(records, records.c.kind == "applicant", records.c.visit_id == visit_id)
    assert count == 2, "one applicant, two versions: nothing new was captured"


def test_a_withdrawal_reaches_the_device_sqlite(tmp_path):
    with running_hq(tmp_path / "hq", workers=1) as running:
        _withdrawal_reaches_the_device(running, tmp_path)


@pytest.mark.postgres
def test_a_withdrawal_reaches_the_device_postgres(tmp_path, postgres_url):
    with running_hq(tmp_path / "hq", postgres_url, workers=2) as running:
        _withdrawal_reaches_the_device(running, tmp_path)
