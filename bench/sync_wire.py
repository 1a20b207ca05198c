"""Bytes on the wire per applicant for one device's sync, against one JSON request per record.

A real HQ (``fieldkit-hq init`` + ``serve``, SQLite store, on 127.0.0.1) and a real device: a
vault (cheap test KDF) holding one visit and ``--applicants`` synthetic applicants captured
with ``service.add_applicants``, ``--per-save`` per call (1: each applicant saved on its own, as
an officer works; the vault writes one audit entry per applicant either way, and the batches
carry them), enrolled with a code from ``fieldkit-hq device
enroll-code``. Then ``SyncClient.sync(once=True)`` runs through a TCP relay that counts every
byte both ways and splits the streams into HTTP messages: the figure includes request and
status lines and all HTTP headers, the checkpoint GET and every batch POST with their
responses. It does not include TCP/IP or TLS framing (see ``bench.sync_edge_model``); the one-off
enrollment is not counted.

Baseline, same run: each record version the batches carried (the applicants and the visit),
as its plaintext item JSON (canonical, compact, UTF-8: what HQ stores), POSTed one per
request on one kept-alive ``requests`` connection to a trivial ASGI app under the same uvicorn
(it reads the body and answers ``201 {}``), through a second counting relay. The baseline
sends no audit entries and gets a 2-byte answer: it is the cheapest per-record protocol there
could be, and the ratio is baseline bytes / sync bytes.
"""

from __future__ import annotations

import statistics
import sys

from bench import _common as c
from bench import sync_harness as h

TARGET_BYTES_PER_RECORD = 250


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = c.parser(__doc__)
    p.add_argument("--applicants", type=int, default=2000, help="applicants captured and synced")
    p.add_argument(
        "--per-save",
        type=int,
        default=1,
        help="applicants per add_applicants call (one audit entry per applicant either way)",
    )
    args = p.parse_args(argv)

    profiler = c.Profiler(args.profile)
    with c.temp_dir(args.tmpdir) as tmp, profiler:
        run = h.measure_wire(tmp, args.applicants, args.seed, args.per_save)

    ours = run.totals(run.sync)
    base = run.totals(run.baseline)
    per_record = ours["total"] / run.applicants
    per_record_up = ours["up"] / run.applicants
    base_per_record = base["total"] / run.applicants
    ratio = base["total"] / ours["total"]
    met = per_record <= TARGET_BYTES_PER_RECORD
    env_total = sum(e["total"] for e in run.envelopes)
    jsonl = sum(e["body_jsonl"] for e in run.envelopes)
    zbody = sum(e["body_zlib"] for e in run.envelopes)
    fixed = sum(e["total"] - e["body_zlib"] for e in run.envelopes)

    print(
        f"sync wire: {run.applicants} applicants ({args.per_save} per save), "
        f"{run.records} record versions and {run.audit} audit entries in {len(run.envelopes)} "
        f"batches; sync took {run.sync_seconds:.2f} s on loopback"
    )
    for name, t in (("sync (checkpoint + batches)", ours), ("baseline: 1 JSON POST/record", base)):
        print(
            f"{name:<30} requests={t['requests']:<5} up={t['up']:>10,} B "
            f"(heads {t['request_heads']:,}, bodies {t['request_bodies']:,})  "
            f"down={t['down']:>9,} B (heads {t['response_heads']:,}, bodies "
            f"{t['response_bodies']:,})  total={t['total']:>10,} B"
        )
    print(
        f"envelopes: {env_total:,} B = fixed parts {fixed:,} B (magic, header, signature, "
        f"encapsulated key, tag: {fixed / len(run.envelopes):,.0f} B per batch) + zlib body "
        f"{zbody:,} B; the body inflates to {jsonl:,} B of JSON Lines "
        f"(zlib ratio {jsonl / zbody:.1f}x)"
    )
    print(
        f"record item JSON: mean {statistics.fmean(run.record_json_bytes):.0f} B, "
        f"median {statistics.median(run.record_json_bytes):.0f} B"
    )
    for i, e in enumerate(run.sync):
        print(
            f"  {i:>2} {e.request.start_line[:48]:<48} req {e.request.head:>4}+{e.request.body:>7,}"
            f"  resp {e.response.head:>3}+{e.response.body:>4}  {e.response.start_line}"
        )
    print(
        f"RESULT {per_record:.1f} B per applicant on the wire, both directions (upload only "
        f"{per_record_up:.1f} B) (target <= {TARGET_BYTES_PER_RECORD} B: "
        f"{'met' if met else 'MISSED'}); baseline {base_per_record:.1f} B per applicant; "
        f"ratio baseline / sync {ratio:.2f}x"
    )
    result: dict[str, object] = {
        "benchmark": "sync_wire",
        "applicants": run.applicants,
        "per_save": args.per_save,
        "records": run.records,
        "audit": run.audit,
        "batches": len(run.envelopes),
        "bytes_per_record": per_record,
        "bytes_per_record_up": per_record_up,
        "baseline_bytes_per_record": base_per_record,
        "ratio": ratio,
        "sync": ours,
        "baseline": base,
        "sync_exchanges": [e.as_json() for e in run.sync],
        "envelopes": run.envelopes,
        "record_json_mean": statistics.fmean(run.record_json_bytes),
        "sync_seconds": run.sync_seconds,
        "baseline_seconds": run.baseline_seconds,
        "connections": run.connections,
        "target": f"<= {TARGET_BYTES_PER_RECORD} B per record",
        "target_met": met,
        "headline": (
            f"{per_record:.1f} B/applicant both ways ({per_record_up:.1f} up), baseline "
            f"{base_per_record:.0f} B, ratio {ratio:.2f}x; <= {TARGET_BYTES_PER_RECORD} B: "
            f"{'met' if met else 'MISSED'}"
        ),
        "machine": c.machine() | {"worktree": h.worktree()},
        "command": c.command("bench.sync_wire", argv),
    }
    c.finish(result, args.json)
    profiler.report()
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)
