"""``fieldkit officer``: who may unlock the vault."""

from __future__ import annotations

import click

from fieldkit.cli.output import cli, json_option, print_json
from fieldkit.cli.unlock import officer_option, open_session, read_passphrase
from fieldkit.service import officers


@click.group()
def officer() -> None:
    """Add, remove and list officers, and change passphrases."""


@officer.command("list")
@officer_option
@json_option
def officer_list(officer_id: str, as_json: bool) -> None:
    """List the officers who can unlock this vault."""
    session = open_session(officer_id)
    found = officers.list_officers(session)
    if as_json:
        print_json([{"officer_id": o.officer_id, "name": o.name, "role": o.role} for o in found])
        return
    for o in found:
        click.echo(f"{o.officer_id:<12} {o.role:<11} {o.name}")


@officer.command("add")
@officer_option
@click.option("--id", "new_id", required=True, help="Id of the new officer.")
@click.option("--name", required=True, help="Full name of the new officer.")
@click.option(
    "--role",
    type=click.Choice(officers.ROLES),
    default="officer",
    show_default=True,
    help="officer, or supervisor (may manage officers).",
)
def officer_add(officer_id: str, new_id: str, name: str, role: str) -> None:
    """Give a new officer a key slot (supervisors only).

    The new officer's passphrase comes from a prompt (asked twice) or FIELDKIT_NEW_PASSPHRASE.
    """
    s = cli()
    session = open_session(officer_id)
    passphrase = read_passphrase(
        f"Kata sandi untuk {new_id}",
        f"Passphrase for {new_id}",
        given=s.settings.new_passphrase,
        confirm=True,
    )
    officers.add_officer(session, s.settings, new_id, name, role, passphrase)
    click.echo(
        s.say(f"Petugas {new_id} ditambahkan ({role}).", f"Officer {new_id} added ({role}).")
    )


@officer.command("remove")
@officer_option
@click.argument("removed_id")
def officer_remove(officer_id: str, removed_id: str) -> None:
    """Remove an officer and rotate the data key (supervisors only).

    Every record is re-encrypted under a new key the removed officer never had. If the
    laptop is interrupted, the rotation finishes at the next unlock.
    """
    s = cli()
    session = open_session(officer_id)
    officers.remove_officer(session, removed_id)
    click.echo(
        s.say(
            f"Petugas {removed_id} dihapus; kunci data diganti.",
            f"Officer {removed_id} removed; the data key was rotated.",
        )
    )


@officer.command("passwd")
@officer_option
def officer_passwd(officer_id: str) -> None:
    """Change your own passphrase.

    The current passphrase comes from a prompt or FIELDKIT_PASSPHRASE, the new one from a
    prompt (asked twice) or FIELDKIT_NEW_PASSPHRASE.
    """
    s = cli()
    session = open_session(officer_id)
    new = read_passphrase(
        "Kata sandi baru", "New passphrase", given=s.settings.new_passphrase, confirm=True
    )
    officers.change_passphrase(session, s.settings, new)
    click.echo(s.say("Kata sandi diganti.", "Passphrase changed."))
