"""How long the field app's screen freezes while a sync of 5,000 records runs in the background.

Set-up, not timed: a real HQ on 127.0.0.1 (``fieldkit-hq init`` + ``serve --workers 1``, as
the sync benchmarks run it: ``bench.sync_harness.running_hq``); a vault (cheap test KDF) with
``--records`` distinct synthetic people imported into a visit's roster, so that as many roster
records (and the visit, and their audit entries) wait in the outbox; the vault enrolled with
that HQ (``SyncClient.enroll`` with a one-time code). The real app (``make_app``) runs under
``run_test(size=(80, 24))``; the officer unlocks and stays on the visits screen (``--screen
checkin``: opens the visit's check-in screen and waits for its name index), while the
app's sync worker (``FieldApp.sync_loop``) sees HQ online and the outbox waiting and calls
``service.sync.sync``. A wrapper on that function (set from the benchmark) holds the call at a
gate until the baseline has been measured, then stamps the sync's start and end. The app runs
in a child process of the benchmark (the same module with hidden ``--child-*`` options) that
imports only what the app and the stamps need: HQ's runner, the store's SQLAlchemy and the
set-up stay in the parent, so the app's heap (and its garbage collections) is the app's.

Two stamps are collected on the UI thread all along:

- **frames**: every frame the compositor hands to ``App._display``;
- **ticks**: a ``set_interval(--tick)`` timer on the app that stamps itself and asks the sync
  bar to repaint (as a spinner would), so frames keep coming whenever the UI thread is free.

The figures are the largest gap between consecutive frames, and between ticks, inside the
sync's window (the window's edges count as stamps), with p99/p50. Baseline, same run, same
screen, same timer: the same gaps over ``--baseline`` seconds with the sync held at the gate
(worker waiting, connectivity monitor running), and, for context, ``--after`` seconds once the
sync is over. The sync's duration and records per second are reported, HQ's store is checked
to hold every record, and every garbage collection in each window is counted (``gc.callbacks``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from bench import _common as c
from bench import tui_harness as th
from fieldkit.service import sync as service_sync

TARGET_MAX_GAP_MS = 100.0
clock = th.clock


class GatedSync:
    """``service.sync.sync`` held until :meth:`release`, its runs stamped."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.gate = threading.Event()
        self.runs: list[tuple[float, float, Any]] = []
        self.original = service_sync.sync

    def __enter__(self) -> GatedSync:
        def gated(session: Any, **kwargs: Any) -> Any:
            self.reached.set()
            self.gate.wait()
            t0 = clock()
            report = self.original(session, **kwargs)
            self.runs.append((t0, clock(), report))
            return report

        service_sync.sync = gated  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        service_sync.sync = self.original  # type: ignore[assignment]
        self.gate.set()

    def release(self) -> None:
        """Let the held sync run."""
        self.gate.set()


async def open_checkin(pilot: Any) -> None:
    """Enter on the visit: the check-in screen, its name index built by its worker."""
    from fieldkit.service import checkin
    from fieldkit.tui.screens.checkin import CheckinScreen
    from tests.support.field_app import settle

    built = threading.Event()
    original = checkin.prepare_index

    def prepare(session: Any, visit_id: str) -> int:
        try:
            return original(session, visit_id)
        finally:
            built.set()

    checkin.prepare_index = prepare  # type: ignore[assignment]
    try:
        await pilot.press("enter")
        await th.wait_until(lambda: isinstance(pilot.app.screen, CheckinScreen), 30, "check-in")
        await th.wait_until(built.is_set, 120, "the name index", 0.01)
        await settle(pilot)
    finally:
        checkin.prepare_index = original  # type: ignore[assignment]


async def drive(app: Any, gated: GatedSync, args: Any) -> dict[str, Any]:
    """Unlock; baseline with the sync held; release it; measure until it ends, then after."""
    from fieldkit.tui.syncbar import SyncBar

    windows: dict[str, tuple[float, float]] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        paints = th.Paints(app)
        await th.unlock_app(pilot)
        await th.wait_until(gated.reached.is_set, 60, "the sync worker to start a sync", 0.01)
        if args.screen == "checkin":
            await open_checkin(pilot)
        bar = app.screen.query_one(SyncBar)
        tracked = len(gc.get_objects())
        ticker = th.Ticker(app, args.tick, lambda: bar)
        await asyncio.sleep(0.5)
        t0 = clock()
        await asyncio.sleep(args.baseline)
        windows["baseline"] = (t0, clock())
        gated.release()
        await th.wait_until(lambda: bool(gated.runs), 600, "the sync to end", 0.05)
        windows["sync"] = gated.runs[0][:2]
        t0 = clock()
        await asyncio.sleep(args.after)
        windows["after"] = (t0, clock())
        ticker.stop()
        view = app.sync_view
    return {
        "windows": windows,
        "paints": paints.times,
        "ticks": ticker.times,
        "view": view,
        "tracked": tracked,
    }


def child(args: argparse.Namespace) -> None:
    """The app's process: unlock, measure, write the stamps to ``--child-out`` as JSON."""
    from fieldkit.settings import Settings
    from fieldkit.tui.app import make_app

    settings = Settings(home=args.child_home, insecure_test_kdf=True, lang="en")
    app = make_app(settings, idle_seconds=3600)
    profiler = c.Profiler(args.profile)
    with GatedSync() as gated, th.GcPauses() as collections, profiler:
        out = asyncio.run(drive(app, gated, args))
    start, end, report = gated.runs[0]
    view = out.pop("view")
    out |= {
        "sync": [start, end],
        "report": {
            "complete": report.complete,
            "acked": report.acked,
            "items": report.items,
            "bytes_sent": report.bytes_sent,
            "json": report.as_json("en"),
        },
        "view_running": view.running,
        "collections": collections.pauses,
        "tracked": out["tracked"],
    }
    args.child_out.write_text(json.dumps(out, default=str))
    profiler.report()


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = c.parser(__doc__)
    p.add_argument("--records", type=int, default=5000, help="roster records waiting for HQ")
    p.add_argument("--tick", type=float, default=0.01, help="the UI timer's interval (s)")
    p.add_argument("--baseline", type=float, default=5.0, help="seconds measured with no sync")
    p.add_argument("--after", type=float, default=3.0, help="seconds measured after the sync")
    p.add_argument(
        "--screen",
        choices=("visits", "checkin"),
        default="visits",
        help="the screen on during the sync (checkin: the visit open, its name index built)",
    )
    p.add_argument("--child-home", type=Path, default=None, help=argparse.SUPPRESS)
    p.add_argument("--child-out", type=Path, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child_home is not None:
        child(args)
        return {}

    from bench import sync_harness as h
    from fieldkit.service import status
    from fieldkit.service.session import OfficerSession
    from fieldkit.vault.session import UnlockedVault
    from sync.hq import store

    facts: dict[str, Any] = {}
    with c.temp_dir(args.tmpdir) as tmp, h.running_hq(tmp / "hq") as hq:

        def enroll(session: UnlockedVault) -> None:
            h.enroll(session, hq)
            facts["device_id"] = session.vault.device_id
            facts["waiting"] = status.sync_overview(OfficerSession(session)).waiting

        fv = th.roster_vault(
            tmp / "home",
            args.records,
            args.seed,
            open_visit=args.screen == "checkin",
            before_lock=enroll,
        )
        out_path = tmp / "stamps.json"
        command = [sys.executable, "-m", "bench.tui_sync_gaps", *(argv or sys.argv[1:])]
        command += ["--child-home", str(fv.home), "--child-out", str(out_path)]
        subprocess.run(command, check=True, cwd=c.REPO)
        out = json.loads(out_path.read_text())
        held = hq.hq.count(store.records, store.records.c.device_id == facts["device_id"])

    start, end = out["sync"]
    report = out["report"]
    took = end - start
    windows = {k: tuple(w) for k, w in out["windows"].items()}
    windows["sync"] = (start, end)
    pauses = [tuple(x) for x in out["collections"]]
    frames = {k: th.gap_summary(out["paints"], *w) for k, w in windows.items()}
    ticks = {k: th.gap_summary(out["ticks"], *w) for k, w in windows.items()}
    gcs = {k: th.gc_summary(pauses, *w) for k, w in windows.items()}
    records = facts["waiting"]
    if not report["complete"] or held < records:
        raise RuntimeError(f"sync incomplete: {report['json']}; HQ holds {held}")
    fig = frames["sync"]
    met = fig["max"] <= TARGET_MAX_GAP_MS
    print(
        f"UI gaps while the app syncs {records:,} waiting records ({args.records:,} roster "
        f"entries) to a real HQ on 127.0.0.1: sync took {took:.2f} s, "
        f"{records / took:,.0f} records/s, {report['acked']} batches, {report['items']:,} "
        f"items, {report['bytes_sent'] / 1e6:.1f} MB; HQ holds {held:,} records of the device; "
        f"on the {args.screen} screen; the app's process tracks {out['tracked']:,} objects"
    )
    labels = {
        "sync": "during the sync",
        "baseline": "baseline: sync held, same screen",
        "after": "context: after the sync",
    }
    for key, label in labels.items():
        print(c.fmt_summary(f"frame gaps, {label}", frames[key]))
        print(c.fmt_summary(f"  tick gaps ({args.tick * 1e3:.0f} ms timer)", ticks[key]))
        g = gcs[key]
        print(
            f"  {'':<32} frames {frames[key]['stamps']:.0f} in {frames[key]['window_ms'] / 1e3:.1f}"
            f" s; garbage collections {g['count']:.0f} (gen 2: {g['gen2_count']:.0f}, longest "
            f"{g['gen2_max_ms']:.1f} ms)"
        )
    ratio_max = fig["max"] / frames["baseline"]["max"]
    ratio_p99 = fig["p99"] / frames["baseline"]["p99"]
    headline = (
        f"largest frame gap during a {records:,}-record sync {fig['max']:.1f} ms (p99 "
        f"{fig['p99']:.1f}, ticks max {ticks['sync']['max']:.1f}); no sync "
        f"{frames['baseline']['max']:.1f} ms (p99 {frames['baseline']['p99']:.1f}), ratio "
        f"{ratio_max:.1f}x max, {ratio_p99:.1f}x p99; sync {took:.1f} s, {records / took:,.0f} "
        f"records/s; target largest gap <= {TARGET_MAX_GAP_MS:.0f} ms: {'met' if met else 'MISSED'}"
    )
    print(f"RESULT {headline}")
    result: dict[str, object] = {
        "benchmark": "tui_sync_gaps",
        "headline": headline,
        "figure": fig,
        "frame_gaps": frames,
        "tick_gaps": ticks,
        "garbage_collections": gcs,
        "ratio_max": ratio_max,
        "ratio_p99": ratio_p99,
        "sync_seconds": took,
        "records": records,
        "screen": args.screen,
        "records_per_s": records / took,
        "batches": report["acked"],
        "items": report["items"],
        "bytes_sent": report["bytes_sent"],
        "hq_records": held,
        "gc_tracked_objects": out["tracked"],
        "target": f"largest gap between frames during the sync <= {TARGET_MAX_GAP_MS} ms",
        "target_met": met,
        "kdf": "cheap test parameters (KDF not measured)",
        "machine": c.machine(),
        "command": c.command("bench.tui_sync_gaps", argv),
    }
    c.finish(result, args.json)
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)
