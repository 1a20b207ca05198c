"""Issue 9, item 6 (first half): what is personal in the reference data is sealed to the device.

The attack: a network attacker (or anyone who can read HQ's answers: a TLS-terminating proxy, a
log of responses) records the reference document HQ sends a device. Before format 2 it held
the rosters' names and NIKs in clear (protected only by TLS). Now the rosters, the watchlist and
the withdrawals are sealed with HPKE (ML-KEM-768 + X25519, the batches' suite) to the device's
own encryption key, whose private half never leaves that device's vault: the recorded bytes hold
no name or NIK, another device's key does not open them, a replayed request gets only another
sealed copy, and an attacker cannot register a key of their own for the device. The real device
opens the document and imports the roster.

The HQ is the real ``fieldkit-hq serve`` in a subprocess; the devices are real vaults. Every
person is synthetic.
"""

from __future__ import annotations

import base64
import json

import pytest
import requests

from fieldkit.vault import syncstate
from fieldkit.vault.errors import IntegrityError
from sync.device.enrollment import encryption_key
from sync.device.errors import HqRefused, UntrustedReference
from sync.device.reference import apply_reference, read_reference
from sync.hq import keys, store
from sync.wire import envelope
from sync.wire.reference import (
    ENCRYPTION_KEY_HEADER,
    ENCRYPTION_KEY_SIGNATURE_HEADER,
    encryption_key_headers,
    open_personal,
)
from sync.wire.requests import REFERENCE_PATH, request_headers
from tests.support.hq import PASSPHRASE as HQ_PASSPHRASE
from tests.support.reference import entries_of, write_roster
from tests.support.vault import enrolled_vault, no_wait_client, people

pytestmark = pytest.mark.usefixtures("cheap_kdf")


@pytest.fixture(scope="module")
def server(hq_server):
    return hq_server


class Recording(requests.Session):
    """The network attacker's view: every reference request and the bytes HQ answered."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[dict[str, str], bytes]] = []

    def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().request(method, url, *args, **kwargs)
        if url.endswith(REFERENCE_PATH):
            self.seen.append((dict(response.request.headers), response.content))
        return response


def assign(server, device_id: str, tmp_path, seed: int) -> tuple[str, list[dict]]:
    roster = people(6, seed)
    visit_id = server.cli(
        "roster", "assign", "--device", device_id, "--visit-json",
        str(write_roster(tmp_path, entries_of(roster))),
    ).stdout.strip()  # fmt: skip
    return visit_id, roster


def assert_nothing_personal(raw: bytes, roster: list[dict]) -> None:
    """No name, NIK or phone of the roster in ``raw``, nor in any base64 string inside it."""
    texts = [raw]
    for value in (json.loads(raw)["document"].get("sealed") or {}).values():
        texts.append(base64.b64decode(value) if len(value) > 16 else value.encode())
    for blob in texts:
        for person in roster:
            for field in ("name", "nik", "phone"):
                assert person[field].encode() not in blob, f"{field} in what the network saw"


def test_a_recorded_reference_answer_opens_only_on_its_own_device(server, tmp_path):
    wire = Recording()
    mine = enrolled_vault(tmp_path / "mine", server.url, server.enroll_code())
    theirs = enrolled_vault(tmp_path / "theirs", server.url, server.enroll_code())
    no_wait_client(server.url, theirs).pull_reference()  # the other device has its own key
    visit_id, roster = assign(server, mine.vault.device_id, tmp_path, 7301)

    client = no_wait_client(server.url, mine, http=wire)
    outcome = client.pull_reference()
    assert (outcome.visits_added, outcome.entries_added) == (1, 6), "the real device imports it"
    held = sorted(e.data["nik"] for e in mine.latest("roster", visit_id))
    assert held == sorted(p["nik"] for p in roster)

    # What the attacker recorded: a signed document whose personal part is ciphertext only.
    [(sent, raw)] = wire.seen
    assert ENCRYPTION_KEY_HEADER in sent, "the device offered its encryption key"
    assert_nothing_personal(raw, roster)
    payload = json.loads(raw)
    document = payload["document"]
    assert document["v"] == 2 and "rosters" not in document and "watchlist" not in document
    assert set(document["sealed"]) == {"kid", "ct"}

    # Another device's private key does not open it, neither by hand nor through the reader.
    their_public, their_private = encryption_key(theirs)
    with pytest.raises(ValueError, match="does not open"):
        open_personal(document["sealed"], their_private, mine.vault.device_id, document["version"])
    pinned = syncstate.enrollment(mine.vault)
    assert pinned is not None
    with pytest.raises(UntrustedReference, match="a key this laptop does not hold"):
        read_reference(payload, pinned, mine.vault.device_id, (their_public, their_private))
    # Their key under our kid (a forged label) still opens nothing: HPKE fails.
    my_public, my_private = encryption_key(mine)
    with pytest.raises(UntrustedReference, match="does not open with this device's key"):
        read_reference(payload, pinned, mine.vault.device_id, (my_public, their_private))
    # The right key opens it: the roster is in there.
    opened = json.loads(
        open_personal(document["sealed"], my_private, mine.vault.device_id, document["version"])
    )
    assert {e["data"]["nik"] for e in opened["rosters"][0]["entries"]} == set(held)

    # Replaying the recorded request (within HQ's clock window) gets another sealed copy only.
    replayed = requests.get(server.base + REFERENCE_PATH, headers=sent, timeout=30)
    assert replayed.status_code == 200
    assert_nothing_personal(replayed.content, roster)
    again = replayed.json()["document"]["sealed"]
    assert again["kid"] == document["sealed"]["kid"] and again["ct"] != document["sealed"]["ct"]

    # Nor can the attacker make HQ seal to a key of their own: the offer must be signed by the
    # device's key, and HQ keeps the first key it was offered.
    _, attacker_public = envelope.generate_hq_encryption_key()
    forged = {**sent}
    forged.update(
        {
            ENCRYPTION_KEY_HEADER: base64.b64encode(attacker_public).decode(),
            ENCRYPTION_KEY_SIGNATURE_HEADER: sent[ENCRYPTION_KEY_SIGNATURE_HEADER],
        }
    )
    refused = requests.get(server.base + REFERENCE_PATH, headers=forged, timeout=30)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"] == "/problems/invalid-encryption-key"
    [row] = server.hq.rows(store.devices, store.devices.c.device_id == mine.vault.device_id)
    assert row["encryption_public_key"] == my_public, "HQ still holds the device's own key"


def test_a_device_enrolled_before_format_2_gets_its_key_at_its_next_pull(server, tmp_path):
    session = enrolled_vault(tmp_path / "old", server.url, server.enroll_code())
    # As a vault enrolled before this change: no encryption key, and HQ holds none either.
    session.conn.execute("DELETE FROM meta WHERE key = ?", (syncstate.DEVICE_ENCRYPTION_KEY,))
    session.vault.reload_meta()
    device_id = session.vault.device_id
    visit_id, roster = assign(server, device_id, tmp_path, 7302)

    # A client that does not offer a key (software of before format 2 would not): nothing
    # personal is sent at all.
    headers = request_headers(session.device_signing_key(), device_id)
    bare = requests.get(server.base + REFERENCE_PATH, headers=headers, timeout=30)
    assert bare.status_code == 200 and bare.json()["document"]["sealed"] is None
    assert_nothing_personal(bare.content, roster)

    # The updated laptop makes its key at its next pull, offers it, and gets its roster.
    outcome = no_wait_client(server.url, session).pull_reference()
    assert outcome.entries_added == 6 and syncstate.device_encryption_key(session) is not None
    [row] = server.hq.rows(store.devices, store.devices.c.device_id == device_id)
    assert row["encryption_public_key"] == syncstate.device_encryption_key(session)[0]
    assert len(session.latest("roster", visit_id)) == 6

    # Another key offered later for the same device (signed by it) is refused, not swapped in.
    _, other_public = envelope.generate_hq_encryption_key()
    key = session.device_signing_key()
    conflict = requests.get(
        server.base + REFERENCE_PATH,
        headers={
            **request_headers(key, device_id),
            **encryption_key_headers(key, device_id, other_public),
        },
        timeout=30,
    )
    assert conflict.status_code == 409 and conflict.json()["type"].endswith("key-conflict")


def test_a_format_1_document_from_an_old_hq_is_refused_and_changes_nothing(server, tmp_path):
    session = enrolled_vault(tmp_path / "device", server.url, server.enroll_code())
    current = no_wait_client(server.url, session).pull_reference()
    document = syncstate.reference_document(session)
    assert document is not None
    old = {
        k: v for k, v in document.items() if k not in ("watchlist", "withdrawn", "rosters_sha256")
    }
    old.update({"v": 1, "version": current.version + 1, "watchlist": None, "rosters": []})
    old.pop("sealed", None)
    signing = keys.unlock(server.hq.home, HQ_PASSPHRASE).signing_key
    with pytest.raises(UntrustedReference, match="format version 1") as refused:
        apply_reference(session, envelope.sign_document(old, signing))
    assert "upgraded" in refused.value.message.en and "diperbarui" in refused.value.message.id
    assert syncstate.reference_state(session.vault).version == current.version


def test_an_edited_encryption_key_row_never_makes_the_laptop_offer_another_key(server, tmp_path):
    """Editing the vault file (no passphrase) to swap the key HQ seals to gets nowhere."""
    session = enrolled_vault(tmp_path / "device", server.url, server.enroll_code())
    client = no_wait_client(server.url, session)
    client.pull_reference()
    device_id = session.vault.device_id
    [before] = server.hq.rows(store.devices, store.devices.c.device_id == device_id)
    _, attacker_public = envelope.generate_hq_encryption_key()
    row = json.loads(
        session.conn.execute(
            "SELECT value FROM meta WHERE key = ?", (syncstate.DEVICE_ENCRYPTION_KEY,)
        ).fetchone()[0]
    )
    # The attacker's public key in place of the laptop's: the sealed private half is bound to
    # the public key, so the row no longer authenticates and nothing is offered.
    swapped = json.dumps({**row, "public": attacker_public.hex()})
    session.conn.execute(
        "UPDATE meta SET value = ? WHERE key = ?", (swapped, syncstate.DEVICE_ENCRYPTION_KEY)
    )
    with pytest.raises(IntegrityError):
        client.pull_reference()
    # The row deleted: the laptop makes a new key, and HQ refuses it (it keeps the first).
    session.conn.execute("DELETE FROM meta WHERE key = ?", (syncstate.DEVICE_ENCRYPTION_KEY,))
    with pytest.raises(HqRefused) as refused:
        client.pull_reference()
    assert refused.value.problem.slug == "encryption-key-conflict"
    [after] = server.hq.rows(store.devices, store.devices.c.device_id == device_id)
    assert after["encryption_public_key"] == before["encryption_public_key"]
