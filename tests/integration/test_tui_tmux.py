"""The real field app in a real terminal: ``scripts/tui_tmux.sh`` (tmux at 80x24), about 3 s.

The script makes a temporary vault with the CLI, starts ``fieldkit`` in a detached tmux
session, unlocks, checks a booking code in, reads the queue number off the screen and quits
with ctrl+q (exit 0, session gone). .ci/run also calls it directly.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.postgres import in_ci

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "tui_tmux.sh"


def test_the_app_in_tmux_checks_someone_in_and_quits_cleanly() -> None:
    if not in_ci():
        if shutil.which("tmux") is None:
            pytest.skip("tmux is not installed (CI=true makes this a failure)")
        if not (ROOT / ".venv" / "bin" / "fieldkit").exists():
            pytest.skip("the script runs .venv/bin/fieldkit: run make first")
    done = subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, timeout=180, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "tui_tmux.sh: ok" in done.stdout, output
    assert "Nomor antrean A-001" in done.stdout, output
