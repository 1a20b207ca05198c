"""``fieldkit applicant update|decide|checklist|resolve``: the applicant at the counter.

The commands join the ``applicant`` group (registered at the bottom of
:mod:`fieldkit.cli.applicant`). A refusal by the rules exits 2 with every finding; with
``--json`` the error document also carries the findings at its top level (``findings``), so
a script reads the codes in one place for every counter command.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from fieldkit.cli.output import EXIT_INVALID, cli, error_json, json_option, print_json
from fieldkit.cli.unlock import officer_option, open_session
from fieldkit.domain.applicant import field_from_text
from fieldkit.domain.applications import Document
from fieldkit.domain.counter import DecisionKind
from fieldkit.domain.decision import REJECTION_REASON_CODES
from fieldkit.domain.findings import Finding
from fieldkit.domain.money import format_rupiah
from fieldkit.service import counter
from fieldkit.service.applicants import Applicant
from fieldkit.service.errors import InvalidInput

_DOCUMENTS = click.Choice([d.value for d in Document])


def _settings(pairs: Sequence[str]) -> dict[str, object]:
    changes: dict[str, object] = {}
    for pair in pairs:
        field, sep, text = pair.partition("=")
        if not sep or not field.strip():
            raise click.BadParameter(f"{pair!r}: FIELD=VALUE", param_hint="--set")
        changes[field.strip()] = field_from_text(field.strip(), text)
    return changes


def _refused(exc: InvalidInput) -> None:
    """Report a refusal by the rules (exit 2), with the findings also at the JSON's top."""
    s = cli()
    document = error_json("invalid-input", exc.text(s.lang), exc.exit_code, exc.findings, s.lang)  # type: ignore[arg-type]
    document["findings"] = document["error"]["findings"]  # type: ignore[index]
    print_json(document)
    sys.exit(EXIT_INVALID)


def _print_open(findings: Sequence[Finding]) -> None:
    s = cli()
    if not findings:
        click.echo(s.say("Siap diterima.", "Ready to accept."))
        return
    click.echo(s.say("Belum dapat diterima:", "Not ready to accept:"))
    for finding in findings:
        click.echo(f"  - [{finding.code}] {finding.text(s.lang)}")


def _print_saved(saved: Applicant) -> None:
    s = cli()
    click.echo(
        s.say(
            f"Pemohon {saved.id} versi {saved.version} disimpan ({saved.state}).",
            f"Applicant {saved.id} version {saved.version} saved ({saved.state}).",
        )
    )


@click.command("update")
@officer_option
@click.argument("applicant_id")
@click.option(
    "--set",
    "pairs",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A person field (name, nik, kk, sex, birth_date, birth_place, phone, married, "
    "application_type, old_passport_issued, product, validity_years, booking_code); "
    "FIELD= clears it.",
)
@click.option("--seen", multiple=True, type=_DOCUMENTS, help="An original the officer saw.")
@click.option("--missing", multiple=True, type=_DOCUMENTS, help="An original not brought.")
@click.option("--na", multiple=True, type=_DOCUMENTS, help="A conditional line not applicable.")
@click.option("--billing-code", help="The SIMPONI billing code (15 digits).")
@click.option("--amount", type=click.IntRange(min=0), help="Billed rupiah (default: the fee).")
@click.option("--paid", is_flag=True, help="The billing is paid (give --ntpn).")
@click.option("--ntpn", help="The NTPN on the payment receipt (16 letters and digits).")
@click.option("--biometrics", "biometrics_ref", help="The biometrics station's reference.")
@click.option("--notes", help="Interview notes (replace the notes held).")
@click.option("--ack", "acks", multiple=True, metavar="CODE", help="Acknowledge a warning.")
@click.option("--correction-reason", help="A supervisor's correction of a closed visit: why.")
@json_option
def applicant_update(
    officer_id: str,
    applicant_id: str,
    pairs: tuple[str, ...],
    seen: tuple[str, ...],
    missing: tuple[str, ...],
    na: tuple[str, ...],
    billing_code: str | None,
    amount: int | None,
    paid: bool,
    ntpn: str | None,
    biometrics_ref: str | None,
    notes: str | None,
    acks: tuple[str, ...],
    correction_reason: str | None,
    as_json: bool,
) -> None:
    """Record the counter's work on a checked-in applicant: one new version.

    Person fields, the originals seen, missing or not applicable, the billing and payment,
    the biometrics reference and notes; warnings acknowledged by code. Every change is checked
    first: an error prints every finding, stores nothing and exits 2. Then lists what still
    stands between the applicant and an acceptance.
    """
    changes = _settings(pairs)
    documents = {d: "seen" for d in seen} | {d: "missing" for d in missing}
    documents |= {d: "not_applicable" for d in na}
    if documents:
        changes["documents"] = documents
    payment: dict[str, object] = {}
    if billing_code is not None:
        payment["billing_code"] = billing_code
    if amount is not None:
        payment["amount"] = amount
    if paid:
        payment["paid"] = True
    if ntpn is not None:
        payment["ntpn"] = ntpn
    if payment:
        changes["payment"] = payment
    if biometrics_ref is not None:
        changes["biometrics_ref"] = biometrics_ref
    if notes is not None:
        changes["notes"] = notes
    session = open_session(officer_id)
    try:
        saved = counter.update_applicant(
            session,
            applicant_id,
            changes,
            acknowledge=acks,
            correction_reason=correction_reason,
        )
    except InvalidInput as exc:
        if not as_json:
            raise
        _refused(exc)
    still = counter.still_open(session, saved)
    if as_json:
        print_json(
            {
                "ok": True,
                "applicant": saved.as_json(),
                "ready_to_accept": not still,
                "open": [f.as_dict(cli().lang) for f in still],
            }
        )
        return
    _print_saved(saved)
    _print_open(still)


@click.command("decide")
@officer_option
@click.argument("applicant_id")
@click.argument("kind", type=click.Choice([k.value for k in DecisionKind]))
@click.option(
    "--reason",
    help="rejected: one of " + ", ".join(REJECTION_REASON_CODES) + "; referred: why, in words.",
)
@click.option("--text", help="Free text (required with --reason other).")
@click.option("--missing", multiple=True, type=_DOCUMENTS, help="pending_documents: a document.")
@click.option("--due", metavar="YYYY-MM-DD", help="pending_documents: bring them by (+14 days).")
@click.option("--correction-reason", help="A supervisor's correction of a closed visit: why.")
@json_option
def applicant_decide(
    officer_id: str,
    applicant_id: str,
    kind: str,
    reason: str | None,
    text: str | None,
    missing: tuple[str, ...],
    due: str | None,
    correction_reason: str | None,
    as_json: bool,
) -> None:
    """Decide: accepted, pending_documents, rejected or referred (to the supervisor).

    An acceptance needs every required original seen, a valid billing code paid with its
    NTPN, the biometrics reference, the person complete, every warning acknowledged and any
    watchlist match cleared; otherwise every missing item is printed and the exit code is 2.
    A closed visit refuses (exit 1).
    """
    session = open_session(officer_id)
    try:
        saved = counter.decide(
            session,
            applicant_id,
            kind,
            reason=reason,
            text=text,
            missing=list(missing) or None,
            due=due,
            correction_reason=correction_reason,
        )
    except InvalidInput as exc:
        if not as_json:
            raise
        _refused(exc)
    if as_json:
        print_json({"ok": True, "applicant": saved.as_json(), "decision": saved.fields["decision"]})
        return
    _print_saved(saved)


def _mark(state: str | None) -> str:
    return {"seen": "[x]", "missing": "[!]", "not_applicable": "[-]"}.get(str(state), "[ ]")


@click.command("checklist")
@officer_option
@click.argument("applicant_id")
@json_option
def applicant_checklist(officer_id: str, applicant_id: str, as_json: bool) -> None:
    """Show the documents checklist, the fee, the payment and what is still missing.

    Each line of the checklist with the state of its originals, and what stands between the
    applicant and an acceptance (audited as a view).
    """
    s = cli()
    session = open_session(officer_id)
    view = counter.counter_view(session, applicant_id)
    if as_json:
        print_json(view.as_json(s.lang))
        return
    click.echo(
        s.say(
            f"Pemohon {view.applicant.id} ({view.applicant.state})",
            f"Applicant {view.applicant.id} ({view.applicant.state})",
        )
    )
    if view.checklist is None:
        click.echo(
            s.say(
                "  Daftar dokumen: isi jenis permohonan dan tanggal lahir dulu.",
                "  Documents: fill in the application type and the birth date first.",
            )
        )
    else:
        for line in view.checklist:
            states = [state for _, state in line.states]
            shown = next((x for x in ("seen", "not_applicable", "missing") if x in states), None)
            click.echo(f"  {_mark(shown)} {line.requirement.text(s.lang)}")
    if view.fee is not None:
        click.echo(
            f"  {s.say('Tarif', 'Fee')}: {format_rupiah(int(view.fee['total']))} "  # type: ignore[call-overload]
            f"({view.fee['regulation']})"
        )
    if view.payment is not None:
        state = s.say("lunas", "paid") if view.payment.get("paid") else s.say("belum", "unpaid")
        click.echo(f"  Billing {view.payment.get('billing_code')}: {state}")
    for warning in view.warnings:
        click.echo(f"  ! [{warning.code}] {warning.text(s.lang)}")
    _print_open(view.open)


@click.command("resolve")
@officer_option
@click.argument("applicant_id")
@click.argument("outcome", type=click.Choice(list(counter.WATCHLIST_OUTCOMES)))
@click.option("--reason", required=True, help="What the supervisor checked.")
@json_option
def applicant_resolve(
    officer_id: str, applicant_id: str, outcome: str, reason: str, as_json: bool
) -> None:
    """Resolve a possible watchlist match: cleared or confirmed (supervisors only).

    An officer who is not a supervisor is refused (exit 1).
    """
    session = open_session(officer_id)
    saved = counter.resolve_watchlist(session, applicant_id, outcome, reason)
    if as_json:
        print_json({"ok": True, "applicant": saved.as_json()})
        return
    _print_saved(saved)


COUNTER_COMMANDS = (applicant_update, applicant_decide, applicant_checklist, applicant_resolve)
