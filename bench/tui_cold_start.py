"""Cold start of the field app to its unlock screen, in fresh Python processes.

A vault is created once (cheap test KDF; nothing is unlocked here). Then, ``--runs`` rounds
after ``--warmup`` rounds not counted, each round launches in a rotating order:

- **app**: ``python -m bench._tui_start HOME``: imports the app, ``make_app(Settings(home=HOME,
  insecure_test_kdf=True))``, ``App.run(headless=True, size=(80, 24))``; the child notes
  ``time.monotonic()`` when the ``UnlockScreen`` has mounted and when it is first painted, then
  exits the app. The figure is the child's stamp minus the parent's stamp just before
  ``subprocess.Popen`` (``CLOCK_MONOTONIC`` is system-wide on Linux): interpreter start,
  imports, building the app (CSS), mounting the screen, the first frame;
- **app via CLI** (context): the same after importing ``fieldkit.cli.main`` and reading the
  settings as the ``fieldkit`` console script does before it opens the app;
- **baseline**: ``python -c "import textual"``, launch to exit;
- **python -c pass** (context): the interpreter's own start, launch to exit.

Every run is a new process, so nothing is imported yet (the OS page cache is warm after the
warm-up round, as on a laptop that has run fieldkit before). Figures are medians (p50) with
p95, min and max; the ratio is the app's median over the baseline's. ``--importtime N`` runs
the child once more under ``python -X importtime`` and lists where the import time goes: self
time by top-level package and the slowest fieldkit and sync modules (cumulative; inflated by
the tracing, for where the time goes only).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench import _common as c

TARGET_S = 1.0
KINDS = ("app", "app_via_cli", "import_textual", "python_pass")
LABELS = {
    "app": "app: launch to UnlockScreen mounted",
    "app_painted": "app: launch to its first paint",
    "app_exit": "app: launch to process exit",
    "app_via_cli": "app via CLI imports: to mounted",
    "import_textual": 'baseline: python -c "import textual"',
    "python_pass": 'context: python -c "pass"',
}


def child_env() -> dict[str, str]:
    """The caller's environment without any ``FIELDKIT_*`` setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}


def launch(argv: Sequence[str]) -> tuple[float, float, str]:
    """Run ``argv`` in a new process: (seconds to exit, launch stamp, stdout)."""
    t0 = time.monotonic()
    done = subprocess.run(
        list(argv), cwd=c.REPO, env=child_env(), capture_output=True, text=True, check=False
    )
    took = time.monotonic() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{argv} exited {done.returncode}:\n{done.stderr}")
    return took, t0, done.stdout


def app_run(home: Path, via_cli: bool) -> dict[str, float]:
    """One cold start of the app: seconds from launch to each stamp, and to exit."""
    argv = [sys.executable, "-m", "bench._tui_start", str(home)]
    took, t0, out = launch([*argv, "--via-cli"] if via_cli else argv)
    stamps = json.loads(out.strip().splitlines()[-1])
    keys = ("first_line", "imported", "built", "mounted", "painted")
    return {k: stamps[k] - t0 for k in keys} | {"exit": took}


def import_profile(home: Path, top: int) -> dict[str, list[tuple[float, str]]]:
    """One app start under ``-X importtime``: where the import time goes (ms).

    ``packages``: self time summed by top-level package; ``modules``: the ``top`` fieldkit and
    sync modules by cumulative time (indented as nested in the trace).
    """
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bench._tui_start", str(home)],
        cwd=c.REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    packages: dict[str, float] = {}
    modules: list[tuple[float, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        root = name.strip().split(".")[0]
        packages[root] = packages.get(root, 0.0) + int(own) / 1000
        if root in ("fieldkit", "sync"):
            modules.append((int(cumulative) / 1000, name.rstrip()[1:]))
    by_package = sorted(((ms, name) for name, ms in packages.items()), reverse=True)
    return {"packages": by_package[:top], "modules": sorted(modules, reverse=True)[:top]}


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = c.parser(__doc__)
    p.add_argument("--runs", type=int, default=10, help="measured rounds (each kind once)")
    p.add_argument("--warmup", type=int, default=1, help="rounds before measuring")
    p.add_argument(
        "--importtime", type=int, default=12, help="rows of the import profile (0: none)"
    )
    args = p.parse_args(argv)

    times: dict[str, list[float]] = {k: [] for k in (*LABELS, "imported", "built", "first_line")}
    with c.temp_dir(args.tmpdir) as tmp:
        home = tmp / "home"
        session = c.new_vault(home)
        session.lock()
        session.vault.close()
        for round_no in range(args.warmup + args.runs):
            shift = round_no % len(KINDS)
            for kind in KINDS[shift:] + KINDS[:shift]:
                if kind in ("app", "app_via_cli"):
                    run = app_run(home, via_cli=kind == "app_via_cli")
                    if round_no < args.warmup:
                        continue
                    times[kind].append(run["mounted"])
                    if kind == "app":
                        times["app_painted"].append(run["painted"])
                        times["app_exit"].append(run["exit"])
                        for stage in ("first_line", "imported", "built"):
                            times[stage].append(run[stage])
                else:
                    code = "import textual" if kind == "import_textual" else "pass"
                    took, _, _ = launch([sys.executable, "-c", code])
                    if round_no >= args.warmup:
                        times[kind].append(took)
        imports = import_profile(home, args.importtime) if args.importtime else {}

    s = {k: c.summary_ms(v) for k, v in times.items() if v}
    median = {k: statistics.median(v) for k, v in times.items() if v}
    ratio = median["app"] / median["import_textual"]
    ratio_painted = median["app_painted"] / median["import_textual"]
    met = median["app"] <= TARGET_S and median["app_painted"] <= TARGET_S
    print(
        f"cold start of the field app to its unlock screen: {args.runs} rounds after "
        f"{args.warmup} warm-up, a new process each run (medians are p50)"
    )
    for key, label in LABELS.items():
        print(c.fmt_summary(label, s[key]))
    stages = {
        "interpreter start (to the child's first line)": median["first_line"],
        "imports (fieldkit.tui.app, textual, ...)": median["imported"] - median["first_line"],
        "make_app (settings, prefs, keymap)": median["built"] - median["imported"],
        "run to UnlockScreen mounted (CSS, driver, compose)": median["app"] - median["built"],
        "mounted to first paint": median["app_painted"] - median["app"],
    }
    print("where the time goes (differences of medians):")
    for label, seconds in stages.items():
        print(f"  {label:<52} {seconds * 1000:8.1f} ms")
    if imports:
        print("one start under -X importtime (the tracing inflates these):")
        print("  self time by top-level package:")
        for ms, name in imports["packages"]:
            print(f"    {ms:8.1f} ms  {name}")
        print("  fieldkit and sync modules by cumulative time:")
        for ms, name in imports["modules"]:
            print(f"    {ms:8.1f} ms  {name}")
    headline = (
        f"to UnlockScreen mounted p50 {median['app'] * 1000:.0f} ms (painted "
        f"{median['app_painted'] * 1000:.0f} ms; via CLI imports {median['app_via_cli'] * 1000:.0f}"
        f" ms); python -c 'import textual' p50 {median['import_textual'] * 1000:.0f} ms, ratio "
        f"{ratio:.2f}x ({ratio_painted:.2f}x painted); target p50 <= {TARGET_S:.0f} s: "
        f"{'met' if met else 'MISSED'}"
    )
    print(f"RESULT {headline}")
    result: dict[str, object] = {
        "benchmark": "tui_cold_start",
        "headline": headline,
        "figures": s,
        "medians_s": median,
        "ratio_p50": ratio,
        "ratio_painted_p50": ratio_painted,
        "stages_ms": {k: v * 1000 for k, v in stages.items()},
        "import_profile_ms": imports,
        "target": f"median launch to UnlockScreen <= {TARGET_S} s",
        "target_met": met,
        "machine": c.machine(),
        "command": c.command("bench.tui_cold_start", argv),
    }
    c.finish(result, args.json)
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)
