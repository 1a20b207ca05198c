"""The vault's command line, on real vault files: init, officers, visits, applicants, status,
audit."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fieldkit.cli import main
from fieldkit.domain.synth import synthetic_applicants
from tests.support.vault import PASSPHRASE


@pytest.fixture
def env(tmp_path):
    return {
        "FIELDKIT_HOME": str(tmp_path / "home"),
        "FIELDKIT_INSECURE_TEST_KDF": "1",
        "FIELDKIT_OFFICER": "sup1",
        "FIELDKIT_PASSPHRASE": PASSPHRASE,
        "FIELDKIT_LANG": "en",
    }


def run(env, *args, input=None):
    return CliRunner().invoke(main, list(args), env=env, input=input)


@pytest.fixture
def visit_id(env):
    assert run(env, "init", "--officer", "sup1", "--name", "Rina Wati").exit_code == 0
    created = run(
        env, "visit", "create", "--kind", "eazy", "--site", "SMAN 1 Karawang",
        "--date", "2026-12-01", "--session", "pagi",
        "--coordinator-name", "Budi Santoso", "--coordinator-phone", "081234567890",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    return created.stdout.strip()


def jsonl(people):
    return "\n".join(json.dumps(p.as_json()) for p in people) + "\n"


def test_init_prompts_twice_and_refuses_a_weak_passphrase(env):
    prompted = {k: v for k, v in env.items() if k != "FIELDKIT_PASSPHRASE"}
    weak = run(prompted, "init", "--officer", "sup1", "--name", "Rina Wati", input="short\nshort\n")
    assert weak.exit_code == 1
    assert "too short" in weak.output
    assert not (Path(env["FIELDKIT_HOME"]) / "vault.db").exists()
    good = run(
        prompted, "init", "--officer", "sup1", "--name", "Rina Wati",
        input=f"{PASSPHRASE}\n{PASSPHRASE}\n",
    )  # fmt: skip
    assert good.exit_code == 0, good.output
    assert (Path(env["FIELDKIT_HOME"]) / "vault.db").exists()
    again = run(env, "init", "--officer", "sup1", "--name", "Rina Wati")
    assert again.exit_code == 1
    assert "already exists" in again.output


def test_capture_show_status_and_audit(env, visit_id):
    people = list(synthetic_applicants(5, 11))
    added = run(env, "applicant", "add", "--visit", visit_id, "--json", "-", input=jsonl(people))
    assert added.exit_code == 0, added.output
    ids = added.stdout.split()
    assert len(ids) == 5
    shown = run(env, "applicant", "show", ids[2], "--json")
    assert shown.exit_code == 0
    assert json.loads(shown.stdout)["data"]["nik"] == people[2].nik
    status = json.loads(run(env, "status", "--json").stdout)
    counts = {(c["kind"], c["state"]): c["count"] for c in status["counts"]}
    assert counts == {("applicant", "captured"): 5, ("visit", "planned"): 1}
    assert status["outbox_depth"] == 6
    verified = run(env, "audit", "verify", "--json")
    assert verified.exit_code == 0
    assert json.loads(verified.stdout)["ok"] is True
    db = sqlite3.connect(Path(env["FIELDKIT_HOME"]) / "vault.db")
    actions = [row[0] for row in db.execute("SELECT action FROM audit")]
    assert actions.count("applicant_viewed") == 1


def test_invalid_applicants_store_nothing_and_exit_two(env, visit_id):
    people = [p.as_json() for p in synthetic_applicants(3, 12)]
    people[1]["nik"] = "3174"
    text = "\n".join(json.dumps(p) for p in people)
    result = run(env, "applicant", "add", "--visit", visit_id, "--json", "-", input=text)
    assert result.exit_code == 2
    assert "#2 nik: [nik.length]" in result.output
    status = json.loads(run(env, "status", "--json").stdout)
    assert status["outbox_depth"] == 1  # only the visit
    bad_json = run(env, "applicant", "add", "--visit", visit_id, "--json", "-", input='{"a":\n')
    assert bad_json.exit_code == 2
    assert "Invalid JSON" in bad_json.output


def test_wrong_passphrase_and_roles(env, visit_id):
    wrong = run({**env, "FIELDKIT_PASSPHRASE": "wrong but long enough"}, "visit", "list")
    assert wrong.exit_code == 1
    assert "Wrong passphrase" in wrong.output
    added = run(
        {**env, "FIELDKIT_NEW_PASSPHRASE": "nasi goreng enak sekali"},
        "officer", "add", "--id", "off2", "--name", "Dedi Kurnia",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    as_officer = {
        **env,
        "FIELDKIT_OFFICER": "off2",
        "FIELDKIT_PASSPHRASE": "nasi goreng enak sekali",
    }
    listed = json.loads(run(as_officer, "officer", "list", "--json").stdout)
    assert {o["officer_id"]: o["role"] for o in listed} == {"sup1": "supervisor", "off2": "officer"}
    refused = run(as_officer, "officer", "remove", "sup1")
    assert refused.exit_code == 1
    assert "Only a supervisor" in refused.output
    removed = run(env, "officer", "remove", "off2")
    assert removed.exit_code == 0
    gone = run(as_officer, "visit", "list")
    assert gone.exit_code == 1
    assert "not registered" in gone.output


def test_status_needs_no_passphrase_and_a_missing_vault_is_explained(env, tmp_path):
    missing = run({**env, "FIELDKIT_HOME": str(tmp_path / "nowhere")}, "status")
    assert missing.exit_code == 1
    assert "fieldkit init" in missing.output


def test_a_tampered_audit_log_exits_three(env, visit_id):
    db = sqlite3.connect(Path(env["FIELDKIT_HOME"]) / "vault.db")
    db.execute("UPDATE audit SET officer_id = 'someone' WHERE seq = 2")
    db.commit()
    result = run(env, "audit", "verify")
    assert result.exit_code == 3
    assert "entry #2" in result.output


def test_the_installed_command_end_to_end(env, tmp_path):
    exe = Path(sys.executable).parent / "fieldkit"
    full_env = {"PATH": "/usr/bin:/bin", **env}
    subprocess.run(
        [exe, "init", "--officer", "sup1", "--name", "Rina Wati"],
        env=full_env,
        check=True,
        capture_output=True,
    )
    visit = subprocess.run(
        [exe, "visit", "create", "--kind", "office", "--site", "Kanim Karawang",
         "--date", "2026-12-02", "--session", "siang"],
        env=full_env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    person = next(synthetic_applicants(1, 13)).as_json()
    added = subprocess.run(
        [exe, "applicant", "add", "--visit", visit, "--json", "-"],
        env=full_env, input=json.dumps(person), capture_output=True, text=True, check=True,
    )  # fmt: skip
    shown = subprocess.run(
        [exe, "applicant", "show", added.stdout.strip(), "--json"],
        env=full_env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(shown.stdout)["data"]["name"] == person["name"]


def test_an_officer_id_with_odd_characters_is_refused(env):
    result = run(env, "init", "--officer", "sup 1|x", "--name", "Rina Wati")
    assert result.exit_code == 1
    assert "officer id" in result.output


def test_applicant_show_in_indonesian_gives_words_not_codes(env, visit_id):
    person = next(p for p in synthetic_applicants(50, 3) if p.application_type == "new")
    added = run(env, "applicant", "add", "--visit", visit_id, "--json", "-", input=jsonl([person]))
    assert added.exit_code == 0, added.output
    shown = run({**env, "FIELDKIT_LANG": "id"}, "applicant", "show", added.stdout.strip())
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert "  Jenis permohonan: baru" in lines
    sex = {"M": "laki-laki", "F": "perempuan"}[person.sex.value]
    assert f"  Jenis kelamin: {sex}" in lines
    assert f"  Masa berlaku: {person.validity_years} tahun" in lines
    assert not any(line.endswith((": new", ": ordinary", ": electronic")) for line in lines)
