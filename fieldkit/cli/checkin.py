"""``fieldkit checkin``, ``fieldkit walkin`` and ``fieldkit queue``: arrivals at an open visit."""

from __future__ import annotations

from datetime import datetime

import click

from fieldkit.cli.output import cli, json_option, print_json
from fieldkit.cli.unlock import officer_option, open_session
from fieldkit.domain.counter import WalkInGroup
from fieldkit.domain.findings import Message
from fieldkit.service import checkin as service
from fieldkit.service.errors import NotFound
from fieldkit.service.session import OfficerSession


def _print_arrival(arrival: service.Arrival) -> None:
    s = cli()
    rule = "=" * 28
    click.echo(rule)
    click.echo(f"   {s.say('ANTREAN', 'QUEUE')}   {arrival.queue_label}")
    click.echo(rule)
    if arrival.refer_to_supervisor:
        click.echo(f"!! {s.say('RUJUK KE SUPERVISOR', 'REFER TO SUPERVISOR')} !!")
    click.echo(f"{s.say('Pemohon', 'Applicant')}: {arrival.applicant_id}")
    for warning in arrival.warnings:
        click.echo(warning.text(s.lang), err=True)


def _not_found(query: str) -> NotFound:
    return NotFound(
        Message(
            f"Tidak ada entri daftar yang cocok dengan {query!r} di kunjungan ini.",
            f"No roster entry of this visit matches {query!r}.",
        )
    )


@click.command("checkin")
@officer_option
@click.argument("visit_id", metavar="VISIT")
@click.argument("query", required=False)
@click.option("--nik", help="Find the booking by NIK (16 digits).")
@click.option("--name", "name", help="Find by part of the name (lists the matches).")
@click.option("--entry", "entry_id", help="Check in this roster entry (an id from the list).")
@click.option("--limit", type=click.IntRange(1, 100), default=10, help="Name matches listed.")
@json_option
def checkin(
    officer_id: str,
    visit_id: str,
    query: str | None,
    nik: str | None,
    name: str | None,
    entry_id: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Check an arrival in at an open visit and print their queue number.

    QUERY is what the officer types or the barcode scanner reads: a booking code or a NIK
    checks the person in at once. A part of a name (or --name) only lists the matching
    entries with their ids; check one in with --entry ID.
    """
    s = cli()
    asked = [x for x in (query, nik, name) if x]
    if not asked and not entry_id:
        raise click.UsageError(
            s.say(
                "Beri QUERY, --nik, --name atau --entry.", "Give QUERY, --nik, --name or --entry."
            )
        )
    if len(asked) > 1:
        raise click.UsageError(
            s.say("Pilih satu: QUERY, --nik atau --name.", "Choose one: QUERY, --nik or --name.")
        )
    session = open_session(officer_id)
    if entry_id:
        _check_in(session, visit_id, entry_id, as_json)
        return
    text = asked[0]
    if nik and not (nik.strip().isdigit() and len(nik.strip()) == service.NIK_LENGTH):
        raise click.BadParameter(
            s.say("NIK harus 16 angka.", "A NIK is 16 digits."), param_hint="--nik"
        )
    matches = service.find_arrival(session, visit_id, text, limit=limit)
    if not matches:
        raise _not_found(text)
    exact = [m for m in matches if m.matched_by != "name"]
    if name is None and len(exact) == 1:
        _check_in(session, visit_id, exact[0].entry_id, as_json)
        return
    if as_json:
        print_json({"checked_in": None, "matches": [m.as_json() for m in matches]})
        return
    for m in matches:
        code = m.booking_code or "-"
        born = m.birth_date or "-"
        click.echo(f"{m.entry_id}  {m.name:<32} {born}  {code:<12} {m.state}")
    click.echo(
        s.say(
            f"{len(matches)} cocok. Check-in: fieldkit checkin {visit_id} --entry ID",
            f"{len(matches)} match(es). To check in: fieldkit checkin {visit_id} --entry ID",
        ),
        err=True,
    )


def _check_in(session: OfficerSession, visit_id: str, entry_id: str, as_json: bool) -> None:
    arrival = service.check_in(session, visit_id, entry_id)
    if as_json:
        print_json({"checked_in": arrival.as_json(), "matches": []})
    else:
        _print_arrival(arrival)


@click.command("walkin")
@officer_option
@click.argument("visit_id", metavar="VISIT")
@click.option("--name", required=True, help="Full name as on the KTP.")
@click.option(
    "--birth-date", type=click.DateTime(formats=["%Y-%m-%d"]), required=True, help="YYYY-MM-DD."
)
@click.option("--nik", help="NIK (16 digits), when the person has one (checked on the watchlist).")
@click.option("--phone", help="Mobile number.")
@click.option("--type", "application_type", help="new or expired (replacement).")
@click.option(
    "--group",
    type=click.Choice([g.value for g in WalkInGroup]),
    required=True,
    help="elderly (60+), disability, under_five, or simpatik_quota (a Simpatik Saturday).",
)
@click.option("--reason", required=True, help="What the officer saw (recorded with the group).")
@json_option
def walkin(
    officer_id: str,
    visit_id: str,
    name: str,
    birth_date: datetime,
    nik: str | None,
    phone: str | None,
    application_type: str | None,
    group: str,
    reason: str,
    as_json: bool,
) -> None:
    """Let someone without a booking in and print their queue number.

    The priority groups may always walk in; anyone else only on a Paspor Simpatik Saturday,
    while the day's quota lasts. A refusal prints the reason to read out and exits 1.
    """
    session = open_session(officer_id)
    person: dict[str, object] = {"name": name, "birth_date": birth_date.date().isoformat()}
    for key, value in (("nik", nik), ("phone", phone), ("application_type", application_type)):
        if value:
            person[key] = value
    arrival = service.walk_in(session, visit_id, person, group=group, reason=reason)
    if as_json:
        print_json(arrival.as_json())
    else:
        _print_arrival(arrival)


@click.command("queue")
@officer_option
@click.argument("visit_id", metavar="VISIT")
@click.option("--all", "include_done", is_flag=True, help="Also those already decided.")
@json_option
def queue(officer_id: str, visit_id: str, include_done: bool, as_json: bool) -> None:
    """Show the visit's queue: priority numbers first, then regular ones (audited)."""
    s = cli()
    session = open_session(officer_id)
    items = service.queue_view(session, visit_id, include_done=include_done)
    if as_json:
        print_json([i.as_json() for i in items])
        return
    if not items:
        click.echo(s.say("Antrean kosong.", "The queue is empty."))
    for i in items:
        refer = (
            s.say("  RUJUK KE SUPERVISOR", "  REFER TO SUPERVISOR") if i.refer_to_supervisor else ""
        )
        walk = " (walk-in)" if i.walk_in else ""
        click.echo(f"{i.label}  {i.state:<17} {i.name}{walk}{refer}")
