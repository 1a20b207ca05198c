"""Run every benchmark (each twice by default, as separate processes) and report the last run.

Each benchmark prints its figure and its ratio against a raw baseline measured in the same
run. The machine is shared and noisy, so every benchmark runs ``--runs`` times and the last
run is the one reported (earlier runs warm the page cache and the CPU frequency governor).
Vault files go to a temporary directory, never into the repository.

    .venv/bin/python -m bench.run_all                  # all, twice each
    .venv/bin/python -m bench.run_all --only unlock    # one
    .venv/bin/python -m bench.run_all --quick --runs 1 # a smoke test with small sizes
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import _common as c

BENCHMARKS = (
    "save_applicant",
    "roster_import",
    "unlock",
    "nik_lookup",
    "checkin_lookup",
    "record_decision",
    "sync_wire",
    "sync_e2e",
    "sync_ingest_concurrency",
    "sync_edge_model",
    "tui_cold_start",
    "tui_keypress",
    "tui_sync_gaps",
)
QUICK = {
    "save_applicant": ["--saves", "200", "--warmup", "20"],
    "roster_import": ["--rows", "2000", "--reps", "1"],
    "unlock": ["--reps", "3", "--warmup", "1"],
    "nik_lookup": ["--applicants", "5000", "--lookups", "200", "--views", "50"],
    "checkin_lookup": ["--entries", "2000", "--lookups", "200", "--warmup", "20"],
    "record_decision": ["--decisions", "100", "--warmup", "10"],
    "sync_wire": ["--applicants", "300"],
    "sync_e2e": ["--applicants", "1000", "--warmup", "50", "--baseline-reps", "2"],
    "sync_ingest_concurrency": ["--devices", "5", "--applicants", "200", "--workers", "2"],
    "sync_edge_model": ["--applicants", "100"],
    "tui_cold_start": ["--runs", "2", "--warmup", "0", "--importtime", "0"],
    "tui_keypress": ["--entries", "2000", "--names", "5", "--warmup", "1"],
    "tui_sync_gaps": ["--records", "500", "--baseline", "1", "--after", "0.5"],
}


def headline(name: str, r: dict[str, object]) -> str:
    """One summary line per benchmark from its JSON result."""
    if "headline" in r:  # the sync benchmarks write their own
        return str(r["headline"])
    fig = r.get("figure") or {}
    ok = "met" if r.get("target_met") else "MISSED"
    if name == "unlock":
        return (
            f"open+unlock - KDF {r['diff_ms']:.1f} ms (non-KDF work p50 "
            f"{r['non_kdf']['p50']:.2f} ms), KDF p50 {r['baseline']['p50']:.0f} ms, "  # type: ignore[index]
            f"ratio {r['ratio_p50']:.3f}x; {r['target']}: {ok}"
        )
    if name == "roster_import":
        return (
            f"{r['rows_per_s']:,.0f} rows/s, {r['ratio']:.2f}x the executemany baseline; "
            f"{r['target']}: {ok}"
        )
    return (
        f"p50 {fig['p50']:.3f} ms, p95 {fig['p95']:.3f} ms, p99 {fig['p99']:.3f} ms; ratio "  # type: ignore[index]
        f"p50 {r['ratio_p50']:.2f}x, p95 {r['ratio_p95']:.2f}x; {r['target']}: {ok}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=c.HelpFormatter)
    p.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS))
    p.add_argument("--runs", type=int, default=2, help="runs of each; the last is reported")
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke test, not figures")
    p.add_argument("--results", type=Path, default=None, help="keep the JSON results here")
    p.add_argument("--tmpdir", type=Path, default=None, help="parent of the temporary dirs")
    args = p.parse_args(argv)

    results: dict[str, dict[str, object]] = {}
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="fieldkit-bench-results-") as scratch:
        out_dir = args.results or Path(scratch)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in args.only:
            for run in range(1, args.runs + 1):
                path = out_dir / f"{name}.run{run}.json"
                cmd = [sys.executable, "-m", f"bench.{name}", "--json", str(path)]
                cmd += QUICK[name] if args.quick else []
                cmd += ["--tmpdir", str(args.tmpdir)] if args.tmpdir else []
                print(f"\n=== {name}, run {run} of {args.runs} ===", flush=True)
                started = time.perf_counter()
                done = subprocess.run(cmd, check=False, cwd=c.REPO)
                print(f"({time.perf_counter() - started:.0f} s)", flush=True)
                if done.returncode != 0 or not path.exists():
                    failed.append(f"{name} run {run} (exit {done.returncode})")
                    continue
                if run == args.runs:
                    results[name] = json.loads(path.read_text())

    print("\n=== summary (last run of each) ===")
    for name in args.only:
        if name in results:
            print(f"{name:<15} {headline(name, results[name])}")
        else:
            print(f"{name:<15} did not finish")
    if results:
        m = next(iter(results.values()))["machine"]
        print(
            f"machine: nproc={m['nproc']} python={m['python']} sqlite={m['sqlite']} "  # type: ignore[index]
            f"cryptography={m['cryptography']}"  # type: ignore[index]
        )
    for line in failed:
        print(f"FAILED: {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
