"""HQ's side of roster withdrawal: migration 0003, ``roster withdraw`` and ``list``, the document.

HQ's app runs in the test process (``tests.support.hq_app``) over SQLite and, marked
``postgres``, PostgreSQL; the devices are the harness's. Every NIK is synthetic.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sync.hq import store
from tests.support.hq import run_cli
from tests.support.hq_app import HQApp, in_process_hq_for
from tests.support.reference import document, entries, write_roster

REASON = "salah perangkat / wrong device"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(request, tmp_path_factory):
    yield from in_process_hq_for(request, tmp_path_factory)


def cli(server: HQApp, *args: str, check: bool = True):
    return run_cli(server.hq.env, *args, check=check)


def assign(server: HQApp, device_id: str, tmp_path, seed: int) -> str:
    return cli(
        server, "roster", "assign", "--device", device_id, "--visit-json",
        str(write_roster(tmp_path, entries(2, seed))),
    ).stdout.strip()  # fmt: skip


# -- the command and the document -----------------------------------------------------------------


def test_a_withdrawn_visit_leaves_rosters_and_is_told_to_its_device_only(server, tmp_path):
    device, other = server.enroll(), server.enroll()
    visit_id = assign(server, device.device_id, tmp_path, 601)
    kept_id = assign(server, device.device_id, tmp_path, 602)
    before = document(server, device)
    assert "withdrawn" not in before, "sent only when there is a withdrawal"
    assert {visit_id, kept_id} <= {r["visit_id"] for r in before["rosters"]}
    untouched = document(server, other)

    done = json.loads(
        cli(server, "roster", "withdraw", visit_id, "--reason", REASON, "--json").stdout
    )
    assert done["visit_id"] == visit_id and done["device_id"] == device.device_id
    assert done["reason"] == REASON and done["reference_version"] > before["version"]

    after = document(server, device)
    assert after["version"] == done["reference_version"]
    assert [r["visit_id"] for r in after["rosters"]] == [kept_id]
    assert after["withdrawn"] == [
        {"visit_id": visit_id, "reason": REASON, "withdrawn_at": done["withdrawn_at"]}
    ]
    theirs = document(server, other)
    assert "withdrawn" not in theirs
    assert theirs["rosters"] == untouched["rosters"]

    listed = {i["visit_id"]: i for i in json.loads(cli(server, "roster", "list", "--json").stdout)}
    assert listed[visit_id]["withdrawn_at"] == done["withdrawn_at"]
    assert listed[visit_id]["withdraw_reason"] == REASON
    assert listed[kept_id]["withdrawn_at"] is None and listed[kept_id]["withdraw_reason"] is None
    text = cli(server, "roster", "list", "--device", device.device_id).stdout
    assert f"WITHDRAWN {done['withdrawn_at']}: {REASON}" in text
    assert text.count("WITHDRAWN") == 1
    status = json.loads(cli(server, "status", "--json").stdout)["reference"]
    assert status["roster_withdrawn"] >= 1

    # Withdrawing again, or a visit never assigned: exit 1, nothing published.
    again = cli(server, "roster", "withdraw", visit_id, "--reason", REASON, check=False)
    assert again.returncode == 1 and "already withdrawn" in again.stderr
    unknown = cli(server, "roster", "withdraw", str(uuid.uuid4()), "--reason", "x", check=False)
    assert unknown.returncode == 1 and "No visit" in unknown.stderr
    assert document(server, device)["version"] == after["version"]


def test_a_withdrawal_needs_a_reason_without_personal_data(server, tmp_path):
    device = server.enroll()
    visit_id = assign(server, device.device_id, tmp_path, 603)
    missing = cli(server, "roster", "withdraw", visit_id, check=False)
    assert missing.returncode == 2 and "--reason" in missing.stderr
    blank = cli(server, "roster", "withdraw", visit_id, "--reason", "   ", check=False)
    assert blank.returncode == 2
    nik = entries(1, 604)[0]["nik"]
    named = cli(server, "roster", "withdraw", visit_id, "--reason", f"NIK {nik}", check=False)
    assert named.returncode == 2 and "personal data" in named.stderr
    assert nik not in named.stderr + named.stdout
    assert "withdrawn" not in document(server, device)
    helped = cli(server, "roster", "withdraw", "--help").stdout
    assert "no personal data" in " ".join(helped.split())
    assert "never be assigned again" in " ".join(helped.split())


def test_a_withdrawn_visit_id_is_never_assigned_again(server, tmp_path):
    device = server.enroll()
    visit_id = assign(server, device.device_id, tmp_path, 605)
    engine = server.hq.engine()
    try:
        with pytest.raises(store.AssignmentRefused, match="already assigned"):
            store.assign_roster(engine, device.device_id, visit_id, {}, [])
        cli(server, "roster", "withdraw", visit_id, "--reason", "kunjungan batal / cancelled")
        version = document(server, device)["version"]
        with pytest.raises(store.AssignmentRefused, match="cannot be assigned again"):
            store.assign_roster(engine, device.device_id, visit_id, {}, [])
    finally:
        engine.dispose()
    assert document(server, device)["version"] == version, "a refusal publishes nothing"
    help_text = " ".join(cli(server, "roster", "assign", "--help").stdout.split())
    assert "a withdrawn visit is never assigned again" in help_text


# -- the migration ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_migrating_from_0002_keeps_assignments_and_matches_the_declared_schema(
    backend, tmp_path, request
):
    url = (
        request.getfixturevalue("postgres_url").replace("postgresql://", "postgresql+psycopg://")
        if backend == "postgres"
        else f"sqlite+pysqlite:///{tmp_path / 'hq.db'}"
    )
    engine = store.create_engine(url)
    try:
        store.migrate(engine, "0002")
        device_id, visit_id = str(uuid.uuid4()), str(uuid.uuid4())
        moment = datetime(2026, 11, 1, 8, tzinfo=UTC)
        with engine.begin() as conn:
            conn.execute(
                store.devices.insert().values(
                    device_id=device_id,
                    vault_id=str(uuid.uuid4()),
                    public_key=b"k" * 32,
                    enrolled_at=moment,
                )
            )
            old = sa.table(  # roster_assignments as 0002 made it
                "roster_assignments",
                sa.column("visit_id"),
                sa.column("device_id"),
                sa.column("assigned_at", store.UTCDateTime()),
                sa.column("visit", store.json_type()),
                sa.column("entries", store.json_type()),
            )
            conn.execute(
                old.insert().values(
                    visit_id=visit_id,
                    device_id=device_id,
                    assigned_at=moment,
                    visit={"site": "Kanim Karawang"},
                    entries=[{"id": "e1", "data": {}}],
                )
            )
        store.migrate(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, store.metadata) == []
            assert context.get_current_revision() == "0006"
        [row] = store.roster_list(engine)
        assert (row["visit_id"], row["device_id"], row["assigned_at"]) == (
            visit_id,
            device_id,
            moment,
        )
        assert row["visit"] == {"site": "Kanim Karawang"} and len(row["entries"]) == 1
        assert (row["withdrawn_at"], row["withdraw_reason"]) == (None, None)
        version, withdrawn_at, owner = store.withdraw_roster(engine, visit_id, "cancelled")
        assert owner == device_id and version >= 1
        with store.reading(engine, snapshot=True) as conn:
            snapshot = store.reference_snapshot(conn, device_id)
        assert snapshot.rosters == []
        assert [(w["visit_id"], w["withdraw_reason"]) for w in snapshot.withdrawn] == [
            (visit_id, "cancelled")
        ]
        assert snapshot.withdrawn[0]["withdrawn_at"] == withdrawn_at
    finally:
        engine.dispose()
