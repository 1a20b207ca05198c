"""The ``fieldkit`` and ``fieldkit-hq`` commands: help, exit codes, JSON, language."""

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from fieldkit import __version__
from fieldkit.cli import main
from fieldkit.domain.nik import parse_nik
from fieldkit.domain.synth import synthetic_applicants
from sync.hq.cli import main as hq_main

SPECIMEN = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env={"FIELDKIT_LANG": "", **(env or {})})


def walk(command, path=()):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from walk(sub, (*path, name))


@pytest.mark.parametrize("root", [main, hq_main], ids=["fieldkit", "fieldkit-hq"])
def test_every_command_and_option_has_help_text(root):
    for path, command in walk(root):
        assert (command.help or "").strip(), f"{' '.join(path) or root.name} has no help"
        for param in command.params:
            if isinstance(param, click.Option):
                assert (param.help or "").strip(), f"{path} option {param.name} has no help"
        result = CliRunner().invoke(root, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output


@pytest.mark.parametrize("script", ["fieldkit", "fieldkit-hq"])
def test_installed_console_scripts_answer_help_and_version(script):
    exe = Path(sys.executable).parent / script
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"{script}, version {__version__}"
    helped = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True)
    assert "Usage:" in helped.stdout


def test_check_nik_valid_with_warning_exits_zero_and_prints_the_warning():
    result = run("check", "nik", "3174075508959001", "--sex", "M")
    assert result.exit_code == 0
    assert "Kebayoran Baru" in result.output
    assert "PERINGATAN [nik.sex_mismatch]" in result.output


def test_check_nik_invalid_exits_two_with_the_reason_in_indonesian_by_default():
    result = run("check", "nik", "3174073104959001")
    assert result.exit_code == 2
    assert "KESALAHAN [nik.birth_date]" in result.output
    assert "tidak ada di kalender" in result.output


@pytest.mark.parametrize(
    ("args", "env"),
    [(("--lang", "en"), {}), ((), {"FIELDKIT_LANG": "en"})],
    ids=["flag", "environment"],
)
def test_english_by_flag_or_environment(args, env):
    result = run(*args, "check", "nik", "3174073104959001", env=env)
    assert result.exit_code == 2
    assert "ERROR [nik.birth_date]" in result.output
    assert "does not exist" in result.output


def test_check_nik_json_carries_parts_and_findings():
    result = run("check", "nik", "6473014101809001", "--dob", "1980-01-02", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["valid"] is True
    assert document["value"]["region"]["current_code"] == "657101"
    assert document["value"]["region"]["renumbered_by"] == "UU 20/2012"
    assert document["value"]["birth_date"] == "1980-01-01"
    assert [f["code"] for f in document["findings"]] == ["nik.birth_date_mismatch"]


def test_check_kk():
    assert run("check", "kk", "3174071203159001").exit_code == 0
    bad = run("check", "kk", "3174073102159001", "--json")
    assert bad.exit_code == 2
    assert json.loads(bad.stdout)["findings"][0]["code"] == "kk.entry_date"


def test_check_mrz_specimen_and_a_broken_check_digit():
    good = run("check", "mrz", *SPECIMEN, "--json")
    assert good.exit_code == 0
    assert json.loads(good.stdout)["value"]["document_number"] == "L898902C3"
    broken = run(
        "--lang", "en", "check", "mrz", SPECIMEN[0], SPECIMEN[1][:9] + "7" + SPECIMEN[1][10:]
    )
    assert broken.exit_code == 2
    assert "mrz.check_digit" in broken.output


def test_fee_totals_and_formatting():
    result = run(
        "fee", "--type", "lost", "--product", "electronic", "--years", "10",
        "--same-day", "--on", "2025-01-05", "--json",
    )  # fmt: skip
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["value"]["regulation"] == "PP 45/2024"
    assert document["value"]["total"] == 950_000 + 1_000_000 + 1_000_000
    assert document["value"]["total_text"] == "Rp2.950.000"
    human = run(
        "fee", "--type", "new", "--product", "ordinary", "--years", "5", "--on", "2020-01-01"
    )
    assert human.exit_code == 0
    assert "Rp350.000" in human.output
    assert "PP 28/2019" in human.output


def test_fee_ten_years_before_pp_45_2024_is_refused():
    result = run(
        "fee", "--type", "new", "--product", "ordinary", "--years", "10", "--on", "2024-12-16"
    )  # fmt: skip
    assert result.exit_code == 2
    assert "fee.product_not_offered" in result.output


def test_usage_errors_exit_two():
    assert run("fee", "--type", "stolen", "--product", "ordinary", "--years", "5").exit_code == 2
    assert run("check", "nik").exit_code == 2


def test_synth_applicants_prints_deterministic_json_lines():
    first = run("synth", "applicants", "--count", "5", "--seed", "42")
    again = run("synth", "applicants", "--count", "5", "--seed", "42")
    assert first.exit_code == 0
    assert first.stdout == again.stdout
    rows = [json.loads(line) for line in first.stdout.splitlines()]
    assert rows == [a.as_json() for a in synthetic_applicants(5, 42)]
    assert all(parse_nik(row["nik"]).ok for row in rows)


def test_the_language_environment_variable_is_not_required():
    env = {k: v for k, v in os.environ.items() if k != "FIELDKIT_LANG"}
    exe = Path(sys.executable).parent / "fieldkit"
    result = subprocess.run(
        [exe, "check", "nik", "12"], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 2
    assert "NIK harus 16 angka" in result.stderr


def test_every_fieldkit_command_is_documented():
    reference = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
    for path, command in walk(main):
        if path and not isinstance(command, click.Group):
            assert f"`fieldkit {' '.join(path)}" in reference, path
