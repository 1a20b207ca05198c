"""The test-support kit checked against what it stands for: the vault's audit chain, HQ's parser.

``tests.support.device.Device`` seals batches as a laptop does; ``tests.support.fake_hq`` is
checked against the real HQ by ``test_hq_contract.py``.
"""

from __future__ import annotations

import sqlite3
import uuid

from sync.wire import envelope
from tests.support.device import Device


def test_the_device_audit_chain_is_the_vaults(tmp_path):
    """HQ's recomputation (sync.wire.envelope) agrees with the chain a real vault writes."""
    from fieldkit.vault import audit

    vault_id = str(uuid.uuid4())
    conn = sqlite3.connect(tmp_path / "audit.db")
    conn.execute(
        "CREATE TABLE audit (seq INTEGER PRIMARY KEY, at TEXT, officer_id TEXT, action TEXT, "
        "subject TEXT, detail TEXT, prev_hash BLOB, hash BLOB)"
    )
    audit.append_many(conn, vault_id, [("sup1", "x", "s:1", {"n": 1}), (None, "y", None, {})])
    prev = envelope.audit_genesis(vault_id)
    for seq, at, officer, action, subject, detail, _prev, digest in conn.execute(
        "SELECT * FROM audit ORDER BY seq"
    ):
        item = {"seq": seq, "at": at, "officer_id": officer, "action": action}
        prev = envelope.audit_hash(prev, {**item, "subject": subject, "detail": detail})
        assert prev == digest
    assert audit.verify(conn, vault_id).ok


def test_a_harness_device_seals_what_hq_parses():
    private, public = envelope.generate_hq_encryption_key()
    device = Device(public, envelope.hq_kid(public), b"")
    header, sealed = device.cut(records=3, audit=2)
    parsed = envelope.parse_envelope(sealed)
    assert parsed.header == header
    envelope.verify_signature(parsed, device.key.public_key().public_bytes_raw())
    items = envelope.open_batch(parsed, private)
    assert [i["t"] for i in items] == ["r", "r", "r", "a", "a"]
    assert header.audit_head == device.audit_hash.hex()
