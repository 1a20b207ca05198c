"""``fieldkit demo --headless``: the whole synthetic day, from a throwaway HQ to what HQ received.

One real run in a child process, as ``make demo`` runs it without a terminal: HQ is
``fieldkit-hq`` in subprocesses (SQLite), the vault and HQ's keys use the cheap test KDF, and
the temporary folder is put under the test's own (``TMPDIR``) so its removal can be checked.
Every person is synthetic.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

from fieldkit.domain.synthday import synthetic_day

FIELDKIT = (sys.executable, "-c", "from fieldkit.cli.main import main; main(prog_name='fieldkit')")
ROOT = Path(__file__).resolve().parents[2]


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}
    env.update(
        FIELDKIT_INSECURE_TEST_KDF="1",
        FIELDKIT_LANG="en",
        FIELDKIT_CONFIG=str(tmp / "no-config.toml"),
        TMPDIR=str(tmp),
    )
    return env


def test_the_headless_demo_plays_the_day_and_hq_receives_it(tmp_path: Path) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    done = subprocess.run(
        [*FIELDKIT, "demo", "--headless"],
        env=_env(temp),
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    out = done.stdout
    expected = synthetic_day(1, 60, on=date.today()).expected()
    decisions = ", ".join(f"{k} {n}" for k, n in expected["decisions"].items())  # type: ignore[attr-defined]
    applicants = sum(expected["decisions"].values())  # type: ignore[attr-defined]
    # What HQ received, as fieldkit-hq status prints it: each record at its latest version.
    assert f"applicant {applicants} ({decisions})" in out, out
    assert (
        f"roster {expected['roster']} (arrived {expected['arrived']}, "
        f"no_show {expected['no_shows']})" in out
    ), out
    assert "visit 1 (closed 1)" in out
    assert "watchlist-hit" in out
    assert "HQ received the whole day, exactly once" in out
    assert f"{expected['walk_ins']} walk-ins" in out
    # One progress line per scripted arrival, the lost passport refused, the watchlist referral.
    assert "REFER TO SUPERVISOR" in out and "application.office_only" in out
    # HQ is stopped and the temporary folder removed.
    port = int(re.search(r"HQ is serving at http://127\.0\.0\.1:(\d+)", out).group(1))  # type: ignore[union-attr]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    assert list(temp.iterdir()) == []
