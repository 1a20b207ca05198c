"""The CLI reads its settings once (environment, then the TOML file) and reports every error
as JSON when asked for JSON; real vault files."""

import json

import pytest
from click.testing import CliRunner

from fieldkit.cli import main

PASSPHRASE = "kopi tubruk pagi hari"


@pytest.fixture
def env(tmp_path):
    return {
        "FIELDKIT_HOME": str(tmp_path / "home"),
        "FIELDKIT_CONFIG": str(tmp_path / "absent.toml"),
        "FIELDKIT_INSECURE_TEST_KDF": "1",
        "FIELDKIT_OFFICER": "sup1",
        "FIELDKIT_PASSPHRASE": PASSPHRASE,
        "FIELDKIT_LANG": "en",
    }


def run(env, *args):
    return CliRunner().invoke(main, list(args), env=env)


def init(env):
    done = run(env, "init", "--officer", "sup1", "--name", "Rina Wati")
    assert done.exit_code == 0, done.output


def test_an_invalid_visit_with_json_is_a_json_error_with_the_same_exit_code(env):
    init(env)
    done = run(
        env, "visit", "create", "--json", "--kind", "eazy", "--site", "SMAN 1",
        "--date", "2026-12-01", "--session", "pagi",
    )  # fmt: skip
    assert done.exit_code == 2
    document = json.loads(done.stdout)
    assert document["ok"] is False
    error = document["error"]
    assert error["kind"] == "invalid-input" and error["exit_code"] == 2
    assert {f["field"] for f in error["findings"]} >= {"coordinator_name", "coordinator_phone"}


def test_a_failure_with_json_is_json_too(env):
    done = run(env, "visit", "list", "--json")  # no vault yet
    assert done.exit_code == 1
    error = json.loads(done.stdout)["error"]
    assert error["kind"] == "vault-missing" and "fieldkit init" in error["message"]


def test_a_usage_error_with_json_is_json(env):
    init(env)
    done = run(env, "visit", "create", "--json", "--kind", "eazy")
    assert done.exit_code == 2
    error = json.loads(done.stdout)["error"]
    assert error["kind"] == "usage" and "--site" in error["message"]


def test_without_json_errors_stay_text(env):
    done = run(env, "visit", "list")
    assert done.exit_code == 1
    assert done.stdout == "" and "fieldkit init" in done.stderr


def test_the_settings_file_supplies_what_the_environment_does_not(env, tmp_path):
    config = tmp_path / "config.toml"
    home = tmp_path / "from-file"
    config.write_text(f'home = "{home}"\nlang = "id"\nretention_days = 3\n', encoding="utf-8")
    from_file = {k: v for k, v in env.items() if k not in ("FIELDKIT_HOME", "FIELDKIT_LANG")}
    from_file["FIELDKIT_CONFIG"] = str(config)
    init(from_file)
    assert (home / "vault.db").exists()
    status = run(from_file, "status")
    assert "disimpan 3 hari" in status.stdout  # Indonesian and three days, from the file
    # The environment wins over the file.
    assert (
        "kept for 5 days"
        in run(
            {**from_file, "FIELDKIT_LANG": "en", "FIELDKIT_RETENTION_DAYS": "5"}, "status"
        ).stdout
    )


@pytest.mark.parametrize(
    "content, says",
    [
        ("home = [", "cannot be read as TOML"),
        ('passphrase = "rahasia"', "unknown setting(s) passphrase"),
        ("retention_days = -1", "retention_days must be a whole number"),
    ],
)
def test_a_bad_settings_file_is_a_clear_error_not_a_traceback(env, tmp_path, content, says):
    config = tmp_path / "config.toml"
    config.write_text(content + "\n", encoding="utf-8")
    done = run({**env, "FIELDKIT_CONFIG": str(config)}, "status")
    assert done.exit_code == 2
    assert says in done.stderr and "Traceback" not in done.stderr
    assert done.exception is None or isinstance(done.exception, SystemExit)


def test_status_counts_what_is_waiting_not_every_outbox_row(env):
    init(env)
    run(
        env, "visit", "create", "--kind", "office", "--site", "Kanim Karawang",
        "--date", "2026-12-01", "--session", "pagi",
    )  # fmt: skip
    document = json.loads(run(env, "status", "--json").stdout)
    assert document["outbox"] == {
        "total": 1,
        "waiting": 1,
        "not_batched": 1,
        "in_unacked_batches": 0,
        "acknowledged": 0,
    }
    text = run(env, "status").stdout
    assert "Outbox: 1 record versions not yet acknowledged by HQ (1 not yet in a batch" in text


def test_a_bad_settings_file_is_told_in_both_languages_unless_lang_is_given(env, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("home = [\n", encoding="utf-8")
    both = run({**env, "FIELDKIT_CONFIG": str(config)}, "status")
    assert "tidak dapat dibaca sebagai TOML" in both.stderr
    assert "cannot be read as TOML" in both.stderr
    english = run({**env, "FIELDKIT_CONFIG": str(config)}, "--lang", "en", "status")
    assert "cannot be read as TOML" in english.stderr and "tidak" not in english.stderr
