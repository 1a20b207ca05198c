"""HQ ingest with 50 devices sending at once: PostgreSQL and SQLite, 2 and 4 workers, same run.

Before anything is timed, one HQ home is made with ``fieldkit-hq init`` and ``--devices``
devices are built, each with its own Ed25519 key, device id and vault id, holding one office
visit and ``--applicants`` applicants (synthetic people normalised by ``check_applicant``;
with ``--shapes counter``, the default, each as a counter day leaves it: format 2, checked in,
every original seen, paid, photographed and accepted, in an open format-2 visit; with
``--shapes capture`` the format-1 shapes ``fieldkit applicant add`` stores) and the audit
entries a vault writes for them (vault created, unlock, device enrolled, visit created, one
``applicant_decided`` or ``applicant_created`` per applicant). Each device's items are cut into
batches the way ``sync.batches.cut_batch`` cuts them (at most 500 items; while records wait, a
quarter of each batch is kept for audit entries, so 1,000 applicants, their visit and 1,004
audit entries make 5 batches of records+audit: 375+125, 375+125, 251+249, 0+500, 0+5) and sealed
with ``sync.wire.envelope.seal_batch`` to HQ's key with the device's key, with the audit chain
computed from the device's vault id.

Then, for each ``--workers`` value: the baseline server (a trivial ASGI app under uvicorn
configured as ``fieldkit-hq serve`` runs it, the same HTTP protocol class with TCP_NODELAY and
that many workers: it reads the body and answers ``201 {}``) and, for each store,
a fresh store (a new SQLite file, or a new PostgreSQL database) behind ``fieldkit-hq serve
--workers N`` on the same keys. The devices enroll through ``POST /v1/enroll`` (codes from the
store function ``fieldkit-hq device enroll-code`` uses), a few small warm-up batches from other
devices reach every worker, and then ``--devices`` threads, one per device, each with its own
kept-alive ``requests`` connection, POST their device's batches in seq order, all released at
once. A ``503 busy`` is sent again after its ``Retry-After``, as a device does (the retries and
their problem types are printed; the wait counts in the figure). The figure is applicant
records per second from the release to the last receipt (each batch's audit entries are
ingested too but not counted). Every batch must end 201 and the store must hold every record
afterwards.

CPU during each timed window is read from /proc: HQ's processes, the load generator (this
process), and the whole machine (the rest is mostly PostgreSQL). ``--profile N`` profiles HQ's
``ingest.ingest`` in this process on ``--profile-devices`` devices' batches (no HTTP, one
thread) for each store and prints the top N functions.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import pstats
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench import _common as c
from bench import sync_harness as h
from fieldkit.domain.applicant import check_applicant
from fieldkit.domain.applications import applicant_category, required_documents
from fieldkit.domain.counter import VISIT_FORMAT, counter_applicant
from fieldkit.domain.dates import parse_iso_date
from fieldkit.domain.ids import new_ids
from fieldkit.domain.synth import synthetic_applicants
from sync.device.batches import MAX_ITEMS, _shares
from sync.device.client import USER_AGENT
from sync.wire import envelope
from tests.support.device import enroll_body, workflow_fields

TARGET_RECORDS_PER_S = 5000
STORES = ("postgres", "sqlite")
OFFICER = "sup1"


@dataclass
class Device:
    """A field device as HQ sees it, with its sealed batches in seq order."""

    device_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    vault_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    batches: list[bytes] = field(default_factory=list)
    records: int = 0
    applicants: int = 0

    def enroll_body(self, code: str) -> dict[str, str]:
        """The body of ``POST /v1/enroll``."""
        return enroll_body(self.device_id, self.vault_id, self.key, code)


def _at() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


SHAPES = ("counter", "capture")


def counter_shape(person: dict[str, object], number: int, on: date) -> dict[str, object]:
    """An applicant as a counter day leaves it (format 2): checked in, every original seen,
    paid, photographed and accepted, as ``fieldkit applicant decide`` stores it."""
    at = _at()
    data = counter_applicant(
        person,
        roster_entry_id=str(uuid.uuid4()),
        walk_in=None,
        queue={"series": "A", "number": number},
        watchlist={"possible_match": False, "reference_version": 1, "resolution": None},
        checked_in_at=at,
        checked_in_by=OFFICER,
    )
    born = parse_iso_date(person["birth_date"])
    assert born is not None
    checklist = required_documents(
        str(person["application_type"]),
        applicant_category(born, bool(person["married"]), on),
        old_passport_issued=parse_iso_date(person.get("old_passport_issued")),
    )
    fee = person["fee"]
    data.update(
        documents={
            line.alternatives[0].value: "seen" if line.condition is None else "not_applicable"
            for line in checklist
        },
        payment={
            "billing_code": f"8{number:014d}",
            "amount": fee["total"],  # type: ignore[index]
            "paid": True,
            "ntpn": f"{number:016X}",
            "paid_at": at,
        },
        biometrics_ref=f"BIO-{number:08d}",
        decision={
            "kind": "accepted",
            "at": at,
            "by": OFFICER,
            "reason": None,
            "text": None,
            "documents": [],
            "due": None,
        },
    )
    return data


def build_device(
    people: list[dict[str, object]],
    hq_public: bytes,
    hq_kid: str,
    on: date,
    shapes: str = "counter",
) -> Device:
    """A device holding one visit and ``people``, its batches cut and sealed as a vault would.

    ``shapes``: ``counter`` sends the visit open (format 2) and every applicant decided at the
    counter (format 2, :func:`counter_shape`); ``capture`` the format-1 shapes of
    ``fieldkit applicant add`` (the figures before the counter workflow).
    """
    counter = shapes == "counter"
    device = Device()
    visit_id, *ids = new_ids(len(people) + 1)
    records: list[dict[str, object]] = [
        {
            "t": "r",
            "kind": "visit",
            "id": visit_id,
            "version": 1,
            "visit_id": visit_id,
            "state": "open" if counter else "planned",
            "officer_id": OFFICER,
            "at": _at(),
            "outbox_seq": 1,
            "data": {
                "kind": "office",
                "date": on.isoformat(),
                "session": "pagi",
                "site": "Kantor Imigrasi Bogor",
                "coordinator_name": None,
                "coordinator_phone": None,
                **(
                    {
                        "format": VISIT_FORMAT,
                        "opened_at": _at(),
                        "opened_by": OFFICER,
                        "walk_in_quota": None,
                    }
                    if counter
                    else {}
                ),
            },
        }
    ]
    audit: list[tuple[str, str | None, str]] = [
        ("vault_created", device.device_id, '{"format":1}'),
        ("unlock", None, "{}"),
        ("device_enrolled", f"device:{device.device_id}", '{"hq_kid":"' + hq_kid + '"}'),
        ("visit_created", f"visit:{visit_id}", '{"version":1}'),
    ]
    for number, (raw, applicant_id) in enumerate(zip(people, ids, strict=True), start=2):
        checked = check_applicant(raw, on=on, visit_kind="office")
        if checked.errors:
            raise RuntimeError(f"synthetic applicant refused: {checked.errors}")
        if counter:
            data = counter_shape(checked.value, number - 1, on)  # type: ignore[arg-type]
        else:
            data = {**checked.value, **workflow_fields()}  # type: ignore[dict-item]
        records.append(
            {
                "t": "r",
                "kind": "applicant",
                "id": applicant_id,
                "version": 1,
                "visit_id": visit_id,
                "state": "accepted" if counter else "captured",
                "officer_id": OFFICER,
                "at": _at(),
                "outbox_seq": number,
                "data": data,
            }
        )
        action = "applicant_decided" if counter else "applicant_created"
        audit.append((action, f"applicant:{applicant_id}", '{"version":1}'))
    audit_items = [
        {
            "t": "a",
            "seq": seq,
            "at": _at(),
            "officer_id": OFFICER,
            "action": action,
            "subject": subject,
            "detail": detail,
        }
        for seq, (action, subject, detail) in enumerate(audit, start=1)
    ]
    chain = envelope.audit_genesis(device.vault_id)
    heads = []
    for item in audit_items:
        chain = envelope.audit_hash(chain, item)
        heads.append(chain.hex())
    r = a = 0
    seq = 0
    while r < len(records) or a < len(audit_items):
        n_r, n_a = _shares(len(records) - r, len(audit_items) - a, MAX_ITEMS)
        rec, aud = records[r : r + n_r], audit_items[a : a + n_a]
        seq += 1
        header = envelope.BatchHeader(
            device_id=device.device_id,
            batch_id=str(uuid.uuid4()),
            seq=seq,
            created_at=_at(),
            hq_kid=hq_kid,
            count=len(rec) + len(aud),
            outbox=(rec[0]["outbox_seq"], rec[-1]["outbox_seq"]) if rec else None,  # type: ignore[arg-type]
            audit=(aud[0]["seq"], aud[-1]["seq"]) if aud else None,  # type: ignore[arg-type]
            audit_head=heads[a + n_a - 1] if aud else None,
        )
        device.batches.append(
            envelope.seal_batch(header, rec + aud, hq_public=hq_public, device_key=device.key)
        )
        r, a = r + n_r, a + n_a
    device.records = len(records)
    device.applicants = len(people)
    return device


def build_devices(
    count: int, applicants: int, seed: int, hq_public: bytes, hq_kid: str, shapes: str = "counter"
) -> list[Device]:
    """``count`` devices with distinct synthetic people."""
    on = date.today()
    people = [a.as_json() for a in synthetic_applicants(count * applicants, seed)]
    return [
        build_device(people[i * applicants : (i + 1) * applicants], hq_public, hq_kid, on, shapes)
        for i in range(count)
    ]


@dataclass
class Load:
    """What one concurrent run did."""

    wall: float
    statuses: dict[int, int]
    latencies: list[float]
    cpu: dict[str, float]
    busy: list[str]  # the problem type of every 503 answer, each retried after Retry-After


def _problem_type(answer: requests.Response) -> str:
    """A 503's problem type and what HQ was busy with (its detail up to the ';')."""
    try:
        problem = answer.json()
    except ValueError:
        return "?"
    kind = str(problem.get("type", "?")).rsplit("/", 1)[-1]
    return f"{kind}: {str(problem.get('detail', '')).split(';')[0]}"


def run_load(base_url: str, per_device: list[list[bytes]], pids: list[int]) -> Load:
    """One thread per device POSTs its batches in order; all start together."""
    start = threading.Barrier(len(per_device) + 1)
    lock = threading.Lock()
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    busy: list[str] = []
    errors: list[BaseException] = []
    headers = {"Content-Type": "application/octet-stream", "User-Agent": USER_AGENT}

    def device_loop(envelopes: list[bytes]) -> None:
        try:
            with requests.Session() as http:
                http.get(base_url + "/healthz", timeout=60)  # connect before the start
                start.wait()
                for data in envelopes:
                    while True:
                        t0 = time.perf_counter()
                        answer = http.post(
                            base_url + "/v1/batches", data=data, headers=headers, timeout=300
                        )
                        took = time.perf_counter() - t0
                        with lock:
                            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
                            latencies.append(took)
                            if answer.status_code == 503:
                                busy.append(_problem_type(answer))
                        if answer.status_code != 503:
                            break
                        # As a device does: HQ is busy, so wait what it asks and send again.
                        time.sleep(float(answer.headers.get("Retry-After", "5")))
        except BaseException as exc:  # report after the run; never hang the barrier
            errors.append(exc)
            start.abort()

    threads = [threading.Thread(target=device_loop, args=(e,)) for e in per_device]
    for t in threads:
        t.start()
    # The window opens before the release: once released, the devices' threads may hold the
    # GIL long enough that a window opened after it misses most of a fast server's run.
    with h.CpuWindow(pids) as cpu:
        start.wait()
        for t in threads:
            t.join()
    if errors:
        raise RuntimeError(f"load generator failed: {errors[0]!r}")
    return Load(cpu.used["wall"], statuses, latencies, cpu.used, busy)


def enroll_all(hq: h.Hq, devices: list[Device]) -> None:
    """Enroll every device through ``POST /v1/enroll`` with fresh one-time codes."""
    from sync.hq import store

    engine = store.create_engine(hq.store_url())
    try:
        codes = [store.create_enroll_code(engine, timedelta(hours=1))[0] for _ in devices]
    finally:
        engine.dispose()
    with requests.Session() as http:
        for device, code in zip(devices, codes, strict=True):
            answer = http.post(hq.url + "/v1/enroll", json=device.enroll_body(code), timeout=60)
            if answer.status_code != 201:
                raise RuntimeError(f"enroll answered {answer.status_code}: {answer.text}")


def warm_up(hq: h.Hq, warmers: list[Device]) -> None:
    """One small batch from each warm-up device, concurrently, so every worker has ingested."""
    enroll_all(hq, warmers)
    run_load(hq.url, [d.batches[:1] for d in warmers], [])


def records_held(url: str) -> int:
    """Record versions in HQ's store."""
    from sync.hq import store

    engine = store.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(store.records)).scalar())
    finally:
        engine.dispose()


def summarise(load: Load, applicants: int, label: str) -> dict[str, object]:
    """Records/s, latencies and CPU of one run."""
    lat = c.summary_ms(load.latencies)
    rate = applicants / load.wall
    cpu = load.cpu
    print(
        f"{label:<30} {load.wall:7.2f} s  {rate:8,.0f} applicants/s  POST latency p50 "
        f"{lat['p50']:8.1f} ms p95 {lat['p95']:8.1f} ms  statuses {load.statuses}  CPU s: "
        f"servers {cpu['servers']:.1f}, load generator {cpu['self']:.1f}, machine "
        f"{cpu['machine_busy']:.1f} of {cpu['machine_total']:.1f} "
        f"(other, mostly PostgreSQL: {cpu['machine_busy'] - cpu['servers'] - cpu['self']:.1f})"
        + (f"  503 busy, retried: {dict(Counter(load.busy))}" if load.busy else "")
    )
    return {
        "label": label,
        "seconds": load.wall,
        "applicants_per_s": rate,
        "latency_ms": lat,
        "statuses": load.statuses,
        "busy_retried": dict(Counter(load.busy)),
        "cpu": cpu,
    }


def ingest_in_process(
    home: Path, url: str, devices: list[Device], profile: int
) -> tuple[float, str | None]:
    """HQ's ``ingest.ingest`` of the devices' batches in this process, one at a time."""
    from sync.hq import ingest, keys, store

    hq_keys = keys.unlock(home, h.HQ_PASSPHRASE)
    engine = store.open_store(url)
    try:
        for device in devices:
            code, _ = store.create_enroll_code(engine, timedelta(hours=1))
            public = device.key.public_key().public_bytes_raw()
            store.enroll_device(engine, code, device.device_id, device.vault_id, public)
        # warm-up: the first batch of the first device (imports, statement caches)
        ingest.ingest(engine, hq_keys, devices[0].batches[0], client="bench")
        todo = [b for d in devices for b in d.batches][1:]
        profiler = cProfile.Profile() if profile else None
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        for data in todo:
            ingest.ingest(engine, hq_keys, data, client="bench")
        if profiler:
            profiler.disable()
        took = time.perf_counter() - t0
    finally:
        engine.dispose()
    text = None
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        stats.sort_stats("tottime").print_stats(profile)
        stats.sort_stats("cumulative").print_stats(profile)
        text = out.getvalue()
    return took, text


def sqlalchemy_url(url: str) -> str:
    """``postgresql://`` → the psycopg 3 driver URL."""
    from sync.hq import store

    return store.database_url(Path("."), url)


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = c.parser(__doc__)
    p.add_argument("--devices", type=int, default=50, help="devices sending at once")
    p.add_argument("--applicants", type=int, default=1000, help="applicants per device")
    p.add_argument("--workers", type=int, nargs="+", default=[2, 4], help="HQ worker processes")
    p.add_argument("--stores", nargs="+", choices=STORES, default=list(STORES))
    p.add_argument("--warmers", type=int, default=8, help="warm-up devices (one batch each)")
    p.add_argument(
        "--context-devices",
        type=int,
        default=4,
        help="devices ingested in this process, one batch at a time, as context (0: skip)",
    )
    p.add_argument("--profile-devices", type=int, default=4, help="devices to profile")
    p.add_argument(
        "--shapes",
        choices=SHAPES,
        default="counter",
        help="counter: applicants decided at the counter (format 2); capture: format 1",
    )
    args = p.parse_args(argv)

    from sync.hq import keys

    results: list[dict[str, object]] = []
    context: dict[str, dict[str, float]] = {}
    profiles: dict[str, str] = {}
    with c.temp_dir(args.tmpdir) as tmp:
        home = tmp / "hq"
        h.init_hq(home, None)
        hq_keys = keys.unlock(home, h.HQ_PASSPHRASE)
        current = hq_keys.current
        t0 = time.perf_counter()
        devices = build_devices(
            args.devices, args.applicants, args.seed, current.public, current.kid, args.shapes
        )
        warmers = build_devices(args.warmers, 50, args.seed + 1, current.public, current.kid)
        prebuild = time.perf_counter() - t0
        per_device = [d.batches for d in devices]
        n_batches = sum(len(b) for b in per_device)
        applicants = sum(d.applicants for d in devices)
        env_bytes = sum(len(b) for bs in per_device for b in bs)
        print(
            f"HQ ingest, {args.devices} concurrent devices x {args.applicants} applicants = "
            f"{applicants:,} applicants ({n_batches} batches of <= {MAX_ITEMS} items, "
            f"{env_bytes / 1e6:.1f} MB) + the same number of audit entries; prebuilt in "
            f"{prebuild:.1f} s (not timed)"
        )
        for workers in args.workers:
            with h.running_trivial(tmp, workers=workers) as trivial:
                load = run_load(trivial.url, per_device, trivial.worker_pids())
                results.append(
                    summarise(load, applicants, f"baseline trivial, {workers} workers")
                    | {"store": "trivial", "workers": workers}
                )
            for kind in args.stores:
                db = h.postgres_database() if kind == "postgres" else contextlib.nullcontext(None)
                with db as pg_url:
                    db_url = pg_url or f"sqlite:///{tmp / f'hq-{kind}-{workers}.db'}"
                    with h.running_hq(home, db_url, workers=workers, init=False) as hq:
                        enroll_all(hq, devices)
                        warm_up(hq, warmers)
                        load = run_load(hq.url, per_device, hq.worker_pids())
                        held = records_held(hq.store_url())
                    expected = sum(d.records for d in devices) + sum(
                        _first_batch_records(d) for d in warmers
                    )
                    if held != expected or set(load.statuses) - {503} != {201}:
                        raise RuntimeError(
                            f"{kind}: store holds {held} records, expected {expected}; "
                            f"statuses {load.statuses}"
                        )
                    results.append(
                        summarise(load, applicants, f"HQ {kind}, {workers} workers")
                        | {"store": kind, "workers": workers}
                    )
        for kind in args.stores if args.context_devices or args.profile else ():
            n = max(args.context_devices, args.profile_devices if args.profile else 0)
            db = h.postgres_database() if kind == "postgres" else contextlib.nullcontext(None)
            with db as pg_url:
                url = sqlalchemy_url(pg_url or f"sqlite:///{tmp / f'context-{kind}.db'}")
                took, text = ingest_in_process(home, url, devices[:n], args.profile)
            done = sum(d.applicants for d in devices[:n]) - _first_batch_applicants(devices[0])
            context[kind] = {"seconds": took, "applicants_per_s": done / took}
            print(
                f"context: {kind} ingest in one process, no HTTP, one batch at a time: "
                f"{done:,} applicants in {took:.2f} s = {done / took:,.0f} applicants/s"
            )
            if text:
                profiles[kind] = text

    best_pg = max(
        (r for r in results if r["store"] == "postgres"),
        key=lambda r: r["applicants_per_s"],  # type: ignore[arg-type,return-value]
        default=None,
    )
    met = bool(best_pg and best_pg["applicants_per_s"] >= TARGET_RECORDS_PER_S)  # type: ignore[operator]
    ratios = []
    for r in results:
        if r["store"] == "trivial":
            continue
        base = next(b for b in results if b["store"] == "trivial" and b["workers"] == r["workers"])
        r["ratio"] = r["seconds"] / base["seconds"]  # type: ignore[operator]
        ratios.append(
            f"{r['store']} w{r['workers']}: {r['applicants_per_s']:,.0f}/s, "
            f"{r['ratio']:.1f}x the trivial server"
        )
    print("RESULT " + "; ".join(ratios))
    if best_pg:
        print(
            f"RESULT PostgreSQL best {best_pg['applicants_per_s']:,.0f} applicants/s with "
            f"{best_pg['workers']} workers (target >= {TARGET_RECORDS_PER_S:,}: "
            f"{'met' if met else 'MISSED'})"
        )
    for kind, text in profiles.items():
        print(f"\n--- profile of ingest.ingest on {kind} (in process; inflated timings) ---")
        print(text)
    machine = c.machine()
    machine["worktree"] = h.worktree()
    if "postgres" in args.stores:
        machine["postgresql"] = h.postgres_version()
    result: dict[str, object] = {
        "benchmark": "sync_ingest_concurrency",
        "devices": args.devices,
        "applicants_per_device": args.applicants,
        "applicants": applicants,
        "shapes": args.shapes,
        "batches": n_batches,
        "envelope_bytes": env_bytes,
        "prebuild_seconds": prebuild,
        "runs": results,
        "context_in_process": context,
        "target": f"PostgreSQL >= {TARGET_RECORDS_PER_S} records/s with {args.devices} devices",
        "target_met": met,
        "headline": "; ".join(ratios)
        + (f"; target >= {TARGET_RECORDS_PER_S}/s on PostgreSQL: {'met' if met else 'MISSED'}"),
        "machine": machine,
        "command": c.command("bench.sync_ingest_concurrency", argv),
    }
    c.finish(result, args.json)
    return result


def _first_batch_records(device: Device) -> int:
    parsed = envelope.parse_envelope(device.batches[0])
    return parsed.header.outbox[1] - parsed.header.outbox[0] + 1 if parsed.header.outbox else 0


def _first_batch_applicants(device: Device) -> int:
    return _first_batch_records(device) - 1  # its visit


if __name__ == "__main__":
    main()
    sys.exit(0)
