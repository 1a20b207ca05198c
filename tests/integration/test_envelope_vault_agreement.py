"""HQ re-implements the audit hash (sync/wire/envelope.py) without importing the vault: prove that
it reproduces, bit for bit, the hashes a real vault stores, and that a batch cut from a real
vault carries them to HQ intact."""

from __future__ import annotations

import json
import sqlite3

import pytest

from sync.wire import envelope as env
from tests.support.vault import (
    add_applicants,
    applicant_history,
    new_vault,
    people,
    plan_visit,
    show_applicant,
)

AUDIT_COLUMNS = "seq, at, officer_id, action, subject, detail, prev_hash, hash"


@pytest.fixture
def session(tmp_path, cheap_kdf):
    s = new_vault(tmp_path)
    yield s
    s.vault.close()


def fill(session) -> list[str]:
    ids = add_applicants(session, plan_visit(session), people(5, 3))
    show_applicant(session, ids[0])
    applicant_history(session, ids[1])
    # Text the vault's JSON escapes (detail) next to text it keeps as is (subject).
    session.note("export_made", "berkas:Ñoño — Cirebon", {"file": "daftar hadir é.xlsx", "n": 2})
    session.note("lock", None)
    return ids


def audit_rows(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute(f"SELECT {AUDIT_COLUMNS} FROM audit ORDER BY seq").fetchall()


def as_item(row: tuple) -> dict[str, object]:
    seq, at, officer_id, action, subject, detail, _, _ = row
    return {
        "t": "a",
        "seq": seq,
        "at": at,
        "officer_id": officer_id,
        "action": action,
        "subject": subject,
        "detail": detail,
    }


def test_audit_hash_and_genesis_reproduce_the_vaults_stored_hashes(session):
    fill(session)
    rows = audit_rows(session.conn)
    assert len(rows) >= 12
    assert {r[3] for r in rows} >= {"vault_created", "applicant_created", "applicant_viewed"}
    assert any(r[4] is None for r in rows)  # subjects may be null
    assert any(not r[4].isascii() for r in rows if r[4])  # and non-ASCII
    prev = env.audit_genesis(session.vault.vault_id)
    for row in rows:
        item = as_item(row)
        # The item survives the trip through a body unchanged.
        assert env.decode_body(env.encode_body([item]), 1) == [item]
        assert row[6] == prev, row[0]
        digest = env.audit_hash(prev, item)
        assert digest == row[7], row[0]
        prev = digest
    assert session.vault.verify_audit().ok


def test_the_genesis_is_bound_to_the_vault(session):
    first = audit_rows(session.conn)[0]
    assert first[6] == env.audit_genesis(session.vault.vault_id)
    assert first[6] != env.audit_genesis(session.vault.device_id)


def test_a_batch_cut_from_the_vault_lets_hq_recompute_the_chain_to_audit_head(session):
    ids = fill(session)
    conn = session.conn
    records = []
    outbox = conn.execute("SELECT seq, kind, id, version FROM outbox ORDER BY seq").fetchall()
    for outbox_seq, kind, record_id, version in outbox:
        record = session.read(kind, record_id, version)
        records.append(
            {
                "t": "r",
                "kind": kind,
                "id": record_id,
                "version": version,
                "visit_id": record.visit_id,
                "state": record.state,
                "officer_id": record.officer_id,
                "at": record.at,
                "outbox_seq": outbox_seq,
                "data": record.data,
            }
        )
    rows = audit_rows(conn)
    items = records + [as_item(r) for r in rows]
    hq_private, hq_public = env.generate_hq_encryption_key()
    header = env.BatchHeader(
        device_id=session.vault.device_id,
        batch_id="019ac9e0-7c00-7000-8000-0f1e2d3c4b5a",
        seq=1,
        created_at="2026-12-01T03:00:00.000000+00:00",
        hq_kid=env.hq_kid(hq_public),
        count=len(items),
        outbox=(outbox[0][0], outbox[-1][0]),
        audit=(rows[0][0], rows[-1][0]),
        audit_head=rows[-1][7].hex(),
    )
    device_key = session.device_signing_key()
    sealed = env.seal_batch(header, items, hq_public=hq_public, device_key=device_key)

    # HQ's side: only the envelope module, the enrolled device key and the vault id.
    envelope = env.parse_envelope(sealed)
    env.verify_signature(envelope, bytes.fromhex(session.vault.meta["device_public_key"]))
    received = env.open_batch(envelope, hq_private)
    assert received == json.loads(json.dumps(items))
    assert {r["id"] for r in received if r["t"] == "r"} >= set(ids)
    prev = env.audit_genesis(session.vault.vault_id)
    for item in (i for i in received if i["t"] == "a"):
        prev = env.audit_hash(prev, item)
    assert prev.hex() == envelope.header.audit_head
