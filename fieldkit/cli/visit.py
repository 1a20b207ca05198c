"""``fieldkit visit``: plan and list visits; open one on site, pack its kit, sum it up, close it."""

from __future__ import annotations

from datetime import datetime

import click

from fieldkit.cli.output import cli, json_option, print_json
from fieldkit.cli.unlock import officer_option, open_session, read_passphrase
from fieldkit.domain.calendar import VisitKind, VisitSession
from fieldkit.domain.kit import KitGroup
from fieldkit.domain.summary import VisitSummary, summary_lines
from fieldkit.service import closing, kit, visits


@click.group()
def visit() -> None:
    """Plan visits (Eazy Passport, Simpatik Saturday, office), open, pack, sum up and close them."""


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


@visit.command("open")
@officer_option
@click.argument("visit_id")
@click.option(
    "--walk-in-quota",
    type=click.IntRange(min=0),
    default=None,
    help="Simpatik Saturday: walk-ins allowed today (default 40; ignored for other visits).",
)
@json_option
def visit_open(officer_id: str, visit_id: str, walk_in_quota: int | None, as_json: bool) -> None:
    """Open a planned visit on site: it then takes arrivals and counter work."""
    s = cli()
    session = open_session(officer_id)
    opened = visits.open_visit(session, visit_id, walk_in_quota=walk_in_quota)
    life = closing.visit_life(session, visit_id)
    if as_json:
        print_json({**opened.as_json(), **life.as_json()})
        return
    click.echo(
        s.say(
            f"Kunjungan {visit_id} dibuka oleh {life.opened_by} pada {life.opened_at}.",
            f"Visit {visit_id} opened by {life.opened_by} at {life.opened_at}.",
        )
    )
    if life.walk_in_quota is not None:
        click.echo(
            s.say(
                f"Kuota tanpa booking hari ini: {life.walk_in_quota}.",
                f"Walk-in quota today: {life.walk_in_quota}.",
            )
        )


@visit.command("kit")
@officer_option
@click.argument("visit_id")
@click.option("--tick", "ticks", multiple=True, metavar="ITEM", help="Tick an item (repeatable).")
@click.option(
    "--untick", "unticks", multiple=True, metavar="ITEM", help="Untick an item (repeatable)."
)
@json_option
def visit_kit(
    officer_id: str, visit_id: str, ticks: tuple[str, ...], unticks: tuple[str, ...], as_json: bool
) -> None:
    """Show a visit's kit checklist; tick or untick items (who and when are stored).

    The items come from FIELDKIT_KIT_FILE when set, else the packaged list.
    """
    s = cli()
    session = open_session(officer_id)
    kit_file = s.settings.kit_file
    if ticks or unticks:
        checklist = kit.tick_items(session, visit_id, tick=ticks, untick=unticks, kit_file=kit_file)
    else:
        checklist = kit.kit_checklist(session, visit_id, kit_file=kit_file)
    if as_json:
        print_json(checklist.as_json())
        return
    for group in KitGroup:
        lines = [line for line in checklist.lines if line.item.group is group]
        if not lines:
            continue
        click.echo(group.label.text(s.lang) + ":")
        for line in lines:
            mark = "[x]" if line.ticked else "[ ]"
            who = f"  ({line.by}, {line.at})" if line.by else ""
            click.echo(f"  {mark} {line.item.id:<18} {line.item.label.text(s.lang)}{who}")
    done = sum(line.ticked for line in checklist.lines)
    click.echo(
        s.say(
            f"{done} dari {len(checklist.lines)} barang dicentang.",
            f"{done} of {len(checklist.lines)} items ticked.",
        )
    )


def _print_summary(summary: VisitSummary) -> None:
    lang = cli().lang
    for line in summary_lines(summary):
        click.echo(line.text(lang))


@visit.command("summary")
@officer_option
@click.argument("visit_id")
@json_option
def visit_summary(officer_id: str, visit_id: str, as_json: bool) -> None:
    """The day's summary: roster, decisions, missing documents, fees (audited: it names people)."""
    session = open_session(officer_id)
    summary = closing.visit_summary(session, visit_id)
    if as_json:
        print_json(summary.as_json())
        return
    _print_summary(summary)


@visit.command("close")
@officer_option
@click.argument("visit_id")
@click.option(
    "--supervisor",
    "supervisor_id",
    required=True,
    help="The supervisor approving the close; their own passphrase is asked for "
    "(or FIELDKIT_SUPERVISOR_PASSPHRASE).",
)
@json_option
def visit_close(officer_id: str, visit_id: str, supervisor_id: str, as_json: bool) -> None:
    """Close an open visit on a supervisor's approval: no-shows are marked, all queued for HQ.

    Refused while an applicant is checked in but not decided.
    """
    s = cli()
    session = open_session(officer_id)
    summary = closing.approve_close(
        session,
        visit_id,
        supervisor_id,
        lambda: read_passphrase(
            f"Kata sandi supervisor {supervisor_id}",
            f"Passphrase of supervisor {supervisor_id}",
            given=s.settings.supervisor_passphrase,
        ),
        allow_test_kdf=s.settings.insecure_test_kdf,
    )
    life = closing.visit_life(session, visit_id)
    if as_json:
        print_json({**life.as_json(), "summary": summary.as_json()})
        return
    click.echo(
        s.say(
            f"Kunjungan {visit_id} ditutup, disetujui oleh {supervisor_id} pada {life.closed_at}; "
            f"{summary.no_shows} tidak datang. Semua data menunggu dikirim ke HQ.",
            f"Visit {visit_id} closed, approved by {supervisor_id} at {life.closed_at}; "
            f"{summary.no_shows} no-shows. Everything is queued for HQ.",
        )
    )
    _print_summary(summary)


@visit.command("correct")
@officer_option
@click.argument("visit_id")
@click.option("--reason", required=True, help="Why the closed visit is corrected (stored).")
@json_option
def visit_correct(officer_id: str, visit_id: str, reason: str, as_json: bool) -> None:
    """Record a correction on a closed visit, with a reason (supervisors only)."""
    s = cli()
    session = open_session(officer_id)
    life = closing.correct_visit(session, visit_id, reason)
    if as_json:
        print_json(life.as_json())
        return
    click.echo(
        s.say(
            f"Koreksi dicatat pada kunjungan {visit_id} oleh {officer_id}.",
            f"Correction recorded on visit {visit_id} by {officer_id}.",
        )
    )
