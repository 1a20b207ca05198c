"""End-to-end sync of 10,000 applicants on loopback, SQLite and PostgreSQL HQ, same run.

One device vault (cheap test KDF) captures ``--applicants`` synthetic applicants with
``service.add_applicants``, ``--per-save`` per call (the vault writes one audit entry per
applicant, so the batches carry as many audit entries as records); it is copied once per
store, so both HQs receive the same records. For each store a real HQ runs (``fieldkit-hq
init`` + ``serve --workers N``, ``FIELDKIT_HQ_DB`` naming a fresh PostgreSQL database for
``postgres``), the copy enrolls with a code from ``fieldkit-hq device
enroll-code``, a small warm-up device syncs first, and then the measured
``SyncClient.sync(once=True)`` runs: HQ's checkpoint, cutting every batch (decrypt from the
vault, seal to HQ, sign, store), POSTing each, HQ's checks and ingest, verifying and storing each
receipt. HQ's store is then checked to hold exactly the device's applicants.

Where the time goes: ``cut_batch`` and the HTTP requests are timed from the benchmark process
(wrappers; no product code changes), and ``ingest only`` is HQ's ``ingest.ingest`` run
in this process on the same envelopes into a fresh store of the same kind (no HTTP).

Baseline, same run: the same envelopes POSTed in a loop on one kept-alive ``requests``
connection to a trivial ASGI app (it reads the body and answers ``201 {}``) under uvicorn
configured as ``fieldkit-hq serve`` runs it (the same HTTP protocol class, with TCP_NODELAY,
and the same workers), ``--baseline-reps`` times right after the measured sync (median; the
envelopes exist only once the sync has cut them). The ratio is sync time / baseline time.
For context, the same number of ``GET /healthz`` to HQ on one connection.

``--per-save`` only changes how long capturing takes (not measured): the vault writes one
audit entry per applicant either way, so the batches carry the same items.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests
import sqlalchemy as sa

import sync.device.client as sync_client
from bench import _common as c
from bench import sync_harness as h
from sync.device.client import SyncClient

STORES = ("sqlite", "postgres")


class TimedSession(requests.Session):
    """A ``requests`` session that adds up the time spent in requests, by method."""

    def __init__(self) -> None:
        super().__init__()
        self.spent: dict[str, list[float]] = {}

    def request(self, method: str, url: str, *args: object, **kwargs: object) -> requests.Response:  # type: ignore[override]
        t0 = time.perf_counter()
        try:
            return super().request(method, url, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            self.spent.setdefault(method, []).append(time.perf_counter() - t0)


@contextlib.contextmanager
def timed_cuts() -> object:
    """Time every ``cut_batch`` the sync client makes (patched in this process only)."""
    original: Callable[..., object] = sync_client.cut_batch
    spent: list[float] = []

    def cut(*args: object, **kwargs: object) -> object:
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - t0)

    sync_client.cut_batch = cut  # type: ignore[assignment]
    try:
        yield spent
    finally:
        sync_client.cut_batch = original  # type: ignore[assignment]


def post_loop(url: str, envelopes: list[bytes]) -> float:
    """Seconds to POST every envelope on one kept-alive connection."""
    headers = {"Content-Type": "application/octet-stream", "User-Agent": sync_client.USER_AGENT}
    with requests.Session() as http:
        http.get(url + "/healthz", timeout=30)  # connect first: the sync's connection is warm too
        t0 = time.perf_counter()
        for data in envelopes:
            answer = http.post(url + "/v1/batches", data=data, headers=headers, timeout=60)
            if answer.status_code not in (200, 201):
                raise RuntimeError(f"baseline server answered {answer.status_code}")
        return time.perf_counter() - t0


def get_loop(url: str, n: int) -> float:
    """Seconds for ``n`` GET /healthz on one kept-alive connection."""
    with requests.Session() as http:
        http.get(url, timeout=30)
        t0 = time.perf_counter()
        for _ in range(n):
            http.get(url, timeout=30).raise_for_status()
        return time.perf_counter() - t0


def applicants_held(url: str, device_id: str) -> int:
    """Applicant record versions HQ's store holds from ``device_id``."""
    from sync.hq import store

    engine = store.create_engine(url)
    try:
        with engine.connect() as conn:
            t = store.records
            query = sa.select(sa.func.count()).where(
                t.c.device_id == device_id, t.c.kind == "applicant"
            )
            return int(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


def ingest_only(
    hq_home: Path, url: str, session_meta: dict[str, str], envelopes: list[bytes]
) -> float:
    """Seconds for HQ's ``ingest.ingest`` of the envelopes into a fresh store, in this process."""
    from datetime import timedelta

    from sync.hq import ingest, keys, store

    hq_keys = keys.unlock(hq_home, h.HQ_PASSPHRASE)
    engine = store.open_store(url)
    try:
        code, _ = store.create_enroll_code(engine, timedelta(hours=1))
        store.enroll_device(
            engine,
            code,
            session_meta["device_id"],
            session_meta["vault_id"],
            bytes.fromhex(session_meta["device_public_key"]),
        )
        t0 = time.perf_counter()
        for data in envelopes:
            result = ingest.ingest(engine, hq_keys, data, client="bench", source="http")
            if result.status != 201:
                raise RuntimeError(f"ingest answered {result.status}")
        return time.perf_counter() - t0
    finally:
        engine.dispose()


def one_store(
    tmp: Path, kind: str, master: Path, args: argparse.Namespace, profiler: c.Profiler
) -> dict[str, object]:
    """Sync the copied device to a fresh HQ on ``kind``; the figures."""
    device_home = tmp / f"device-{kind}"
    shutil.copytree(master, device_home)
    db = h.postgres_database() if kind == "postgres" else contextlib.nullcontext(None)
    ingest_db = h.postgres_database() if kind == "postgres" else contextlib.nullcontext(None)
    workers = args.workers
    with (
        db as db_url,
        h.running_hq(tmp / f"hq-{kind}", db_url, workers=workers) as hq,
        h.running_trivial(tmp, workers=workers) as trivial,
    ):
        warm = h.new_vault(tmp / f"warmup-{kind}")
        h.enroll(warm, hq)
        h.capture(warm, args.warmup, args.seed + 1, 10)
        if SyncClient(hq.url, warm).sync(once=True).exit_code != 0:
            raise RuntimeError("warm-up sync failed")
        warm.vault.close()

        session = h.reopen(device_home)
        h.enroll(session, hq)
        device_id = session.vault.device_id
        http = TimedSession()
        client = SyncClient(hq.url, session, http=http)
        base: list[float] = []
        with timed_cuts() as cuts, profiler:
            t0 = time.perf_counter()
            report = client.sync(once=True)
            took = time.perf_counter() - t0
        if report.exit_code != 0:
            raise RuntimeError(f"sync to {kind} failed: {report.as_json('en')}")
        held = applicants_held(hq.store_url(), device_id)
        if held != args.applicants:
            raise RuntimeError(f"HQ on {kind} holds {held} applicants, not {args.applicants}")
        envelopes = h.stored_envelopes(session)
        meta = dict(session.vault.meta)
        session.vault.close()
        for _ in range(args.baseline_reps):
            base.append(post_loop(trivial.url, envelopes))
        health = get_loop(hq.url + "/healthz", len(envelopes) + 1)
        hq_home = hq.home
    with ingest_db as ingest_url:
        url = ingest_url or f"sqlite+pysqlite:///{tmp / f'ingest-{kind}.db'}"
        if ingest_url:
            url = "postgresql+psycopg://" + ingest_url.split("://", 1)[1]
        ingest_seconds = ingest_only(hq_home, url, meta, envelopes)
    posts = http.spent.get("POST", [])
    gets = http.spent.get("GET", [])
    baseline = statistics.median(base)
    return {
        "store": kind,
        "workers": workers,
        "seconds": took,
        "records_per_s": args.applicants / took,
        "batches": len(envelopes),
        "bytes": sum(len(e) for e in envelopes),
        "cut_seconds": sum(cuts),
        "post_seconds": sum(posts),
        "checkpoint_seconds": sum(gets),
        "rest_seconds": took - sum(cuts) - sum(posts) - sum(gets),
        "ingest_only_seconds": ingest_seconds,
        "ingest_only_records_per_s": args.applicants / ingest_seconds,
        "baseline_seconds": baseline,
        "baseline_all": base,
        "healthz_seconds": health,
        "ratio": took / baseline,
        "items": report.items,
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = c.parser(__doc__)
    p.add_argument("--applicants", type=int, default=10_000, help="applicants synced")
    p.add_argument("--per-save", type=int, default=100, help="applicants per add_applicants call")
    p.add_argument("--stores", nargs="+", choices=STORES, default=list(STORES))
    p.add_argument("--workers", type=int, default=1, help="fieldkit-hq serve --workers")
    p.add_argument("--warmup", type=int, default=200, help="applicants of the warm-up device")
    p.add_argument("--baseline-reps", type=int, default=5, help="baseline POST loops (median)")
    args = p.parse_args(argv)

    profiler = c.Profiler(args.profile)
    results = []
    with c.temp_dir(args.tmpdir) as tmp:
        t0 = time.perf_counter()
        session = h.new_vault(tmp / "master")
        h.capture(session, args.applicants, args.seed, args.per_save)
        session.vault.close()
        fill = time.perf_counter() - t0
        for kind in args.stores:
            results.append(one_store(tmp, kind, tmp / "master", args, profiler))

    print(
        f"sync end to end: {args.applicants:,} applicants ({args.per_save} per save; capturing "
        f"them took {fill:.1f} s, not measured), HQ serve --workers {args.workers}, loopback"
    )
    for r in results:
        print(
            f"{r['store']:<9} sync {r['seconds']:6.2f} s = {r['records_per_s']:7,.0f} applicants/s "
            f"({r['batches']} batches, {r['items']:,} items, {r['bytes']:,} B): cut "
            f"{r['cut_seconds']:.2f} s, POST+HQ {r['post_seconds']:.2f} s, checkpoint "
            f"{r['checkpoint_seconds']:.3f} s, receipts and rest {r['rest_seconds']:.2f} s"
        )
        print(
            f"{'':<9} ingest only (in process, no HTTP) {r['ingest_only_seconds']:.2f} s = "
            f"{r['ingest_only_records_per_s']:,.0f} applicants/s; baseline POST loop "
            f"{r['baseline_seconds'] * 1000:.1f} ms (runs "
            f"{', '.join(f'{b * 1000:.1f}' for b in r['baseline_all'])}); /healthz loop "
            f"{r['healthz_seconds'] * 1000:.1f} ms; ratio sync / baseline {r['ratio']:.0f}x"
        )
    print(
        "RESULT "
        + "; ".join(
            f"{r['store']}: {r['seconds']:.2f} s, {r['records_per_s']:,.0f} applicants/s, "
            f"{r['ratio']:.0f}x the raw POST loop (ingest only {r['ingest_only_seconds']:.2f} s)"
            for r in results
        )
    )
    machine = c.machine()
    machine["worktree"] = h.worktree()
    if "postgres" in args.stores:
        machine["postgresql"] = h.postgres_version()
    result: dict[str, object] = {
        "benchmark": "sync_e2e",
        "applicants": args.applicants,
        "per_save": args.per_save,
        "capture_seconds": fill,
        "workers": args.workers,
        "stores": results,
        "target": "none stated (report)",
        "target_met": True,
        "headline": "; ".join(
            f"{r['store']} {r['seconds']:.2f} s ({r['records_per_s']:,.0f}/s, "
            f"{r['ratio']:.0f}x raw POSTs)"
            for r in results
        ),
        "machine": machine,
        "command": c.command("bench.sync_e2e", argv),
    }
    c.finish(result, args.json)
    profiler.report()
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)
