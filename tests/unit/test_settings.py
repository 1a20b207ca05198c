"""The one settings object: environment over the TOML file over defaults, and its documentation."""

import re
from pathlib import Path

import pytest

from fieldkit.settings import SETTINGS, Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_without_environment_or_file(tmp_path):
    settings = load_settings({"FIELDKIT_CONFIG": str(tmp_path / "none.toml")})
    assert settings.lang == "id" and settings.retention_days == 7
    assert settings.passphrase is None and not settings.insecure_test_kdf
    assert settings.config_file is None


def test_the_environment_wins_over_the_file_which_wins_over_the_default(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('lang = "en"\nretention_days = 3\nofficer = "petugas1"\n', encoding="utf-8")
    env = {"FIELDKIT_CONFIG": str(config), "FIELDKIT_RETENTION_DAYS": "30"}
    settings = load_settings(env)
    assert (settings.lang, settings.retention_days, settings.officer) == ("en", 30, "petugas1")
    assert settings.config_file == config


def test_passphrases_come_only_from_the_environment_and_as_typed(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('hq_passphrase = "rahasia"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="unknown setting"):
        load_settings({"FIELDKIT_CONFIG": str(config)})
    spaced = load_settings(
        {"FIELDKIT_CONFIG": str(tmp_path / "none"), "FIELDKIT_PASSPHRASE": " a b "}
    )
    assert spaced.passphrase == " a b "
    assert "a b" not in repr(spaced), "secrets stay out of reprs and tracebacks"


@pytest.mark.parametrize("raw", ["seminggu", "-1", "1.5"])
def test_a_retention_that_is_not_whole_days_is_refused(tmp_path, raw):
    with pytest.raises(SettingsError, match="FIELDKIT_RETENTION_DAYS"):
        load_settings({"FIELDKIT_CONFIG": str(tmp_path / "none"), "FIELDKIT_RETENTION_DAYS": raw})


def test_only_1_turns_the_insecure_test_kdf_on(tmp_path):
    base = {"FIELDKIT_CONFIG": str(tmp_path / "none")}
    assert load_settings({**base, "FIELDKIT_INSECURE_TEST_KDF": "1"}).insecure_test_kdf
    assert not load_settings({**base, "FIELDKIT_INSECURE_TEST_KDF": "yes"}).insecure_test_kdf


def test_the_test_kdf_cannot_be_turned_on_from_the_file(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("insecure_test_kdf = true\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="unknown setting"):
        load_settings({"FIELDKIT_CONFIG": str(config)})


def test_every_setting_is_in_the_one_configuration_table():
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \| `(FIELDKIT_\w+)` \| (yes|no) \|", text, re.M)
    documented = {name: (env, file == "yes") for name, env, file in rows}
    expected = {s.name: (s.metadata["env"], s.metadata["file"]) for s in SETTINGS}
    assert documented == expected
    assert set(Settings.__dataclass_fields__) - set(expected) == {"config_file"}
