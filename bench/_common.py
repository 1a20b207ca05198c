"""Shared helpers for the benchmarks: temporary vaults, statistics, machine facts, output.

Vault files are written only under a fresh temporary directory (the system's, or ``--tmpdir``)
and never inside the repository.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import math
import os
import platform
import pstats
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import cryptography

from fieldkit import kdf
from fieldkit.service import visits
from fieldkit.service.session import OfficerSession
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.vault import Vault

REPO = Path(__file__).resolve().parent.parent
OFFICER_ID = "bench01"
OFFICER_NAME = "Petugas Uji"
PASSPHRASE = "kereta malam ke surabaya berangkat jam sembilan"
VISIT_DATE = "2026-05-11"  # a Monday: an office visit needs no coordinator


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The module docstring as written, and every option's default."""


def parser(description: str | None, **defaults: object) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark takes."""
    p = argparse.ArgumentParser(
        description=(description or "").strip(), formatter_class=HelpFormatter
    )
    p.add_argument("--seed", type=int, default=20260511, help="seed for the synthetic people")
    p.add_argument(
        "--tmpdir",
        type=Path,
        default=None,
        help="parent of the temporary directory for vault files (None: the system's)",
    )
    p.add_argument("--json", type=Path, default=None, help="also write the result as JSON here")
    p.add_argument(
        "--profile",
        type=int,
        metavar="N",
        default=0,
        help="profile the measured part with cProfile and print its top N entries "
        "(timings taken under the profiler are inflated; do not quote them)",
    )
    p.set_defaults(**defaults)
    return p


@contextlib.contextmanager
def temp_dir(parent: Path | None) -> Iterator[Path]:
    """A fresh temporary directory, removed afterwards; refuses one inside the repository."""
    if parent is not None:
        resolved = parent.resolve()
        if resolved == REPO or REPO in resolved.parents:
            raise SystemExit(f"--tmpdir must be outside the repository ({REPO})")
        resolved.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fieldkit-bench-", dir=parent) as name:
        yield Path(name)


def new_vault(home: Path, params: kdf.KdfParams = kdf.INSECURE_TEST_PARAMS) -> UnlockedVault:
    """Create a vault in ``home`` and return it unlocked (cheap KDF unless told otherwise)."""
    return Vault.create(
        home, officer_id=OFFICER_ID, name=OFFICER_NAME, passphrase=PASSPHRASE, params=params
    )


def new_visit(session: UnlockedVault) -> str:
    """Plan an office visit to capture applicants at."""
    return visits.create_visit(
        OfficerSession(session),
        kind="office",
        on=VISIT_DATE,
        session_name="pagi",
        site="Kantor Imigrasi Bogor",
    )


def plain_db(path: Path) -> sqlite3.Connection:
    """A plain SQLite file with the vault's durability settings (WAL, synchronous=FULL)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0–100) with linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99, min/max, mean, stdev and IQR of durations, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "min": min(ms),
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "max": max(ms),
        "mean": statistics.fmean(ms),
        "stdev": statistics.stdev(ms) if len(ms) > 1 else 0.0,
        "iqr": percentile(ms, 75) - percentile(ms, 25),
    }


def fmt_summary(label: str, s: dict[str, float], unit: str = "ms") -> str:
    """One line: n, p50, p95, p99, min–max, IQR."""
    return (
        f"{label:<34} n={s['n']:<5} p50={s['p50']:8.3f} p95={s['p95']:8.3f} "
        f"p99={s['p99']:8.3f}  min={s['min']:.3f} max={s['max']:.3f} "
        f"IQR={s['iqr']:.3f} sd={s['stdev']:.3f} {unit}"
    )


def source_state() -> str:
    """The commit measured, and whether fieldkit/ had uncommitted changes then."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "fieldkit"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head or 'unknown'}{'+uncommitted fieldkit changes' if dirty else ''}"


def machine() -> dict[str, object]:
    """The facts every result carries."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        affinity = os.cpu_count()
    return {
        "nproc": affinity,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cryptography": cryptography.__version__,
        "platform": platform.platform(),
        "loadavg": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source_state(),
    }


def command(module: str, argv: Sequence[str] | None) -> str:
    """The command line that reproduces this run."""
    args = list(sys.argv[1:] if argv is None else argv)
    return " ".join([".venv/bin/python", "-m", module, *map(shlex.quote, args)])


def finish(result: dict[str, object], json_path: Path | None) -> None:
    """Print the machine line and write the JSON result if asked."""
    m = result["machine"]
    print(
        f"machine: nproc={m['nproc']} python={m['python']} sqlite={m['sqlite']} "  # type: ignore[index]
        f"cryptography={m['cryptography']} loadavg={m['loadavg']} date={m['date']} "  # type: ignore[index]
        f"source={m['source']}"  # type: ignore[index]
    )
    if json_path is not None:
        json_path.write_text(json.dumps(result, indent=2, default=str) + "\n")


class Profiler:
    """cProfile around the measured part when ``--profile N`` was given; a no-op otherwise."""

    def __init__(self, top: int) -> None:
        self.top = top
        self.profile = cProfile.Profile() if top else None

    def __enter__(self) -> Profiler:
        if self.profile is not None:
            self.profile.enable()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.profile is not None:
            self.profile.disable()

    def report(self) -> None:
        """Print the top entries by internal and by cumulative time."""
        if self.profile is None:
            return
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(self.profile, stream=out).strip_dirs().sort_stats(key).print_stats(
                self.top
            )
            print(f"\n--- profile, sorted by {key} (timings inflated by the profiler) ---")
            print(out.getvalue())
