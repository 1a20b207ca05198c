"""``fieldkit-hq fees``, ``watchlist`` and ``officer``: reference data published to devices."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from fieldkit.settings import Settings
from sync.hq import store
from sync.hq.cli.common import (
    EXIT_USAGE,
    Failed,
    _engine,
    _invalid,
    _print_findings,
    _print_json,
    _read_json_file,
    pass_settings,
)


@click.group()
def fees() -> None:
    """Publish the PNBP fee schedules devices use for new captures."""


@fees.command("publish")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_settings
def fees_publish(settings: Settings, file: Path, as_json: bool) -> None:
    """Publish FILE (the format of fieldkit's data/fees.json) to every device.

    Checked with the device's own fee rules; any error refuses the file (exit 2). It replaces
    the schedules devices use: list every schedule still needed, not only the newest.
    """
    from sync.hq import reference

    checked = reference.check_fees(_read_json_file(file))
    if checked.value is None:
        _invalid([(0, f) for f in checked.findings], "The fee data")
        return
    _print_findings([(0, f) for f in checked.warnings])
    version, published_at = store.publish_fees(_engine(settings), checked.value)
    schedules = [s["regulation"] for s in checked.value["schedules"]]
    result = {
        "schedules": schedules,
        "published_at": store.iso(published_at),
        "reference_version": version,
    }
    if as_json:
        _print_json(result)
    else:
        click.echo(
            f"Published {len(schedules)} fee schedule(s) ({', '.join(schedules)}); "
            f"reference version {version}."
        )


@click.group()
def watchlist() -> None:
    """The travel-ban watchlist: devices get a weak, slow form; HQ screens with the full one."""


@watchlist.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_settings
def watchlist_import(settings: Settings, file: Path, as_json: bool) -> None:
    """Replace the watchlist with the NIKs in FILE, one a line (# comments, blanks skipped).

    HQ keeps only HMAC-SHA256 digests under a fresh screening key that never leaves HQ (every
    applicant received is re-screened against them at ingest and a hit raises a
    ``watchlist-hit`` flag); devices are sent truncated Argon2id tags under a fresh salt, so a
    device hit is only a possible match. The NIKs are neither stored nor printed. Hashing
    takes about 60 ms of CPU per NIK, spread over the cores. A line that is not 16 digits
    refuses the file (exit 2, line numbers only).
    """
    from sync.hq import reference, screening

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"{file} is not a readable UTF-8 text file ({exc}).") from None
    found = reference.read_watchlist(text)
    if found.bad_lines:
        shown = ", ".join(str(n) for n in found.bad_lines[:20])
        more = f" and {len(found.bad_lines) - 20} more" if len(found.bad_lines) > 20 else ""
        click.echo(f"fieldkit-hq: lines {shown}{more} are not 16-digit NIKs.", err=True)
        click.echo("fieldkit-hq: the watchlist was not changed.", err=True)
        sys.exit(EXIT_USAGE)
    if not found.niks:
        click.echo("fieldkit-hq: the file holds no NIK; the watchlist was not changed.", err=True)
        sys.exit(EXIT_USAGE)
    version, published = screening.publish_watchlist(_engine(settings), found.niks)
    rate = len(published["tags"]) / 2 ** published["bits"]
    if as_json:
        _print_json(
            {
                "entries": len(found.niks),
                "reference_version": version,
                "bits": published["bits"],
                "device_false_positive_rate": rate,
            }
        )
    else:
        click.echo(
            f"Watchlist replaced: {len(found.niks)} NIK(s); reference version {version}. "
            f"Devices keep {published['bits']}-bit tags: about {rate:.2%} of applicants not on "
            "the list will show a possible match there (HQ re-screens every applicant)."
        )


@click.group()
def officer() -> None:
    """Revoke officers: their slots stop unlocking on devices after the next sync."""


@officer.command("revoke")
@click.argument("officer_id")
@click.option(
    "--device",
    "device_id",
    default=None,
    help="Only on this device (officer ids are per device); default: on every device.",
)
@click.option("--reason", default=None, help="Why the officer is revoked.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_settings
def officer_revoke(
    settings: Settings, officer_id: str, device_id: str | None, reason: str | None, as_json: bool
) -> None:
    """Revoke OFFICER_ID: devices refuse to unlock with that officer's slot after they sync."""
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,32}", officer_id):
        raise click.BadParameter("an officer id is 1–32 letters, digits, dots, dashes or _.")
    engine = _engine(settings)
    if device_id is not None:
        with store.reading(engine) as conn:
            if store.get_device(conn, device_id) is None:
                raise Failed(f"No device {device_id}.")
    revoked_at, new = store.revoke_officer(engine, officer_id, device_id or "*", reason)
    where = f"device {device_id}" if device_id else "every device"
    if as_json:
        _print_json(
            {
                "officer_id": officer_id,
                "scope": device_id or "*",
                "revoked_at": store.iso(revoked_at),
                "new": new,
            }
        )
    elif new:
        click.echo(f"Officer {officer_id} revoked on {where} at {store.iso(revoked_at)}.")
    else:
        click.echo(
            f"Officer {officer_id} was already revoked on {where} ({store.iso(revoked_at)})."
        )
