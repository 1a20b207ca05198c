"""Kill a writer program with a real SIGKILL at a random moment, and check what it left.

Used by the crash tests (tests/integration/test_crash_safety.py, test_crash_counter.py): the
writer is one of the programs of :mod:`tests.support.programs`; it prints ``ready`` once the
vault is unlocked and confirms each save on stdout only after the save returned.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from fieldkit.kdf import TEST_KDF_ENV
from fieldkit.vault import outbox
from fieldkit.vault.session import UnlockedVault
from tests.support.programs import program, program_env

# When the kill lands: from the spawn ("cold"), or that long after "ready" (seconds).
KILL_WINDOWS = {"first": (0.0, 0.015), "early": (0.015, 0.08), "late": (0.08, 0.45)}


def run_and_kill(
    name: str, args: Iterable[str], rng: random.Random, errlog: Path
) -> tuple[bytes, str, int]:
    """Start program ``name`` and SIGKILL it at a random moment: ``(stdout, mode, exit code)``."""
    env = program_env({**os.environ, TEST_KDF_ENV: "1"})
    chunks: list[bytes] = []
    ready = threading.Event()
    with errlog.open("wb") as err:
        proc = subprocess.Popen(program(name, *args), stdout=subprocess.PIPE, stderr=err, env=env)

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                chunks.append(line)
                if line == b"ready\n":
                    ready.set()

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        mode = rng.choices(["cold", "first", "early", "late"], [2, 2, 3, 3])[0]
        if mode == "cold":
            # From the spawn: usually while Python starts or the vault unlocks.
            time.sleep(rng.uniform(0.0, 0.12))
        else:
            assert ready.wait(30), "the writer did not unlock the vault within 30 s"
            time.sleep(rng.uniform(*KILL_WINDOWS[mode]))
        os.kill(proc.pid, signal.SIGKILL)
        code = proc.wait(30)
        reader.join(30)
    return b"".join(chunks), mode, code


def confirmed_lines(stdout: bytes) -> list[list[str]]:
    """The words of each whole line: a line cut short by the kill confirmed nothing."""
    return [
        line.split()
        for line in stdout.decode().splitlines(keepends=True)
        if line.endswith("\n") and line.strip()
    ]


def check_structure(session: UnlockedVault, write_actions: Iterable[str]) -> None:
    """Nothing half written: heads, versions, outbox and audit agree; every version decrypts.

    ``write_actions`` are the audit actions that write record versions (one entry per version).
    """
    conn = session.conn
    actions = sorted(write_actions)
    heads = {(k, i): v for k, i, v in conn.execute("SELECT kind, id, version FROM records")}
    versions = set(conn.execute("SELECT kind, id, version FROM record_versions"))
    queued = conn.execute("SELECT kind, id, version FROM outbox").fetchall()
    assert len(queued) == len(set(queued))
    # Every head has its version row, and every record's versions run 1..head with nothing
    # beyond the head (a version row without its head would be half an action).
    expected = {(k, i, v) for (k, i), head in heads.items() for v in range(1, head + 1)}
    assert versions == expected, {
        "missing": sorted(expected - versions)[:5],
        "orphans": sorted(versions - expected)[:5],
    }
    # The outbox queues exactly the committed versions, gaplessly numbered.
    assert set(queued) == versions, {
        "queued_but_missing": sorted(set(queued) - versions)[:5],
        "not_queued": sorted(versions - set(queued))[:5],
    }
    assert outbox.gaps(conn) == []
    assert conn.execute("SELECT COALESCE(MAX(seq), 0) FROM outbox").fetchone()[0] == len(queued)
    # Every version was audited by the action that wrote it, and no audit entry names a
    # version that is not there. A bulk action (a roster import) is audited once, naming the
    # range of outbox numbers it took.
    audited = set()
    marks = ", ".join("?" for _ in actions)
    by_seq = {
        seq: (k, i, v) for seq, k, i, v in conn.execute("SELECT seq, kind, id, version FROM outbox")
    }
    for subject, raw in conn.execute(
        f"SELECT subject, detail FROM audit WHERE action IN ({marks})", actions
    ):
        detail = json.loads(raw)
        if "outbox_first" in detail:
            first, last = detail["outbox_first"], detail["outbox_last"]
            audited.update(by_seq[seq] for seq in range(first, last + 1))
            continue
        kind, rid = subject.split(":", 1)
        audited.add((kind, rid, detail["version"]))
    assert audited == versions, {
        "unaudited": sorted(versions - audited)[:5],
        "audited_but_missing": sorted(audited - versions)[:5],
    }
    # Every version decrypts under its own row's associated data.
    for kind, rid in heads:
        history = session.history(kind, rid)
        assert [r.version for r in history] == list(range(1, heads[(kind, rid)] + 1))
