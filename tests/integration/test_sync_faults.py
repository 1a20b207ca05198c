"""Sync over a hostile network: 5,000 applicants reach a real HQ exactly once through faults.

HQ runs as `fieldkit-hq serve` in a subprocess (SQLite, and PostgreSQL when marked
``postgres``); the device is a real vault. Every request of the sync goes through
:class:`~tests.support.faultproxy.FaultProxy`, which drops connections before and after
forwarding, stalls past the client's read timeout, answers 500 (before and after forwarding)
and 503 with ``Retry-After``, and cuts answers short. The device loops ``sync(once=True)``
until everything is acknowledged; then HQ's store is read directly and compared with what the
vault captured.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from fieldkit.vault import audit, syncstate
from fieldkit.vault.session import UnlockedVault
from sync.device.client import ONCE_ATTEMPTS, RetryPolicy, SyncClient, SyncReport
from sync.hq import store
from tests.support.faultproxy import FAULTS, FaultPlan, FaultProxy
from tests.support.hq import Server, running_hq
from tests.support.vault import add_applicants, enrolled_vault, people, plan_visit

APPLICANTS = 5_000
CAPTURE_BATCH = 500
READ_TIMEOUT = 2.0
# Backoff is tiny so the test is fast; the cap must not be below the proxy's Retry-After,
# because RetryPolicy clamps Retry-After to the cap (by design, docs/sync.md "Retries").
POLICY_BASE, POLICY_CAP = 0.01, 1.0
RETRY_AFTER = 1
MAX_PASSES = 60
MAX_SYNC_SECONDS = 90.0
# Every fault a bit more often than the proxy's default plan, so that each one happens in the
# ~70 requests a sync of 5,000 applicants needs (asserted below); seeded, so repeatable.
PLAN = FaultPlan(
    weights={
        "pass": 0.40,
        "drop_before": 0.08,
        "drop_after": 0.08,
        "stall": 0.06,
        "error_500": 0.08,
        "error_500_after": 0.08,
        "unavailable_503": 0.10,
        "cut_short": 0.12,
    },
    stall_seconds=READ_TIMEOUT + 0.5,
    retry_after=RETRY_AFTER,
    seed=20_260_301,
)


class RecordingHttp(requests.Session):
    """A requests session that notes what became of every request (status or exception)."""

    def __init__(self) -> None:
        super().__init__()
        self.outcomes: list[int | str] = []

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        try:
            response = super().request(method, url, *args, **kwargs)
        except Exception as exc:
            self.outcomes.append(type(exc).__name__)
            raise
        self.outcomes.append(response.status_code)
        return response


def capture(home: Path, server: Server) -> tuple[UnlockedVault, dict[str, dict[str, object]]]:
    """A vault enrolled with ``server`` (directly) holding 5,000 applicants; their data by id."""
    session = enrolled_vault(home, server.url, server.enroll_code())
    visit_id = plan_visit(session)
    captured = people(APPLICANTS, 11)
    data: dict[str, dict[str, object]] = {}
    for start in range(0, len(captured), CAPTURE_BATCH):
        chunk = captured[start : start + CAPTURE_BATCH]
        data.update(zip(add_applicants(session, visit_id, chunk), chunk, strict=True))
    return session, data


def hq_rows(server: Server, table: sa.Table, device_id: str) -> list[dict[str, Any]]:
    """Rows of one of HQ's tables for ``device_id``, read from its store."""
    return server.hq.rows(table, table.c.device_id == device_id)


def normalised(person: dict[str, object]) -> tuple[str, str, str, str]:
    """What identifies an applicant's data: NIK, name, phone and booking code, normalised."""
    return (
        str(person["nik"]).strip(),
        " ".join(str(person["name"]).split()).upper(),
        "".join(ch for ch in str(person["phone"]) if ch.isdigit()),
        str(person["booking_code"]).strip().upper(),
    )


def sync_through_faults(
    proxy_url: str, session: UnlockedVault
) -> tuple[list[SyncReport], RecordingHttp, list[tuple[int | str, float]]]:
    """Loop ``sync(once=True)`` through the proxy until complete; reports, HTTP log, waits."""
    http = RecordingHttp()
    waits: list[tuple[int | str, float]] = []  # (what the wait followed, seconds)

    def sleep(seconds: float) -> None:
        waits.append((http.outcomes[-1], seconds))
        time.sleep(seconds)

    client = SyncClient(
        proxy_url,
        session,
        http,
        connect_timeout=READ_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        policy=RetryPolicy(base=POLICY_BASE, cap=POLICY_CAP),
        sleep=sleep,
        random=random.Random(7).random,
    )
    reports: list[SyncReport] = []
    deadline = time.monotonic() + MAX_SYNC_SECONDS
    while True:
        report = client.sync(once=True)
        reports.append(report)
        assert report.exit_code in (0, 4), report.as_json("en")  # never refused nor untrusted
        if report.complete:
            return reports, http, waits
        assert len(reports) < MAX_PASSES, f"not complete after {len(reports)} passes"
        assert time.monotonic() < deadline, f"not complete after {MAX_SYNC_SECONDS} s"


def _five_thousand_applicants_arrive_exactly_once_through_faults(
    server: Server, home: Path
) -> None:
    session, captured = capture(home, server)
    device = session.vault.device_id
    started = time.monotonic()
    with FaultProxy(int(server.url.rsplit(":", 1)[1]), PLAN) as proxy:
        reports, http, waits = sync_through_faults(f"http://127.0.0.1:{proxy.port}", session)
        stats = dict(proxy.stats)
    elapsed = time.monotonic() - started
    print(
        f"\n{server.store_url().split(':', 1)[0]}: {len(reports)} passes, "
        f"{len(http.outcomes)} requests, "
        f"{sum(r.duplicates for r in reports)} duplicates, {elapsed:.1f} s syncing; proxy {stats}"
    )

    # The proxy really did every kind of harm, and the client honoured Retry-After.
    assert set(FAULTS) <= set(stats), f"not every fault happened: {stats}"
    assert "ReadTimeout" in http.outcomes, "a stall outlasted the client's read timeout"
    after_503 = [seconds for outcome, seconds in waits if outcome == 503]
    assert after_503, "a 503 with Retry-After was retried"
    assert all(seconds >= RETRY_AFTER for seconds in after_503), after_503
    longest_backoff = POLICY_BASE * 2 ** (ONCE_ATTEMPTS - 2)
    others = [seconds for outcome, seconds in waits if outcome != 503]
    assert all(seconds <= longest_backoff for seconds in others), others

    # HQ holds every applicant exactly once, with the data captured.
    held = hq_rows(server, store.records, device)
    keys = [(r["kind"], r["id"], r["version"]) for r in held]
    assert len(keys) == len(set(keys)), "no record version twice"
    applicants = {r["id"]: r for r in held if r["kind"] == "applicant"}
    assert len(applicants) == APPLICANTS == len(captured)
    assert set(applicants) == set(captured)
    assert all(r["version"] == 1 for r in applicants.values())
    for applicant_id, person in captured.items():
        data = applicants[applicant_id]["data"]
        data = data if isinstance(data, dict) else json.loads(data)
        assert normalised(data) == normalised(person), applicant_id
        assert data == session.read("applicant", applicant_id).data, applicant_id
    outbox = session.conn.execute("SELECT kind, id, version FROM outbox").fetchall()
    assert sorted(keys) == sorted(tuple(row) for row in outbox), "the visit too, nothing else"

    # Every batch acknowledged on the device with a receipt naming it.
    stored = syncstate.batches(session.conn)
    summary = syncstate.summary(session.conn)
    assert summary.unacked == 0 and summary.outbox_waiting == 0
    assert stored and all(b.acked and b.receipt for b in stored)
    for b in stored:
        assert b.receipt is not None
        assert (b.receipt["batch_id"], b.receipt["seq"], b.receipt["device_id"]) == (
            b.batch_id,
            b.seq,
            device,
        )
    assert sum(r.acked for r in reports) == len(stored), "each batch acknowledged once"
    assert sum(r.duplicates for r in reports) >= 1, "a batch whose answer was lost was resent"

    # HQ's batches: seq 1..N gapless, the device's ids and receipts; no flags nor rejections.
    batches = sorted(hq_rows(server, store.batches, device), key=lambda r: r["seq"])
    assert [r["seq"] for r in batches] == list(range(1, len(stored) + 1))
    assert [r["batch_id"] for r in batches] == [b.batch_id for b in stored]
    assert [json.loads(r["receipt"])["receipt"] for r in batches] == [b.receipt for b in stored]
    assert hq_rows(server, store.flags, device) == []
    rejected = [r["problem"] for r in hq_rows(server, store.rejections, device)]
    assert "sequence-reused" not in rejected and "batch-id-reused" not in rejected
    assert rejected == []

    # The audit chain at HQ is verified up to what the device sent, and is the vault's.
    assert audit.verify(session.conn, session.vault.vault_id).ok
    sent = max(b.audit[1] for b in stored if b.audit)
    entries = sorted(hq_rows(server, store.audit_entries, device), key=lambda r: r["seq"])
    assert [e["seq"] for e in entries] == list(range(1, sent + 1))
    assert all(e["verified"] for e in entries), "HQ verified the audit chain"
    vault_hash = session.conn.execute("SELECT hash FROM audit WHERE seq = ?", (sent,)).fetchone()
    assert entries[-1]["hash"] == bytes(vault_hash[0]).hex()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_five_thousand_applicants_arrive_exactly_once_through_faults(backend, tmp_path, request):
    db_url = request.getfixturevalue("postgres_url") if backend == "postgres" else None
    with running_hq(tmp_path / "hq", db_url) as server:
        assert server.store_url().startswith("postgresql" if db_url else "sqlite")
        _five_thousand_applicants_arrive_exactly_once_through_faults(server, tmp_path / "device")
