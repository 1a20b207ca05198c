"""``fieldkit-hq keys``: list, rotate and retire HQ's encryption keys."""

from __future__ import annotations

import click

from fieldkit.settings import Settings
from sync.hq import keys, store
from sync.hq.cli.common import (
    Failed,
    _engine,
    _passphrase,
    _print_json,
    _require_init,
    pass_settings,
)


@click.group("keys")
def keys_group() -> None:
    """HQ's encryption keys: list them, rotate to a new one, retire an old one."""


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the keys as JSON.")
@pass_settings
def keys_list(settings: Settings, as_json: bool) -> None:
    """List HQ's encryption keys and its signing key id (public parts only; no passphrase)."""
    home = settings.hq_home
    _require_init(home)
    summary = keys.public_summary(home)
    if as_json:
        _print_json(summary)
        return
    for entry in summary["encryption_keys"]:  # type: ignore[attr-defined]
        state = (
            "current"
            if entry["kid"] == summary["current_kid"]
            else f"retired {entry['retired_at']}"
            if entry["retired_at"]
            else "accepted"
        )
        click.echo(f"encryption {entry['kid']}  created {entry['created_at']}  {state}")
    click.echo(f"signing    {summary['signing_kid']}")


@keys_group.command("rotate")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_settings
def keys_rotate(settings: Settings, as_json: bool) -> None:
    """Make a new current encryption key; batches sealed to older keys stay accepted.

    Devices receive the new key with their next reference data (signed with HQ's unchanged
    signing key) and seal later batches to it. Restart `serve` afterwards: until then its
    workers answer reference requests with 503 keys-changing, which devices retry.
    """
    home = settings.hq_home
    _require_init(home)
    rotated = keys.rotate_encryption_key(home, _passphrase(settings))
    version = store.note_hq_keys(_engine(settings), rotated.current_kid)
    result = {"current_kid": rotated.current_kid, "reference_version": version}
    if as_json:
        _print_json(result)
    else:
        click.echo(
            f"HQ key {rotated.current_kid} is now current (reference version {version}). "
            "Restart `fieldkit-hq serve`; retire the old key once every device has synced."
        )


@keys_group.command("retire")
@click.argument("kid")
@click.option(
    "--force",
    is_flag=True,
    help="Retire even though some devices may still hold batches sealed to the key.",
)
@pass_settings
def keys_retire(settings: Settings, kid: str, force: bool) -> None:
    """Stop accepting batches sealed to encryption key KID (never the current one).

    Refused (exit 1) while an active device may still hold batches sealed to KID: one that
    has not yet sent a batch sealed to a newer key, or whose earlier batches have not all
    arrived. Such batches are cut once and would be refused forever.
    """
    home = settings.hq_home
    _require_init(home)
    summary = keys.public_summary(home)
    kids = [str(e["kid"]) for e in summary["encryption_keys"]]  # type: ignore[attr-defined]  # oldest first
    if kid not in kids:
        raise Failed(f"No encryption key {kid}.")
    if kid == summary["current_kid"]:
        raise Failed("The current encryption key cannot be retired; rotate first.")
    blockers = store.retirement_blockers(_engine(settings), kid, kids[kids.index(kid) + 1 :])
    for device_id, reason in blockers:
        click.echo(f"device {device_id}: {reason}", err=True)
    if blockers and not force:
        raise Failed(
            f"{len(blockers)} active device(s) may still send batches sealed to {kid}; "
            "let them sync first (or revoke them, or use --force)."
        )
    keys.retire_encryption_key(home, _passphrase(settings), kid)
    note = f" despite {len(blockers)} device(s) above" if blockers else ""
    click.echo(
        f"HQ key {kid} retired{note}. Restart `fieldkit-hq serve`: running workers keep "
        "accepting it until they restart."
    )
