"""HQ's key file: sealed under the passphrase, bound to its entries, room for rotation."""

from __future__ import annotations

import base64
import json
import stat

import pytest

from fieldkit import kdf
from sync.hq import keys
from sync.wire import envelope

PASSPHRASE = "kunci markas besar untuk pengujian"


@pytest.fixture
def home(tmp_path):
    keys.create(tmp_path, PASSPHRASE, kdf.INSECURE_TEST_PARAMS)
    return tmp_path


def test_the_key_file_holds_no_private_key_in_clear_and_is_private(home):
    unlocked = keys.unlock(home, PASSPHRASE)
    path = keys.keys_path(home)
    text = path.read_text()
    document = json.loads(text)
    assert document["format"] == "fieldkit-hq-keys" and document["version"] == 1
    assert document["current_kid"] == unlocked.current_kid
    assert unlocked.current_kid == envelope.hq_kid(unlocked.current.public)
    for secret in (unlocked.current.private, unlocked.signing_key.private_bytes_raw()):
        assert secret.hex() not in text
        assert base64.b64encode(secret).decode() not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert envelope.hq_public_from_private(unlocked.current.private) == unlocked.current.public


def test_a_wrong_passphrase_does_not_open_the_keys(home):
    with pytest.raises(keys.WrongPassphrase):
        keys.unlock(home, "another passphrase entirely")


def test_keys_are_never_overwritten(home):
    with pytest.raises(keys.KeysError):
        keys.create(home, PASSPHRASE, kdf.INSECURE_TEST_PARAMS)


def test_a_sealed_key_moved_to_another_entry_or_a_weakened_kdf_does_not_open(home):
    path = keys.keys_path(home)
    original = json.loads(path.read_text())

    swapped = json.loads(json.dumps(original))
    swapped["signing_key"]["sealed_private"] = original["encryption_keys"][0]["sealed_private"]
    path.write_text(json.dumps(swapped))
    with pytest.raises(keys.WrongPassphrase):
        keys.unlock(home, PASSPHRASE)

    weakened = json.loads(json.dumps(original))
    weakened["kdf"]["iterations"] = original["kdf"]["iterations"] + 1
    path.write_text(json.dumps(weakened))
    with pytest.raises(keys.WrongPassphrase):
        keys.unlock(home, PASSPHRASE)


def test_rotation_adds_a_current_key_and_keeps_accepting_the_old_one_until_retired(home):
    before = keys.unlock(home, PASSPHRASE)
    after = keys.rotate_encryption_key(home, PASSPHRASE)
    assert after.current_kid != before.current_kid
    assert after.decryption_key(before.current_kid) == before.current.private
    assert after.signing_public == before.signing_public
    with pytest.raises(keys.KeysError):
        keys.retire_encryption_key(home, PASSPHRASE, after.current_kid)
    retired = keys.retire_encryption_key(home, PASSPHRASE, before.current_kid)
    assert retired.decryption_key(before.current_kid) is None
    assert retired.decryption_key(after.current_kid) == after.current.private
    summary = keys.public_summary(home)
    assert [k["kid"] for k in summary["encryption_keys"]] == [before.current_kid, after.current_kid]


def test_a_missing_or_damaged_key_file_is_reported(tmp_path):
    with pytest.raises(keys.NotInitialised):
        keys.unlock(tmp_path, PASSPHRASE)
    keys.keys_path(tmp_path).write_text("{not json")
    with pytest.raises(keys.KeysError):
        keys.unlock(tmp_path, PASSPHRASE)
