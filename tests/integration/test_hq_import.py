"""``fieldkit-hq import DIR``: sealed batches carried on a USB stick, on both stores."""

from __future__ import annotations

import json
import os

from sync.hq import store
from tests.support.hq import enrolled_device, run_cli, verify_receipt


def test_import_ingests_each_file_writes_receipts_and_reports_refusals(hq_home, tmp_path):
    device = enrolled_device(hq_home)
    stick = tmp_path / "usb"
    stick.mkdir()
    headers = []
    for n in (1, 2, 3):
        header, sealed = device.cut(records=2, audit=2)
        headers.append(header)
        # Names that sort against seq order: import orders by device and seq itself.
        (stick / f"{9 - n}-batch.fkb").write_bytes(sealed)
    (stick / "copy-of-first.fkb").write_bytes((stick / "8-batch.fkb").read_bytes())
    tampered = bytearray(device.cut()[1])
    tampered[-1] ^= 1
    (stick / "tampered.fkb").write_bytes(bytes(tampered))
    (stick / "random.fkb").write_bytes(os.urandom(500))
    (stick / "notes.txt").write_text("not a batch")

    done = run_cli(hq_home.env, "import", str(stick), "--json", check=False)
    assert done.returncode == 3, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    by_file = {line["file"]: line for line in lines}
    assert set(by_file) == {
        "8-batch.fkb", "7-batch.fkb", "6-batch.fkb", "copy-of-first.fkb", "tampered.fkb",
        "random.fkb",
    }  # fmt: skip
    assert by_file["tampered.fkb"]["problem"] == "/problems/bad-signature"
    assert by_file["random.fkb"]["problem"] == "/problems/malformed-envelope"
    outcomes = sorted(line.get("outcome", "refused") for line in lines)
    assert outcomes == ["accepted", "accepted", "accepted", "duplicate", "refused", "refused"]

    for header in headers:
        receipt_file = stick / f"{header.batch_id}.receipt.json"
        receipt = verify_receipt(json.loads(receipt_file.read_text()), device.hq_signing_public)
        assert (receipt["batch_id"], receipt["seq"]) == (header.batch_id, header.seq)

    # Every audit entry verified: the files were taken in seq order, whatever their names.
    entries = hq_home.rows(store.audit_entries, store.audit_entries.c.device_id == device.device_id)
    assert len(entries) == 6 and all(e["verified"] for e in entries)
    assert hq_home.count(store.records, store.records.c.device_id == device.device_id) == 6
    clients = {r["client"] for r in hq_home.rows(store.rejections)}
    assert clients == {"file:tampered.fkb", "file:random.fkb"}
    sources = {r["source"] for r in hq_home.rows(store.batches)}
    assert sources == {"file"}

    # A second import of the same stick changes nothing and answers the same receipts.
    before = (stick / f"{headers[0].batch_id}.receipt.json").read_text()
    for name in ("tampered.fkb", "random.fkb"):
        (stick / name).unlink()
    again = run_cli(hq_home.env, "import", str(stick))
    assert again.returncode == 0
    assert again.stdout.count("DUPLICATE") == 4
    assert (stick / f"{headers[0].batch_id}.receipt.json").read_text() == before


def test_import_of_an_empty_directory_and_of_a_missing_one(hq_home, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli(hq_home.env, "import", str(empty)).returncode == 0
    missing = run_cli(hq_home.env, "import", str(tmp_path / "nowhere"), check=False)
    assert missing.returncode == 2


def test_each_line_names_the_outcome_then_a_space_then_the_file(hq_home, tmp_path):
    """The plain-text lines: the outcome word, at least one space, the file name (never run
    together, as ``DUPLICATE2-batch.fkb`` once was), the file names lined up in one column."""
    device = enrolled_device(hq_home)
    stick = tmp_path / "usb"
    stick.mkdir()
    header, sealed = device.cut(records=2, audit=1)
    (stick / "2-batch.fkb").write_bytes(sealed)
    (stick / "junk.fkb").write_bytes(b"not a batch")
    tail = f": device {device.device_id} seq {header.seq}"
    receipt = f"→ {header.batch_id}.receipt.json"

    first = run_cli(hq_home.env, "import", str(stick), check=False)
    assert first.returncode == 3, first.stderr
    assert first.stdout.splitlines() == [
        f"ACCEPTED  2-batch.fkb{tail}, 2 record(s) {receipt}",
        "REFUSED   junk.fkb: malformed-envelope: not a fieldkit batch (wrong magic)",
    ]
    (stick / "junk.fkb").unlink()
    again = run_cli(hq_home.env, "import", str(stick))
    # A duplicate stores no record again: it counts none.
    assert again.stdout.splitlines() == [f"DUPLICATE 2-batch.fkb{tail}, 0 record(s) {receipt}"]
    assert again.stderr.splitlines()[-1] == "1 file(s), 0 refused."
