"""``fieldkit applicant``: capture applicants from JSON and show one."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping

import click

from fieldkit.cli.output import EXIT_INVALID, cli, json_option, print_json
from fieldkit.cli.unlock import officer_option, open_session
from fieldkit.domain.applicant import LABELS
from fieldkit.domain.display import RECORD_FIELD_LABELS, value_label
from fieldkit.domain.findings import Lang
from fieldkit.domain.money import format_rupiah
from fieldkit.service import applicants


@click.group()
def applicant() -> None:
    """Capture applicants and show their records."""


def read_applicants(stream: click.utils.LazyFile) -> list[object] | str:
    """Read one JSON object, a JSON array, or JSON Lines; return the items or an error text."""
    text = stream.read()
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    else:
        return whole if isinstance(whole, list) else [whole]
    items: list[object] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError as exc:
            return f"{number}: {exc.msg}"
    return items


@applicant.command("add")
@officer_option
@click.option("--visit", "visit_id", required=True, help="Id of the visit the applicants attend.")
@click.option(
    "--json",
    "source",
    type=click.File("r", encoding="utf-8"),
    required=True,
    help="File with one applicant object, a JSON array, or JSON Lines ('-' = standard input). "
    "Format: docs/applicant-json.md.",
)
def applicant_add(officer_id: str, visit_id: str, source: click.utils.LazyFile) -> None:
    """Capture applicants as one action and print their ids, one per line.

    Every applicant is checked first; if any is invalid, the field-level errors are printed,
    nothing is stored and the exit code is 2. A visit HQ withdrew takes no new applicants
    (exit 1, with HQ's reason); applicants already captured there stay as they are.
    """
    s = cli()
    items = read_applicants(source)
    if isinstance(items, str):
        click.echo(
            s.say(f"JSON tidak sah pada baris {items}", f"Invalid JSON on line {items}"), err=True
        )
        sys.exit(EXIT_INVALID)
    session = open_session(officer_id)
    for applicant_id in applicants.add_applicants(session, visit_id, items):
        click.echo(applicant_id)


@applicant.command("show")
@officer_option
@click.argument("applicant_id")
@click.option("--history", is_flag=True, help="Show every version, oldest first.")
@json_option
def applicant_show(officer_id: str, applicant_id: str, history: bool, as_json: bool) -> None:
    """Show an applicant's record (each view is written to the audit log)."""
    s = cli()
    session = open_session(officer_id)
    versions = (
        applicants.applicant_history(session, applicant_id)
        if history
        else [applicants.show_applicant(session, applicant_id)]
    )
    documents = [r.as_json() for r in versions]
    if as_json:
        print_json(documents if history else documents[0])
        return
    for record in versions:
        click.echo(
            s.say(
                f"Pemohon {record.id} versi {record.version} ({record.state}, {record.at}, "
                f"petugas {record.officer_id})",
                f"Applicant {record.id} version {record.version} ({record.state}, {record.at}, "
                f"officer {record.officer_id})",
            )
        )
        for label, value in describe(record.fields, s.lang):
            click.echo(f"  {label}: {value}")


def describe(data: Mapping[str, object], lang: Lang) -> list[tuple[str, str]]:
    """An applicant's fields as (label, value) lines in the officer's language.

    The labels and the words for stored codes (application type, passport kind, sex, …) are
    the domain's (``fieldkit.domain.applicant.LABELS``, :mod:`fieldkit.domain.display`); a
    field or value they do not know is shown as stored.
    """
    lines = []
    for key, value in data.items():
        if value in (None, "", []):
            continue
        named = LABELS.get(key) or RECORD_FIELD_LABELS.get(key)
        label = named.text(lang) if named is not None else key
        words = value_label(key, value)
        if key == "fee" and isinstance(value, dict):
            text = f"{format_rupiah(int(value['total']))} ({value['regulation']})"
        elif words is not None:
            text = words.text(lang)
        elif isinstance(value, bool):
            text = ("ya" if value else "tidak") if lang == "id" else ("yes" if value else "no")
        elif isinstance(value, str | int):
            text = str(value)
        else:
            text = json.dumps(value, ensure_ascii=False)
        lines.append((label, text))
    return lines


# The counter's commands (fieldkit.cli.counter) join this group; imported last because that
# module is written on its own and only registered here.
from fieldkit.cli.counter import COUNTER_COMMANDS  # noqa: E402

for _command in COUNTER_COMMANDS:
    applicant.add_command(_command)
