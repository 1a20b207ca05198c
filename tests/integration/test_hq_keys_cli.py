"""``fieldkit-hq keys list|rotate|retire``: a rotation, and a retirement that strands no batch."""

from __future__ import annotations

import json

import pytest

from sync.hq import ingest, keys, store
from tests.support.hq import PASSPHRASE, HQHome, enrolled_device, run_cli


def _send(hq_home: HQHome, sealed: bytes) -> ingest.IngestResult:
    """Ingest one envelope with HQ's own function, as a worker holding the current keys would."""
    engine = hq_home.engine()
    try:
        return ingest.ingest(engine, keys.unlock(hq_home.home, PASSPHRASE), sealed, client="test")
    finally:
        engine.dispose()


def _listed(hq_home: HQHome) -> dict[str, object]:
    return json.loads(run_cli(hq_home.env, "keys", "list", "--json").stdout)


def test_rotate_then_retire_only_once_no_device_can_hold_a_batch_for_the_old_key(hq_home):
    first = _listed(hq_home)["current_kid"]
    early = enrolled_device(hq_home)  # sends with the first key, then learns the new one
    silent = enrolled_device(hq_home)  # enrolled before the rotation, never syncs
    lagging = enrolled_device(hq_home)  # its batch 2, sealed to the old key, is still on the laptop
    for device in (early, lagging):
        assert _send(hq_home, device.cut()[1]).status == 201

    rotated = json.loads(run_cli(hq_home.env, "keys", "rotate", "--json").stdout)
    second = rotated["current_kid"]
    assert second != first
    listing = _listed(hq_home)
    assert listing["current_kid"] == second
    assert [k["kid"] for k in listing["encryption_keys"]] == [first, second]
    assert all(k["retired_at"] is None for k in listing["encryption_keys"])
    text = run_cli(hq_home.env, "keys", "list").stdout
    assert f"encryption {second}" in text and "current" in text and "accepted" in text

    new = keys.unlock(hq_home.home, PASSPHRASE).current
    for device in (early, lagging):
        device.hq_public, device.hq_kid = new.public, new.kid
    assert _send(hq_home, early.cut()[1]).status == 201
    lagging.seq += 1  # seq 2 was cut under the old key and has not arrived
    assert _send(hq_home, lagging.cut()[1]).status == 201  # seq 3, under the new key

    refused = run_cli(hq_home.env, "keys", "retire", first, check=False)
    assert refused.returncode == 1
    assert f"device {silent.device_id}: has sent no batch sealed to a key newer" in refused.stderr
    assert f"device {lagging.device_id}: batches 2 have not arrived" in refused.stderr
    assert early.device_id not in refused.stderr
    assert "2 active device(s)" in refused.stderr
    assert _listed(hq_home)["encryption_keys"][0]["retired_at"] is None  # nothing written

    lagging.hq_public, lagging.hq_kid = unlocked_first(hq_home, first)
    assert _send(hq_home, lagging.cut(seq=2)[1]).status == 201  # the stranded batch arrives
    run_cli(hq_home.env, "device", "revoke", silent.device_id, "--reason", "left in the office")
    done = run_cli(hq_home.env, "keys", "retire", first)
    assert f"HQ key {first} retired" in done.stdout
    assert _listed(hq_home)["encryption_keys"][0]["retired_at"] is not None

    with pytest.raises(ingest.HttpProblem) as caught:
        _send(hq_home, early.cut(hq_public=lagging.hq_public, hq_kid=first)[1])
    assert caught.value.slug == "unknown-hq-key"


def unlocked_first(hq_home: HQHome, kid: str) -> tuple[bytes, str]:
    """The public half of HQ key ``kid`` (still accepted), for sealing a batch to it."""
    [key] = [k for k in keys.unlock(hq_home.home, PASSPHRASE).encryption_keys if k.kid == kid]
    return key.public, key.kid


def test_retire_refuses_the_current_and_unknown_keys_and_force_overrides_blockers(hq_home):
    current = _listed(hq_home)["current_kid"]
    assert run_cli(hq_home.env, "keys", "retire", current, check=False).returncode == 1
    unknown = run_cli(hq_home.env, "keys", "retire", "0123456789abcdef", check=False)
    assert unknown.returncode == 1 and "No encryption key" in unknown.stderr

    waiting = enrolled_device(hq_home)
    run_cli(hq_home.env, "keys", "rotate")
    forced = run_cli(hq_home.env, "keys", "retire", current, "--force")
    assert f"device {waiting.device_id}" in forced.stderr
    assert "despite 1 device(s)" in forced.stdout
    assert _listed(hq_home)["encryption_keys"][0]["retired_at"] is not None


def test_rotation_raises_the_reference_version_once(hq_home):
    engine = hq_home.engine()
    try:
        before = store.reference_summary(engine)["version"]
        rotated = json.loads(run_cli(hq_home.env, "keys", "rotate", "--json").stdout)
        assert rotated["reference_version"] == before + 1  # type: ignore[operator]
        # A worker starting with the new key later notes the same kid: no second raise.
        assert store.note_hq_keys(engine, rotated["current_kid"]) == before + 1  # type: ignore[operator]
    finally:
        engine.dispose()


def test_keys_commands_need_an_initialised_home_and_the_right_passphrase(hq_home, tmp_path):
    wrong = {**hq_home.env, "FIELDKIT_HQ_PASSPHRASE": "not the passphrase at all"}
    assert run_cli(wrong, "keys", "rotate", check=False).returncode == 1
    assert len(_listed(hq_home)["encryption_keys"]) == 1
    elsewhere = {**hq_home.env, "FIELDKIT_HQ_HOME": str(tmp_path / "none")}
    assert run_cli(elsewhere, "keys", "list", check=False).returncode == 1
