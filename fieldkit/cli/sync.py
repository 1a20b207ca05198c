"""``fieldkit enroll`` and ``fieldkit sync``: deliver captured data to HQ, online or by USB."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fieldkit.cli.check import check
from fieldkit.cli.output import (
    EXIT_FAILED,
    EXIT_INTEGRITY,
    EXIT_OK,
    ProgressBar,
    cli,
    json_option,
    print_json,
)
from fieldkit.cli.unlock import OFFICER_ENV, default_officer, officer_option, open_session
from fieldkit.service import sync as sync_service
from fieldkit.service.errors import EXIT_PARTIAL, EXIT_UNTRUSTED, HqRefused, HqUntrusted
from fieldkit.service.status import sync_status as read_sync_status
from fieldkit.service.sync import SyncReport

SYNC_EPILOG = """\b
Exit codes: 0 every batch acknowledged by HQ; 1 refused (not enrolled, device
revoked, a batch refused by HQ) or not allowed; 2 usage error; 3 integrity
failure (HQ's signature on a receipt or checkpoint does not verify, or a stored
record does not authenticate); 4 partial: HQ still unreachable after the
retries, or interrupted (the data is kept; run sync again or use
'fieldkit sync export'). Details: docs/sync.md."""


@click.command()
@officer_option
@click.option(
    "--hq",
    "hq_url",
    required=True,
    help="HQ's address, e.g. https://hq.example.go.id (plain http only to this machine).",
)
@click.option(
    "--code",
    required=True,
    help="The one-time enrollment code HQ gave (fieldkit-hq device enroll-code).",
)
@click.option(
    "--allow-http",
    is_flag=True,
    help="Allow plain http to another machine (a lab network only: HQ's keys could be forged).",
)
@json_option
def enroll(officer_id: str, hq_url: str, code: str, allow_http: bool, as_json: bool) -> None:
    """Enroll this laptop with HQ and pin HQ's keys (supervisors only).

    Sends the device id, vault id and device public key with the one-time code; HQ answers
    with its encryption and signing keys, which are stored in the vault and used for every
    later batch and receipt. Audited. HQ's TLS certificate must verify against the system's
    CAs, or against hq_ca_bundle (FIELDKIT_HQ_CA_BUNDLE: HQ's CA or its own certificate);
    otherwise nothing is sent (exit 3).
    """
    s = cli()
    sync_service.check_hq_url(hq_url, allow_http=allow_http)  # a bad address before the prompt
    session = open_session(officer_id)
    pinned = sync_service.enroll(
        session, hq_url, code, allow_http=allow_http, ca_bundle=s.settings.hq_ca_bundle
    )
    if as_json:
        print_json(
            {
                "device_id": session.device_id,
                "hq_url": pinned.hq_url,
                "hq_kid": pinned.hq_kid,
                "enrolled_at": pinned.enrolled_at,
            }
        )
        return
    click.echo(
        s.say(
            f"Perangkat {session.device_id} terdaftar di {pinned.hq_url} "
            f"(kunci HQ {pinned.hq_kid}).",
            f"Device {session.device_id} enrolled with {pinned.hq_url} (HQ key {pinned.hq_kid}).",
        )
    )


@click.group(invoke_without_command=True, epilog=SYNC_EPILOG)
@click.option(
    "--officer",
    "officer_id",
    default=default_officer,
    help=f"Officer id that unlocks the vault (or {OFFICER_ENV}).",
)
@click.option(
    "--once",
    is_flag=True,
    help="One pass: give up after a few tries per request instead of waiting for HQ.",
)
@click.option(
    "--flush",
    is_flag=True,
    help="Also send audit entries that otherwise wait for the next data (unlock, lock, sync).",
)
@click.option("--hq", "hq_url", help="Reach HQ at this address instead of the enrolled one.")
@json_option
@click.pass_context
def sync(
    ctx: click.Context,
    officer_id: str | None,
    once: bool,
    flush: bool,
    hq_url: str | None,
    as_json: bool,
) -> None:
    """Send everything HQ has not acknowledged, as sealed batches, and store HQ's receipts.

    Asks HQ which batches it holds, resends unacknowledged batches byte for byte (HQ
    deduplicates them), cuts new batches of up to 500 items and verifies every receipt with
    the HQ key pinned at enrollment. Then pulls HQ's signed reference data (assigned visits and
    rosters, fees, watchlist, revocations, HQ's keys) and applies it. Network failures, 5xx
    and 429 are retried with backoff (honouring Retry-After); other refusals are not. Safe to
    interrupt at any point.
    """
    if ctx.invoked_subcommand is not None:
        return
    if not officer_id:
        raise click.UsageError(f"Missing option '--officer' (or {OFFICER_ENV}).", ctx)
    s = cli()
    session = open_session(officer_id)
    bar = ProgressBar(s.say("Mengirim batch", "Sending batches"))
    try:
        report = sync_service.sync(
            session,
            hq_url=hq_url,
            once=once,
            flush=flush,
            progress=bar,
            ca_bundle=s.settings.hq_ca_bundle,
        )
    except KeyboardInterrupt:
        bar.close()
        click.echo(
            s.say(
                "Dihentikan. Yang sudah dikonfirmasi HQ tetap tercatat; sisanya dikirim pada "
                "sync berikutnya.",
                "Stopped. What HQ acknowledged stays recorded; the rest goes at the next sync.",
            ),
            err=True,
        )
        sys.exit(EXIT_PARTIAL)
    finally:
        bar.close()
    if as_json:
        print_json(report.as_json(s.lang))
    else:
        _print_report(report)
    sys.exit(report.exit_code)


def _print_report(report: SyncReport) -> None:
    s = cli()
    click.echo(
        s.say(
            f"Dikonfirmasi HQ: {report.acked} batch ({report.items} item, "
            f"{report.bytes_sent} byte); batch baru: {report.cut}.",
            f"Acknowledged by HQ: {report.acked} batches ({report.items} items, "
            f"{report.bytes_sent} bytes); new batches: {report.cut}.",
        )
    )
    for message in report.warnings:
        click.echo(message.text(s.lang), err=True)
    for refusal in report.refused:
        click.echo(refusal.message.text(s.lang), err=True)
    for problem in (report.untrusted, report.network):
        if problem is not None:
            click.echo(problem.text(s.lang), err=True)
    if report.reference is not None:
        line = report.reference.summary().text(s.lang)
        click.echo(line, err=report.reference.device_revoked is not None)
    if report.complete:
        click.echo(s.say("Semua data sudah diterima HQ.", "HQ has received everything."))
    else:
        click.echo(
            s.say(
                f"Belum dikonfirmasi: {report.unacked} batch; {report.records_waiting} versi "
                "data belum masuk batch.",
                f"Not yet acknowledged: {report.unacked} batches; {report.records_waiting} "
                "record versions not yet in a batch.",
            )
        )


@sync.command("status")
@json_option
def sync_status(as_json: bool) -> None:
    """Show the enrollment and how many batches HQ has acknowledged (no passphrase needed)."""
    s = cli()
    state = read_sync_status(s.settings)
    pinned, counts, reference, revoked = (
        state.enrollment,
        state.batches,
        state.reference,
        state.revoked,
    )
    if as_json:
        print_json(
            {
                "device_id": state.device_id,
                "enrolled": pinned is not None,
                "hq_url": pinned.hq_url if pinned else None,
                "hq_kid": pinned.hq_kid if pinned else None,
                "enrolled_at": pinned.enrolled_at if pinned else None,
                "batches": counts.batches,
                "acked": counts.acked,
                "unacked": counts.unacked,
                "records_waiting": counts.outbox_waiting,
                "audit_waiting": counts.audit_waiting,
                "last_acked_at": counts.last_acked_at,
                "reference_version": reference.version if reference else None,
                "reference_issued_at": reference.issued_at if reference else None,
                "revoked": None
                if revoked is None
                else {"at": revoked.revoked_at, "reason": revoked.reason},
            }
        )
        return
    if revoked is not None:
        click.echo(revoked.message.text(s.lang))
    if pinned is None:
        click.echo(s.say("Perangkat belum terdaftar di HQ.", "The device is not enrolled."))
    else:
        click.echo(
            s.say(
                f"Terdaftar di {pinned.hq_url} (kunci HQ {pinned.hq_kid}) sejak "
                f"{pinned.enrolled_at}.",
                f"Enrolled with {pinned.hq_url} (HQ key {pinned.hq_kid}) since "
                f"{pinned.enrolled_at}.",
            )
        )
    click.echo(
        s.say(
            f"Batch: {counts.batches} ({counts.acked} dikonfirmasi HQ, {counts.unacked} belum); "
            f"belum masuk batch: {counts.outbox_waiting} versi data, {counts.audit_waiting} "
            "entri audit.",
            f"Batches: {counts.batches} ({counts.acked} acknowledged by HQ, {counts.unacked} "
            f"not yet); not yet in a batch: {counts.outbox_waiting} record versions, "
            f"{counts.audit_waiting} audit entries.",
        )
    )
    if reference is not None:
        click.echo(
            s.say(
                f"Data referensi HQ: versi {reference.version} (diterbitkan "
                f"{reference.issued_at}).",
                f"HQ reference data: version {reference.version} (issued {reference.issued_at}).",
            )
        )


@sync.command("export")
@officer_option
@click.argument(
    "directory", type=click.Path(file_okay=False, writable=True, path_type=Path), metavar="DIR"
)
@click.option(
    "--flush",
    is_flag=True,
    help="Also carry audit entries that otherwise wait for the next data (unlock, lock, sync).",
)
@json_option
def sync_export(officer_id: str, directory: Path, flush: bool, as_json: bool) -> None:
    """Write every unacknowledged batch to DIR (a USB stick) as <seq>-<batch_id>.fkb.

    New batches are cut first. The files are sealed to HQ and signed: they hold no readable
    personal data. Take them to HQ ('fieldkit-hq import DIR'), bring back the
    *.receipt.json files and run 'fieldkit sync import-receipts DIR'.
    """
    s = cli()
    session = open_session(officer_id)
    export = sync_service.export_batches(session, directory, flush=flush)
    if as_json:
        print_json(
            {
                "cut": export.cut,
                "files": [
                    {"seq": b.seq, "batch_id": b.batch_id, "items": b.count, "path": str(p)}
                    for b, p in export.files
                ],
            }
        )
        return
    click.echo(
        s.say(
            f"{len(export.files)} batch ditulis ke {directory} ({export.cut} batch baru).",
            f"{len(export.files)} batches written to {directory} ({export.cut} new).",
        )
    )


@sync.command("import-receipts")
@officer_option
@click.argument(
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="DIR",
)
@json_option
def sync_import_receipts(officer_id: str, directory: Path, as_json: bool) -> None:
    """Apply HQ's receipts (*.receipt.json from 'fieldkit-hq import') found in DIR.

    Each receipt's signature is checked with the pinned HQ key and must name a batch of this
    laptop (batch id, seq and ciphertext hash); the batch is then acknowledged. Exit 3 when a
    receipt does not verify (it is not applied; the others are).
    """
    s = cli()
    session = open_session(officer_id)
    result = sync_service.import_receipts(session, directory)
    if as_json:
        print_json(
            {
                "acked": list(result.acked),
                "already_acked": list(result.already_acked),
                "other_devices": result.other_devices,
                "rejected": [
                    {"file": str(p), "reason": why.text(s.lang)} for p, why in result.rejected
                ],
                "unacked": result.unacked,
            }
        )
    else:
        for path, why in result.rejected:
            click.echo(f"{path.name}: {why.text(s.lang)}", err=True)
        click.echo(
            s.say(
                f"Tanda terima diterapkan: {len(result.acked)} batch (sudah sebelumnya: "
                f"{len(result.already_acked)}); belum dikonfirmasi: {result.unacked} batch.",
                f"Receipts applied: {len(result.acked)} batches (already acknowledged: "
                f"{len(result.already_acked)}); still unacknowledged: {result.unacked} batches.",
            )
        )
    sys.exit(EXIT_INTEGRITY if result.rejected else EXIT_OK)


@sync.command("reference")
@officer_option
@click.option(
    "--once",
    is_flag=True,
    help="Give up after a few tries instead of waiting for HQ.",
)
@click.option("--hq", "hq_url", help="Reach HQ at this address instead of the enrolled one.")
@json_option
def sync_reference(officer_id: str, once: bool, hq_url: str | None, as_json: bool) -> None:
    """Only pull HQ's signed reference data and apply it (no batches are sent).

    Verified with the HQ signing key pinned at enrollment; a document for another device, with
    a bad signature or an older version than the one held is refused and nothing changes
    (exit 3). Assigned visits and rosters are stored, HQ's new encryption key is pinned for
    future batches, and the watchlist and fees are kept sealed in the vault.
    """
    s = cli()
    session = open_session(officer_id)
    pulled = sync_service.pull_reference(
        session, hq_url=hq_url, once=once, ca_bundle=s.settings.hq_ca_bundle
    )
    failure = pulled.failure
    if failure is not None:
        click.echo(failure.text(s.lang), err=True)
    # The laptop's clock is off HQ's (and was perhaps set right for the signature).
    if pulled.clock_warning is not None:
        click.echo(pulled.clock_warning.text(s.lang), err=True)
    if isinstance(failure, HqRefused):
        sys.exit(EXIT_FAILED)
    if isinstance(failure, HqUntrusted):
        sys.exit(EXIT_UNTRUSTED)
    if failure is not None:
        sys.exit(EXIT_PARTIAL)
    outcome = pulled.outcome
    assert outcome is not None  # no failure: an outcome
    if as_json:
        print_json(outcome.as_json(s.lang))
    else:
        click.echo(outcome.summary().text(s.lang), err=outcome.device_revoked is not None)
    sys.exit(EXIT_FAILED if outcome.device_revoked is not None else EXIT_OK)


@click.command("watchlist")
@officer_option
@click.argument("nik")
@json_option
def check_watchlist(officer_id: str, nik: str, as_json: bool) -> None:
    """Check a NIK against HQ's travel-ban watchlist (unlocks the vault).

    A hit is only a possible match ("rujuk ke supervisor" / "refer to supervisor", with the
    chance that someone not listed matches too); the list is never shown. The laptop holds only
    truncated, slow Argon2id tags of HQ's list (sealed in the vault), so it cannot say who is
    listed; HQ re-screens every applicant against its full list. Exit 0 checked (possible
    match or not), 1 no watchlist on this laptop yet (or only the old form), 2 not a NIK.
    """
    s = cli()
    session = open_session(officer_id)
    checked = sync_service.check_watchlist(session, nik)
    message = checked.message.text(s.lang)
    if as_json:
        print_json(
            {
                "hit": checked.hit,
                "match": "possible" if checked.possible_match else "none",
                "false_positive_rate": checked.false_positive_rate,
                "message": message,
                "reference_version": checked.reference_version,
                "reference_issued_at": checked.reference_issued_at,
            }
        )
        return
    click.echo(message)


# ``fieldkit check watchlist``: registered here so the check group's module stays as it is.
check.add_command(check_watchlist)
