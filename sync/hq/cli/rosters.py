"""``fieldkit-hq roster``: assign, list and withdraw visits and their rosters."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from fieldkit.settings import Settings
from sync.hq import store
from sync.hq.cli.common import (
    Failed,
    _engine,
    _invalid,
    _print_findings,
    _print_json,
    _read_json_file,
    pass_settings,
)


@click.group()
def roster() -> None:
    """Assign visits and their rosters to devices (delivered as reference data)."""


@roster.command("assign")
@click.option("--device", "device_id", required=True, help="The device that serves the visit.")
@click.option(
    "--visit-json",
    "visit_json",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='A JSON file {"visit": {kind, date, session, site, coordinator_name, '
    'coordinator_phone}, "entries": [{name, birth_date, nik, application_type, …}]}.',
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_settings
def roster_assign(settings: Settings, device_id: str, visit_json: Path, as_json: bool) -> None:
    """Assign a visit and its roster entries to a device.

    Every entry is checked with the same rules as the device's roster import; one bad entry
    refuses the file (exit 2, findings by entry number, no values shown). The device receives
    the visit and entries at its next sync, with the ids printed here. Every assignment is a
    new visit id: a withdrawn visit is never assigned again (exit 1); assign a new one.
    """
    from sync.hq import reference

    raw = _read_json_file(visit_json)
    checked, findings = reference.check_roster_file(raw)
    if checked is None:
        _invalid(findings, "The roster")
        return
    engine = _engine(settings)
    try:
        version, assigned_at = store.assign_roster(
            engine, device_id, checked.visit_id, checked.visit, checked.entries
        )
    except (store.UnknownDevice, store.AssignmentRefused) as exc:
        raise Failed(str(exc)) from None
    _print_findings(checked.warnings)
    result = {
        "device_id": device_id,
        "visit_id": checked.visit_id,
        "entries": len(checked.entries),
        "assigned_at": store.iso(assigned_at),
        "reference_version": version,
    }
    if as_json:
        _print_json(result)
    else:
        click.echo(checked.visit_id)
        click.echo(
            f"{len(checked.entries)} roster entries assigned to device {device_id} "
            f"(reference version {version}).",
            err=True,
        )


@roster.command("list")
@click.option("--device", "device_id", default=None, help="Only this device's visits.")
@click.option("--json", "as_json", is_flag=True, help="Print the assignments as JSON.")
@pass_settings
def roster_list(settings: Settings, device_id: str | None, as_json: bool) -> None:
    """List assigned visits: visit id, device, date, session, site and number of entries.

    Withdrawn visits are listed too, marked WITHDRAWN with their time and reason.
    """
    rows = store.roster_list(_engine(settings), device_id)
    items = [_roster_item(r) for r in rows]
    if as_json:
        _print_json(items)
        return
    if not items:
        click.echo("No visits assigned.")
    for item in items:
        click.echo(
            f"{item['visit_id']}  device {item['device_id']}  {item['date']} {item['session']}  "
            f"{item['site']}  {item['entries']} entries"
        )
        if item["withdrawn_at"] is not None:
            click.echo(f"    WITHDRAWN {item['withdrawn_at']}: {item['withdraw_reason']}")


def _roster_item(row: dict[str, Any]) -> dict[str, Any]:
    """One assignment as ``roster list`` shows it."""
    withdrawn_at = row.get("withdrawn_at")
    return {
        "visit_id": row["visit_id"],
        "device_id": row["device_id"],
        "assigned_at": store.iso(row["assigned_at"]),
        "date": row["visit"].get("date"),
        "session": row["visit"].get("session"),
        "site": row["visit"].get("site"),
        "entries": len(row["entries"]),
        "withdrawn_at": store.iso(withdrawn_at) if withdrawn_at is not None else None,
        "withdraw_reason": row.get("withdraw_reason"),
    }


MAX_REASON_CHARS = 200
_NIK_LIKE = re.compile(r"\d{16}")


def _withdraw_reason(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """A reason is one line of 1–200 characters that holds nothing like a NIK."""
    reason = " ".join(value.split())
    if not reason or len(reason) > MAX_REASON_CHARS:
        raise click.BadParameter(f"give a reason of 1 to {MAX_REASON_CHARS} characters.")
    if _NIK_LIKE.search(reason.replace(" ", "")):
        raise click.BadParameter("the reason looks like it holds a NIK; write no personal data.")
    return reason


@roster.command("withdraw")
@click.argument("visit_id")
@click.option(
    "--reason",
    required=True,
    callback=_withdraw_reason,
    help="Why the visit is taken back (wrong device, cancelled …), 1–200 characters. Officers "
    "see it on the device and it is kept in the audit logs in clear: no personal data.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_settings
def roster_withdraw(settings: Settings, visit_id: str, reason: str, as_json: bool) -> None:
    """Take back an assigned visit (wrong visit or device, or cancelled).

    The device learns it at its next sync: the visit and its roster entries are marked
    withdrawn, new captures into it are refused, and applicants already captured are kept and
    still delivered. The assignment stays listed (WITHDRAWN) and its visit id can never be
    assigned again. Exit 1 for a visit never assigned or already withdrawn.
    """
    engine = _engine(settings)
    try:
        version, withdrawn_at, device_id = store.withdraw_roster(engine, visit_id, reason)
    except store.AssignmentRefused as exc:
        raise Failed(str(exc)) from None
    result = {
        "visit_id": visit_id,
        "device_id": device_id,
        "withdrawn_at": store.iso(withdrawn_at),
        "reason": reason,
        "reference_version": version,
    }
    if as_json:
        _print_json(result)
    else:
        click.echo(
            f"Visit {visit_id} withdrawn from device {device_id} at {store.iso(withdrawn_at)} "
            f"(reference version {version})."
        )
