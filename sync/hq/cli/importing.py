"""``fieldkit-hq import``: ingest batches carried on a USB stick."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click

from fieldkit.settings import Settings
from sync.hq import keys
from sync.hq.cli.common import (
    EXIT_REFUSED,
    _engine,
    _passphrase,
    _require_init,
    pass_settings,
)
from sync.wire import envelope


def _order(path: Path) -> tuple[int, str, int, str]:
    """Sort files by device and seq where the header can be read, else after, by name."""
    try:
        with path.open("rb") as handle:
            head = handle.read(64 * 1024)
        length = int.from_bytes(head[4:8], "big")
        header = json.loads(head[8 : 8 + length])
        return 0, str(header["device_id"]), int(header["seq"]), path.name
    except (OSError, ValueError, KeyError, TypeError):
        return 1, "", 0, path.name


def _outcome(word: str) -> str:
    """The outcome word of a file's line, padded so the file names line up, then a space.

    ``DUPLICATE`` is the longest word; every word is followed by at least one space.
    """
    return f"{word:<9} "


def _write_receipt(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".receipt-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.command("import")
@click.argument(
    "directory", type=click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file.")
@pass_settings
def import_dir(settings: Settings, directory: Path, as_json: bool) -> None:
    """Ingest every *.fkb envelope in DIRECTORY (batches carried on a USB stick).

    Each file gets the same checks as an upload; an accepted one (new or already received)
    gets its signed receipt written next to it as <batch_id>.receipt.json, for the device to
    import. Exit code 3 when any file was refused.
    """
    from sync.hq import ingest

    home = settings.hq_home
    _require_init(home)
    hq_keys = keys.unlock(home, _passphrase(settings))
    engine = _engine(settings)
    files = sorted(directory.glob("*.fkb"), key=_order)
    refused = 0
    for path in files:
        client = f"file:{path.name}"
        try:
            if path.stat().st_size > envelope.MAX_ENVELOPE_BYTES:
                raise ingest.reject(
                    engine,
                    ingest.HttpProblem("too-large", f"{path.name} is over 4 MiB."),
                    client=client,
                )
            result = ingest.ingest(engine, hq_keys, path.read_bytes(), client=client, source="file")
        except ingest.HttpProblem as problem:
            refused += 1
            line: dict[str, object] = {
                "file": path.name,
                "status": problem.status,
                "problem": f"/problems/{problem.slug}",
                "detail": problem.detail,
            }
            if as_json:
                click.echo(json.dumps(line, ensure_ascii=False, sort_keys=True))
            else:
                click.echo(f"{_outcome('REFUSED')}{path.name}: {problem.slug}: {problem.detail}")
            continue
        except OSError as exc:
            refused += 1
            click.echo(f"{_outcome('REFUSED')}{path.name}: cannot read: {exc.strerror}", err=True)
            continue
        receipt_path = path.with_name(f"{result.batch_id}.receipt.json")
        _write_receipt(receipt_path, result.receipt)
        outcome = "duplicate" if result.duplicate else "accepted"
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "file": path.name,
                        "status": result.status,
                        "outcome": outcome,
                        "device_id": result.device_id,
                        "batch_id": result.batch_id,
                        "seq": result.seq,
                        "records": result.records,
                        "receipt": receipt_path.name,
                    },
                    sort_keys=True,
                )
            )
        else:
            click.echo(
                f"{_outcome(outcome.upper())}{path.name}: device {result.device_id} "
                f"seq {result.seq}, {result.records} record(s) → {receipt_path.name}"
            )
    if not as_json:
        click.echo(f"{len(files)} file(s), {refused} refused.", err=True)
    if refused:
        sys.exit(EXIT_REFUSED)
