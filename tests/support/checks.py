"""Checks more than one test makes: HQ holds exactly what a vault captured, once."""

from __future__ import annotations

from typing import Any

from fieldkit.vault import syncstate
from fieldkit.vault.session import UnlockedVault
from tests.support.hq import Server


def captured(session: UnlockedVault) -> dict[tuple[str, str, int], dict[str, Any]]:
    """Every record version in the vault's outbox, decrypted."""
    rows = session.conn.execute("SELECT kind, id, version FROM outbox ORDER BY seq").fetchall()
    return {(k, i, v): session.read(k, i, v).data for k, i, v in rows}


def assert_hq_holds_exactly(server: Server, session: UnlockedVault) -> None:
    """HQ's store holds every record version of the vault's outbox once, as captured; its
    batch count is the vault's; no flags; the audit chain verified."""
    hq = server.hq
    held = hq.records(session.vault.device_id)
    keys = [(k, i, v) for k, i, v, _ in held]
    assert len(keys) == len(set(keys)), "no record version twice"
    expected = captured(session)
    assert {(k, i, v): d for k, i, v, d in held} == expected
    device = session.vault.device_id
    assert (
        hq.scalar("SELECT count(*) FROM batches WHERE device_id = :d", d=device)
        == syncstate.summary(session.conn).batches
    )
    assert hq.scalar("SELECT count(*) FROM flags WHERE device_id = :d", d=device) == 0
    unverified = "SELECT count(*) FROM audit_entries WHERE device_id = :d AND NOT verified"
    assert hq.scalar(unverified, d=device) == 0, "HQ verified the audit chain"
