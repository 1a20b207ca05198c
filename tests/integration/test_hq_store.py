"""HQ's store and ingest in process, on SQLite and PostgreSQL: schema, races, the audit chain."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from fieldkit import kdf
from sync.hq import ingest, keys, store
from tests.support.device import Device
from tests.support.hq import PASSPHRASE


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request, tmp_path) -> str:
    if request.param == "postgres":
        return store.database_url(tmp_path, request.getfixturevalue("postgres_url"))
    return store.database_url(tmp_path, "")


@pytest.fixture
def engine(url):
    engine = store.open_store(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def hq_keys(tmp_path_factory) -> keys.HQKeys:
    return keys.create(tmp_path_factory.mktemp("keys"), PASSPHRASE, kdf.INSECURE_TEST_PARAMS)


def enroll(engine, hq_keys: keys.HQKeys) -> Device:
    device = Device(hq_keys.current.public, hq_keys.current_kid, hq_keys.signing_public)
    code, _ = store.create_enroll_code(engine, timedelta(minutes=5))
    public = device.key.public_key().public_bytes_raw()
    store.enroll_device(engine, code, device.device_id, device.vault_id, public)
    return device


def verified(engine, device: Device) -> dict[int, bool]:
    table = store.audit_entries
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(table.c.seq, table.c.verified).where(table.c.device_id == device.device_id)
        )
        return {int(r.seq): bool(r.verified) for r in rows}


def flags(engine, device: Device) -> list[str]:
    with engine.connect() as conn:
        query = sa.select(store.flags.c.kind).where(store.flags.c.device_id == device.device_id)
        return [row.kind for row in conn.execute(query)]


def test_the_migrated_schema_is_the_declared_one_and_migrating_again_is_a_no_op(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, store.metadata) == []
        assert context.get_current_revision() == "0006"
    store.migrate(engine)


def test_many_processes_may_migrate_the_same_store_at_once(url):
    engines = [store.create_engine(url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(store.migrate, engines))
    finally:
        for engine in engines:
            engine.dispose()


def test_a_code_raced_by_two_devices_enrolls_exactly_one(engine):
    code, _ = store.create_enroll_code(engine, timedelta(minutes=5))
    start = threading.Barrier(6)

    def attempt(_: int) -> bool:
        start.wait()
        try:
            store.enroll_device(engine, code, str(uuid.uuid4()), str(uuid.uuid4()), b"k" * 32)
        except store.EnrollRefused:
            return False
        return True

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert sorted(pool.map(attempt, range(6))) == [False] * 5 + [True]


def test_an_enrollment_retried_after_a_lost_answer_gets_the_same_device(engine):
    code, _ = store.create_enroll_code(engine, timedelta(minutes=5))
    device_id, vault_id = str(uuid.uuid4()), str(uuid.uuid4())
    first = store.enroll_device(engine, code, device_id, vault_id, b"k" * 32)
    again = store.enroll_device(engine, code, device_id, vault_id, b"k" * 32)
    assert (again.device_id, again.vault_id, bytes(again.public_key)) == (
        first.device_id,
        first.vault_id,
        b"k" * 32,
    )
    # Anyone else presenting the spent code, or the same device with another key, is refused.
    with pytest.raises(store.EnrollRefused):
        store.enroll_device(engine, code, device_id, vault_id, b"x" * 32)
    with pytest.raises(store.EnrollRefused):
        store.enroll_device(engine, code, str(uuid.uuid4()), vault_id, b"k" * 32)
    assert len(store.list_devices(engine)) == 1


def test_the_same_batch_raced_from_many_threads_is_stored_once(engine, hq_keys):
    device = enroll(engine, hq_keys)
    _, sealed = device.cut(records=5, audit=3)
    start = threading.Barrier(8)

    def send(_: int) -> ingest.IngestResult:
        start.wait()
        return ingest.ingest(engine, hq_keys, sealed, client="test")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(send, range(8)))
    assert sorted(r.status for r in results) == [200] * 7 + [201]
    assert len({r.receipt for r in results}) == 1
    assert verified(engine, device) == {1: True, 2: True, 3: True}


def test_the_audit_chain_is_verified_as_gaps_fill_in_any_order(engine, hq_keys):
    device = enroll(engine, hq_keys)
    sealed = [device.cut(records=1, audit=2)[1] for _ in range(4)]
    ingest.ingest(engine, hq_keys, sealed[3], client="test")
    ingest.ingest(engine, hq_keys, sealed[0], client="test")
    assert verified(engine, device) == {1: True, 2: True, 7: False, 8: False}
    ingest.ingest(engine, hq_keys, sealed[2], client="test")
    assert not any(verified(engine, device)[s] for s in (5, 6, 7, 8))
    with engine.connect() as conn:
        assert store.checkpoint(conn, device.device_id).missing == [2]
    ingest.ingest(engine, hq_keys, sealed[1], client="test")
    assert verified(engine, device) == dict.fromkeys(range(1, 9), True)
    assert flags(engine, device) == []


def test_a_chain_rewritten_behind_a_gap_is_flagged_when_the_gap_fills(engine, hq_keys):
    device = enroll(engine, hq_keys)
    _, first = device.cut(audit=2)
    _, second = device.cut(audit=2)
    _, third = device.cut(audit=2, audit_head="ab" * 32)  # not where the chain leads
    ingest.ingest(engine, hq_keys, first, client="test")
    ingest.ingest(engine, hq_keys, third, client="test")
    assert flags(engine, device) == []
    ingest.ingest(engine, hq_keys, second, client="test")
    assert flags(engine, device) == ["audit-chain-broken"]
    assert verified(engine, device) == {1: True, 2: True, 3: True, 4: True, 5: False, 6: False}


def test_record_versions_are_idempotent_and_a_conflicting_copy_is_flagged(engine, hq_keys):
    device = enroll(engine, hq_keys)
    item = device.applicant(str(uuid.uuid4()))
    ingest.ingest(engine, hq_keys, device.cut(items=[item])[1], client="test")
    again = {**item, "outbox_seq": item["outbox_seq"] + 1}
    ingest.ingest(engine, hq_keys, device.cut(items=[again])[1], client="test")
    assert flags(engine, device) == []
    changed = {**item, "outbox_seq": item["outbox_seq"] + 2, "state": "decided"}
    ingest.ingest(engine, hq_keys, device.cut(items=[changed])[1], client="test")
    assert flags(engine, device) == ["record-conflict"]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(store.records).where(store.records.c.id == item["id"]))
        assert [(r.version, r.state) for r in rows] == [(1, "captured")]


def test_every_refusal_leaves_a_rejection_even_when_the_transaction_rolled_back(engine, hq_keys):
    device = enroll(engine, hq_keys)
    store.revoke_device(engine, device.device_id, "lost")
    header, sealed = device.cut()
    with pytest.raises(ingest.HttpProblem) as refused:
        ingest.ingest(engine, hq_keys, sealed, client="10.1.2.3")
    assert (refused.value.slug, refused.value.status) == ("device-revoked", 403)
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(store.rejections).where(store.rejections.c.batch_id == header.batch_id)
        ).one()
    assert (row.problem, row.client, row.seq) == ("device-revoked", "10.1.2.3", 1)
