"""What a USB stick may hold besides batches and receipts, performed against the real commands.

The attacks: a ``*.fkb`` that is a symbolic link to ``/dev/zero`` (``fieldkit-hq import`` ran
out of memory and imported nothing), a batch whose header is 30,000 nested brackets (the
import's sorting step recursed until Python gave up: nothing imported), a ``*.receipt.json``
linking to ``/dev/zero`` (``fieldkit sync import-receipts`` read for ever), a FIFO (a read
that never returns), and a ``.partial`` symbolic link planted under the name the export
writes through (it overwrote the file the link pointed to). Now only regular files are read,
at most their limit; one bad file is reported and the others go on; temporary files are
created exclusively under a random name and renamed into place.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from fieldkit.cli.main import main as fieldkit_main
from fieldkit.vault import syncstate
from sync.wire import envelope
from tests.support.vault import cli_env, enrolled_vault

VICTIM = b"a file of someone else's that no export may touch\n"


@pytest.fixture(scope="module")
def server(hq_server):
    return hq_server


@pytest.fixture
def laptop(server, tmp_path):
    home = tmp_path / "laptop"
    session = enrolled_vault(home, server.url, server.enroll_code(), applicants=3, seed=8)
    yield home, session
    session.vault.close()


def _fieldkit(home: Path, *args: str):
    return CliRunner().invoke(fieldkit_main, list(args), env=cli_env(home, FIELDKIT_LANG="en"))


def _nested_header_batch() -> bytes:
    """An envelope-shaped file whose header is 30,000 nested brackets."""
    header = b"[" * 30_000 + b"]" * 30_000
    tail = bytes(envelope.SIGNATURE_BYTES + 2048)
    return envelope.MAGIC + len(header).to_bytes(envelope.LENGTH_BYTES, "big") + header + tail


def test_export_never_writes_through_a_planted_link(laptop, tmp_path):
    home, session = laptop
    stick = tmp_path / "usb"
    first = _fieldkit(home, "sync", "export", str(stick), "--json")
    assert first.exit_code == 0, first.output
    exported = [Path(f["path"]) for f in json.loads(first.stdout)["files"]]
    assert exported
    # The batch is unacknowledged, so the next export writes the same, predictable name.
    target = exported[0]
    victim, victim2 = tmp_path / "victim", tmp_path / "victim2"
    victim.write_bytes(VICTIM)
    victim2.write_bytes(VICTIM)
    (target.parent / (target.name + ".partial")).symlink_to(victim)
    target.unlink()
    target.symlink_to(victim2)

    again = _fieldkit(home, "sync", "export", str(stick), "--json")

    assert again.exit_code == 0, again.output
    assert victim.read_bytes() == VICTIM and victim2.read_bytes() == VICTIM
    assert target.is_file() and not target.is_symlink(), "the export landed as a file of its own"
    seq = int(target.name.split("-", 1)[0])
    assert target.read_bytes() == syncstate.envelope(session.conn, seq)
    assert not [p for p in stick.iterdir() if p.name.endswith(".partial") and not p.is_symlink()]


def test_hq_import_reports_each_bad_file_and_imports_the_good_ones(server, laptop, tmp_path):
    home, session = laptop
    stick = tmp_path / "usb"
    exported = _fieldkit(home, "sync", "export", str(stick), "--json")
    assert exported.exit_code == 0, exported.output
    good = [Path(f["path"]).name for f in json.loads(exported.stdout)["files"]]
    (stick / "0-zero.fkb").symlink_to("/dev/zero")
    (stick / "0-nested.fkb").write_bytes(_nested_header_batch())
    os.mkfifo(stick / "0-fifo.fkb")

    done = server.cli("import", str(stick), "--json", check=False)

    assert done.returncode == 3, done.stderr  # some files were refused
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    lines = {line["file"]: line for line in map(json.loads, done.stdout.splitlines())}
    assert {lines[name]["outcome"] for name in good} == {"accepted"}
    assert lines["0-zero.fkb"]["problem"] == "/problems/unsafe-file"
    assert "symbolic link" in lines["0-zero.fkb"]["detail"]
    assert lines["0-fifo.fkb"]["problem"] == "/problems/unsafe-file"
    assert "not a regular file" in lines["0-fifo.fkb"]["detail"]
    assert lines["0-nested.fkb"]["problem"] == "/problems/malformed-envelope"
    held = server.hq.scalar(
        "SELECT count(*) FROM batches WHERE device_id = :d", d=session.vault.device_id
    )
    assert held == len(good)

    # Back on the laptop: the receipts among the same kinds of traps.
    (stick / "zero.receipt.json").symlink_to("/dev/zero")
    (stick / "nested.receipt.json").write_text("[" * 30_000 + "]" * 30_000)
    os.mkfifo(stick / "fifo.receipt.json")
    (stick / "big.receipt.json").write_bytes(b" " * (64 * 1024 + 1))

    applied = _fieldkit(home, "sync", "import-receipts", str(stick), "--json")

    assert applied.exit_code == 3, applied.output  # some receipts were not applied
    outcome = json.loads(applied.stdout)
    assert len(outcome["acked"]) == len(good) and outcome["unacked"] == 0
    reasons = {Path(r["file"]).name: r["reason"] for r in outcome["rejected"]}
    assert set(reasons) == {
        "zero.receipt.json",
        "nested.receipt.json",
        "fifo.receipt.json",
        "big.receipt.json",
    }
    assert "symbolic link" in reasons["zero.receipt.json"]
    assert "not a regular file" in reasons["fifo.receipt.json"]
    assert "over 65536 bytes" in reasons["big.receipt.json"]
    assert reasons["nested.receipt.json"] == "not JSON"
