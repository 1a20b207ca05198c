"""``fieldkit visit``: plan and list visits."""

from __future__ import annotations

from datetime import datetime

import click

from fieldkit.cli.output import cli, json_option, print_json
from fieldkit.cli.unlock import officer_option, open_session
from fieldkit.domain.calendar import VisitKind, VisitSession
from fieldkit.service import visits


@click.group()
def visit() -> None:
    """Plan visits (Eazy Passport, Simpatik Saturday, office) and list them."""


@visit.command("create")
@officer_option
@click.option(
    "--kind",
    type=click.Choice([k.value for k in VisitKind]),
    required=True,
    help="eazy (on request, with a coordinator), simpatik (2nd/4th Saturday) or office.",
)
@click.option("--site", required=True, help="Where: the institution, estate or office.")
@click.option(
    "--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), required=True, help="YYYY-MM-DD."
)
@click.option(
    "--session",
    "session_name",
    type=click.Choice([s.value for s in VisitSession]),
    required=True,
    help="pagi (08:00–12:00) or siang (12:00–16:00).",
)
@click.option("--coordinator-name", help="The host's coordinator (required for eazy).")
@click.option("--coordinator-phone", help="The coordinator's mobile number (required for eazy).")
@json_option
def visit_create(
    officer_id: str,
    kind: str,
    site: str,
    on: datetime,
    session_name: str,
    coordinator_name: str | None,
    coordinator_phone: str | None,
    as_json: bool,
) -> None:
    """Plan a visit and print its id."""
    session = open_session(officer_id)
    visit_id = visits.create_visit(
        session,
        kind=kind,
        on=on.date(),
        session_name=session_name,
        site=site,
        coordinator_name=coordinator_name,
        coordinator_phone=coordinator_phone,
    )
    if as_json:
        print_json({"visit_id": visit_id})
    else:
        click.echo(visit_id)


@visit.command("list")
@officer_option
@json_option
def visit_list(officer_id: str, as_json: bool) -> None:
    """List the visits planned on this laptop.

    A visit HQ withdrew is marked with HQ's time and reason; it takes no new applicants.
    """
    s = cli()
    session = open_session(officer_id)
    found = visits.list_visits(session)
    if as_json:
        print_json([v.as_json() for v in found])
        return
    if not found:
        click.echo(s.say("Belum ada kunjungan.", "No visits yet."))
    for v in found:
        click.echo(f"{v.id}  {v.on.isoformat()} {v.session.value:<5} {v.kind.value:<8} {v.site}")
        if v.withdrawal is not None:
            click.echo("    " + v.withdrawal.message(v.id).text(s.lang))
