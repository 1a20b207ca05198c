"""``fieldkit-hq import``: ingest batches carried on a USB stick."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from fieldkit import files
from fieldkit.settings import Settings
from sync.hq import keys
from sync.hq.cli.common import (
    EXIT_REFUSED,
    _engine,
    _passphrase,
    _require_init,
    pass_settings,
)
from sync.wire import envelope, nesting

# The header sits in the first bytes; only they are read to sort the files.
_HEAD_BYTES = 64 * 1024


def _order(path: Path) -> tuple[int, str, int, str]:
    """Sort files by device and seq where the header can be read, else after, by name.

    Reads at most the head of a regular file (no link, FIFO or device is followed), and
    refuses a header nested deeper than any real one before parsing it: a file of 30,000
    nested brackets must not crash the sort of every other file.
    """
    try:
        head = files.read_regular(path, _HEAD_BYTES, head=True)
        length = int.from_bytes(head[4:8], "big")
        header = nesting.loads_bounded(head[8 : 8 + length])
        return 0, str(header["device_id"]), int(header["seq"]), path.name  # type: ignore[index]
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return 1, "", 0, path.name


def _outcome(word: str) -> str:
    """The outcome word of a file's line, padded so the file names line up, then a space.

    ``DUPLICATE`` is the longest word; every word is followed by at least one space.
    """
    return f"{word:<9} "


def _write_receipt(path: Path, text: str) -> None:
    # A fresh, exclusively created temporary file renamed over the target: a link planted at
    # the receipt's name is replaced, never written through.
    files.write_replacing(path, (text + "\n").encode("utf-8"))


def _refused(path: Path, status: int | None, slug: str, detail: str, *, as_json: bool) -> None:
    """Report one refused file (a line of JSON, or a line of text) and carry on with the rest."""
    if as_json:
        line = {"file": path.name, "status": status, "problem": f"/problems/{slug}"}
        click.echo(json.dumps({**line, "detail": detail}, ensure_ascii=False, sort_keys=True))
    else:
        click.echo(f"{_outcome('REFUSED')}{path.name}: {slug}: {detail}")


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
    import. Only regular files are read (a symbolic link, FIFO or device is refused), at most
    4 MiB each; a refused file is reported and the others are still processed. Exit code 3
    when any file was refused.
    """
    from sync.hq import ingest

    home = settings.hq_home
    _require_init(home)
    hq_keys = keys.unlock(home, _passphrase(settings))
    engine = _engine(settings)
    paths = sorted(directory.glob("*.fkb"), key=_order)
    refused = 0
    for path in paths:
        client = f"file:{path.name}"
        try:
            try:
                data = files.read_regular(path, envelope.MAX_ENVELOPE_BYTES)
            except files.TooLarge:
                raise ingest.reject(
                    engine,
                    ingest.HttpProblem("too-large", f"{path.name} is over 4 MiB."),
                    client=client,
                ) from None
            result = ingest.ingest(engine, hq_keys, data, client=client, source="file")
        except ingest.HttpProblem as problem:
            refused += 1
            _refused(path, problem.status, problem.slug, problem.detail, as_json=as_json)
            continue
        except files.UnsafeFile as exc:
            # A link, a FIFO or a device (/dev/zero): never read, reported, the others go on.
            refused += 1
            _refused(path, None, "unsafe-file", exc.message.en, as_json=as_json)
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
        click.echo(f"{len(paths)} file(s), {refused} refused.", err=True)
    if refused:
        sys.exit(EXIT_REFUSED)
