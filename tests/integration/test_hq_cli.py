"""The ``fieldkit-hq`` command: help on everything, documented exit codes."""

from __future__ import annotations

import json

import click
import pytest

from sync.hq.cli import main, parse_duration
from tests.support.hq import hq_env, init_hq, run_cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


def test_every_command_and_option_has_help():
    for path, command in _commands(main):
        assert command.help, path
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, (path, param.name)


def test_help_and_version(tmp_path):
    env = hq_env(tmp_path, None)
    assert "Exit codes" in run_cli(env, "--help").stdout
    assert "fieldkit-hq" in run_cli(env, "--version").stdout
    assert "--workers" in run_cli(env, "serve", "--help").stdout


def test_exit_codes(tmp_path):
    env = hq_env(tmp_path / "none", None)
    not_initialised = run_cli(env, "status", check=False)
    assert not_initialised.returncode == 1
    assert "fieldkit-hq init" in not_initialised.stderr
    assert run_cli(env, "frobnicate", check=False).returncode == 2

    weak = {**env, "FIELDKIT_HQ_PASSPHRASE": "short"}
    assert run_cli(weak, "init", check=False).returncode == 2

    hq = init_hq(tmp_path / "hq", None)
    assert run_cli(hq.env, "init", check=False).returncode == 1
    assert run_cli(hq.env, "device", "revoke", "nobody", check=False).returncode == 1
    bad_duration = run_cli(hq.env, "device", "enroll-code", "--expires", "soon", check=False)
    assert bad_duration.returncode == 2
    wrong = {**hq.env, "FIELDKIT_HQ_PASSPHRASE": "not the passphrase at all"}
    assert run_cli(wrong, "import", str(tmp_path), check=False).returncode == 1
    unreachable = {**hq.env, "FIELDKIT_HQ_DB": "postgresql://nobody@127.0.0.1:1/none"}
    assert run_cli(unreachable, "status", check=False).returncode == 1


def test_enroll_code_json_list_and_revoke(tmp_path):
    hq = init_hq(tmp_path / "hq", None)
    code = json.loads(run_cli(hq.env, "device", "enroll-code", "--json").stdout)
    assert set(code) == {"code", "expires_at"}
    assert json.loads(run_cli(hq.env, "device", "list", "--json").stdout) == []
    assert "No devices" in run_cli(hq.env, "device", "list").stdout
    status = json.loads(run_cli(hq.env, "status", "--json").stdout)
    assert status["devices"] == {"enrolled": 0, "revoked": 0}
    assert status["flags"] == []
    assert status["received"] == {}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("24h", 86400), ("7d", 604800), ("1d12h", 129600)],
)
def test_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "soon", "0h", "-1h", "24", "100d", "1h30"])
def test_bad_durations(text):
    with pytest.raises(click.BadParameter):
        parse_duration(text)
