"""``fieldkit-hq device``: enroll, list and revoke field devices."""

from __future__ import annotations

import click

from fieldkit.settings import Settings
from sync.hq import store
from sync.hq.cli.common import (
    Failed,
    _engine,
    _print_json,
    _ranges,
    parse_duration,
    pass_settings,
)


@click.group()
def device() -> None:
    """Enroll, list and revoke field devices."""


@device.command("enroll-code")
@click.option(
    "--expires",
    default="24h",
    show_default=True,
    metavar="DURATION",
    help="How long the code stays valid: 30m, 24h, 7d …",
)
@click.option("--json", "as_json", is_flag=True, help="Print the code and expiry as JSON.")
@pass_settings
def enroll_code(settings: Settings, expires: str, as_json: bool) -> None:
    """Make a one-time enrollment code for one device.

    Read the code to the device's supervisor; it works once, until it expires. HQ stores only
    its hash.
    """
    lifetime = parse_duration(expires)
    engine = _engine(settings)
    code, expires_at = store.create_enroll_code(engine, lifetime)
    if as_json:
        _print_json({"code": code, "expires_at": store.iso(expires_at)})
    else:
        click.echo(code)
        click.echo(f"valid until {store.iso(expires_at)} (one device, once)", err=True)


@device.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the devices as JSON.")
@pass_settings
def device_list(settings: Settings, as_json: bool) -> None:
    """List enrolled devices with their batches and missing sequence numbers."""
    statuses = store.device_statuses(_engine(settings))
    if as_json:
        _print_json([s.as_json() for s in statuses])
        return
    if not statuses:
        click.echo("No devices enrolled.")
        return
    for s in statuses:
        d = s.device
        state = f"REVOKED {store.iso(d.revoked_at)}" if d.revoked_at else "active"
        missing = f", missing {_ranges(s.missing)}" if s.missing else ""
        click.echo(
            f"{d.device_id}  {state}  enrolled {store.iso(d.enrolled_at)}  "
            f"batches {s.batches} (last seq {s.last_seq or '-'}{missing})  records {s.records}"
        )
        if d.revoke_reason:
            click.echo(f"    reason: {d.revoke_reason}")


@device.command("revoke")
@click.argument("device_id")
@click.option("--reason", default=None, help="Why the device is revoked (lost, stolen …).")
@pass_settings
def device_revoke(settings: Settings, device_id: str, reason: str | None) -> None:
    """Revoke a device: HQ refuses its batches from now on (403 device-revoked)."""
    revoked = store.revoke_device(_engine(settings), device_id, reason)
    if revoked is None:
        raise Failed(f"No device {device_id}.")
    click.echo(f"Device {device_id} revoked at {store.iso(revoked.revoked_at)}.")  # type: ignore[arg-type]
