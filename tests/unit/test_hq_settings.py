"""``fieldkit-hq`` reads its settings once (environment, then the TOML file, then defaults)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from fieldkit.settings import Settings
from sync.hq.cli import main

UNSET = {"FIELDKIT_HQ_HOME": None, "FIELDKIT_HQ_DB": None, "FIELDKIT_HQ_PASSPHRASE": None}


def _run(tmp_path, content: bytes | None, *args: str, **env: str | None):
    config = tmp_path / "config.toml"
    if content is not None:
        config.write_bytes(content)
    return CliRunner().invoke(
        main, list(args), env={**UNSET, "FIELDKIT_CONFIG": str(config), **env}
    )


def test_the_settings_file_names_hqs_home_and_the_environment_wins(tmp_path):
    from_file = tmp_path / "from-file"
    done = _run(tmp_path, f'hq_home = "{from_file}"\n'.encode(), "status")
    assert done.exit_code == 1
    assert f"No HQ in {from_file}." in done.stderr
    assert not from_file.exists(), "nothing is made for a command that needs an initialised HQ"

    from_env = tmp_path / "from-env"
    done = _run(tmp_path, None, "status", FIELDKIT_HQ_HOME=str(from_env))
    assert f"No HQ in {from_env}." in done.stderr


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"hq_db = 5\n", "hq_db must be text"),
        (b'hq_home = ""\n', "hq_home must be a folder path"),
        (b'hq_passphrase = "never in a file"\n', "passphrases only in the environment"),
        (b"retention_days = -1\n", "retention_days must be a whole number"),
        (b"not toml at all = [\n", "cannot be read as TOML"),
        (b'hq_home = "\xff\xfe"\n', "cannot be read as TOML"),
    ],
    ids=["db-not-text", "empty-home", "passphrase", "negative-days", "not-toml", "not-utf8"],
)
def test_a_bad_settings_file_is_one_line_and_exit_2_for_every_command(tmp_path, content, said):
    for args in (["status"], ["device", "list"], ["serve"]):
        done = _run(tmp_path, content, *args)
        assert done.exit_code == 2, (args, done.output)
        assert isinstance(done.exception, SystemExit), done.exception
        [line] = done.stderr.splitlines()
        assert line.startswith(f"fieldkit-hq: {tmp_path / 'config.toml'}: "), line
        assert said in line, line


def test_a_bad_environment_value_is_refused_the_same_way(tmp_path):
    done = _run(tmp_path, None, "status", FIELDKIT_RETENTION_DAYS="soon")
    assert done.exit_code == 2
    assert done.stderr.startswith("fieldkit-hq: FIELDKIT_RETENTION_DAYS: retention_days")


def test_settings_given_by_the_caller_are_used_as_they_are(tmp_path):
    given = Settings(hq_home=tmp_path / "given")
    config = tmp_path / "config.toml"
    config.write_text("broken = [\n", encoding="utf-8")  # never read: the caller's settings win
    done = CliRunner().invoke(main, ["status"], obj=given, env={"FIELDKIT_CONFIG": str(config)})
    assert done.exit_code == 1
    assert f"No HQ in {tmp_path / 'given'}." in done.stderr
