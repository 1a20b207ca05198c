"""Unlocking with PRODUCTION key-derivation parameters, against the Argon2id derive alone.

The vault is created with ``kdf.calibrate()`` (at least 64 MiB, at least 0.25 s here; refuses
to run under FIELDKIT_INSECURE_TEST_KDF=1). Three things are timed, alternating round-robin
(the starting one rotates every round) so that noise on the shared machine hits all alike:

* ``kdf``: ``kdf.derive(passphrase, slot.salt, slot.params)``, the raw baseline;
* ``open+unlock``: ``Vault.open(home).unlock(officer, passphrase)``, what a CLI command does
  (connect, pragmas, migrations check, slot, Argon2id, AES-GCM, HPKE, audit commit);
* ``unlock``: ``vault.unlock(officer, passphrase)`` on a vault already open.

The figure is the difference from the KDF alone: the median of the per-round paired
differences, and the difference of the medians. Because Argon2id's own run-to-run spread
(several ms) is larger than the difference, ``open+unlock`` also times the derive it does
inside (by wrapping ``kdf.derive`` in this process) and reports the rest: the non-KDF work.
"""

from __future__ import annotations

import sys
import time

from bench import _common as c
from fieldkit import kdf
from fieldkit.settings import load_settings
from fieldkit.vault import keyring
from fieldkit.vault.vault import Vault

TARGET_DIFF_MS = 50.0


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = c.parser(__doc__)
    p.add_argument("--reps", type=int, default=20, help="measured repetitions of each")
    p.add_argument("--warmup", type=int, default=2, help="rounds before measuring")
    p.add_argument(
        "--memory-kib",
        type=int,
        default=kdf.DEFAULT_MEMORY_KIB,
        help="Argon2id memory for calibrate() (never below 64 MiB)",
    )
    args = p.parse_args(argv)
    if load_settings().insecure_test_kdf:
        raise SystemExit(f"unset {kdf.TEST_KDF_ENV}: this benchmark measures production params")

    clock = time.perf_counter
    profiler = c.Profiler(args.profile)
    times: dict[str, list[float]] = {"kdf": [], "open+unlock": [], "unlock": []}
    non_kdf: list[float] = []
    with c.temp_dir(args.tmpdir) as tmp:
        home = tmp / "vault"
        started = clock()
        params = kdf.calibrate(memory_kib=args.memory_kib)
        calibration_s = clock() - started
        assert params.memory_kib >= kdf.MIN_MEMORY_KIB
        session = c.new_vault(home, params)
        session.vault.close()
        probe = Vault.open(home)
        slot = keyring.load_slot(probe.conn, c.OFFICER_ID)
        probe.close()
        assert slot is not None and slot.params == params

        def run_kdf() -> float:
            t0 = clock()
            kdf.derive(c.PASSPHRASE, slot.salt, slot.params)
            return clock() - t0

        inside: list[float] = []
        real_derive = kdf.derive

        def timed_derive(*a: object, **kw: object) -> bytes:
            t0 = clock()
            try:
                return real_derive(*a, **kw)  # type: ignore[arg-type]
            finally:
                inside.append(clock() - t0)

        def run_open_unlock() -> float:
            inside.clear()
            kdf.derive = timed_derive  # type: ignore[assignment]
            try:
                with profiler:
                    t0 = clock()
                    vault = Vault.open(home)
                    vault.unlock(c.OFFICER_ID, c.PASSPHRASE)
                    took = clock() - t0
            finally:
                kdf.derive = real_derive  # type: ignore[assignment]
            assert len(inside) == 1
            non_kdf.append(took - inside[0])
            vault.close()
            return took

        def run_unlock() -> float:
            vault = Vault.open(home)
            t0 = clock()
            vault.unlock(c.OFFICER_ID, c.PASSPHRASE)
            took = clock() - t0
            vault.close()
            return took

        runners = [("kdf", run_kdf), ("open+unlock", run_open_unlock), ("unlock", run_unlock)]
        for r in range(args.warmup + args.reps):
            k = r % len(runners)
            for name, run in runners[k:] + runners[:k]:
                took = run()
                if r >= args.warmup:
                    times[name].append(took)
            if r < args.warmup:
                non_kdf.clear()

    s = {name: c.summary_ms(values) for name, values in times.items()}
    paired = {
        name: c.summary_ms([a - b for a, b in zip(times[name], times["kdf"], strict=True)])
        for name in ("open+unlock", "unlock")
    }
    s_non_kdf = c.summary_ms(non_kdf)
    diff = paired["open+unlock"]["p50"]
    met = diff <= TARGET_DIFF_MS and s_non_kdf["p95"] <= TARGET_DIFF_MS
    print(
        f"unlock with production parameters: memory {params.memory_kib // 1024} MiB, "
        f"{params.iterations} iteration(s), {params.lanes} lane(s); calibrate() took "
        f"{calibration_s:.2f} s; {args.reps} rounds after {args.warmup} warm-up"
    )
    for name in times:
        print(c.fmt_summary(name if name != "kdf" else "baseline: Argon2id derive", s[name]))
    for name in paired:
        print(c.fmt_summary(f"paired diff: {name} - kdf", paired[name]))
    print(c.fmt_summary("open+unlock minus its own derive", s_non_kdf))
    print(
        f"RESULT open+unlock - KDF: median paired difference {diff:.1f} ms, difference of "
        f"medians {s['open+unlock']['p50'] - s['kdf']['p50']:.1f} ms (target <= "
        f"{TARGET_DIFF_MS:.0f} ms: {'met' if met else 'MISSED'}); ratio "
        f"{s['open+unlock']['p50'] / s['kdf']['p50']:.3f}x; unlock alone - KDF "
        f"{paired['unlock']['p50']:.1f} ms; non-KDF work inside open+unlock p50 "
        f"{s_non_kdf['p50']:.2f} ms, p95 {s_non_kdf['p95']:.2f} ms"
    )
    result: dict[str, object] = {
        "benchmark": "unlock",
        "params": params.as_dict(),
        "calibration_s": calibration_s,
        "figure": s["open+unlock"],
        "unlock_only": s["unlock"],
        "baseline": s["kdf"],
        "paired_diff": paired,
        "diff_ms": diff,
        "non_kdf": s_non_kdf,
        "ratio_p50": s["open+unlock"]["p50"] / s["kdf"]["p50"],
        "target": f"open+unlock within {TARGET_DIFF_MS:.0f} ms of the KDF alone",
        "target_met": met,
        "kdf": "production (calibrate())",
        "machine": c.machine(),
        "command": c.command("bench.unlock", argv),
    }
    c.finish(result, args.json)
    profiler.report()
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)
