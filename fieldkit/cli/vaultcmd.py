"""``fieldkit init``, ``fieldkit status`` and ``fieldkit audit verify``."""

from __future__ import annotations

import sys

import click

from fieldkit.cli.output import EXIT_INTEGRITY, cli, json_option, print_json, print_warnings
from fieldkit.cli.purge import retention_days_of, retention_option
from fieldkit.cli.unlock import read_passphrase
from fieldkit.service.audit import verify_audit
from fieldkit.service.session import create_vault
from fieldkit.service.status import ACKNOWLEDGED, HELD, PURGED, LaptopStatus, laptop_status


@click.command()
@click.option(
    "--officer", "officer_id", required=True, help="Id of the first officer (a supervisor)."
)
@click.option("--name", required=True, help="The first officer's full name.")
@json_option
def init(officer_id: str, name: str, as_json: bool) -> None:
    """Create the vault in FIELDKIT_HOME with its first officer, a supervisor.

    Makes the device id, the device signing key (Ed25519), the data key and the officer's key
    slot. The passphrase comes from a prompt (asked twice) or FIELDKIT_PASSPHRASE; weak ones
    are refused with the reason. Key derivation is calibrated on this laptop (about a second).
    """
    s = cli()
    passphrase = read_passphrase(
        "Kata sandi baru", "New passphrase", given=s.settings.passphrase, confirm=True
    )
    session = create_vault(s.settings, officer_id, name, passphrase)
    print_warnings(session.warnings)
    if as_json:
        print_json(
            {
                "home": str(session.home),
                "vault_id": session.vault_id,
                "device_id": session.device_id,
            }
        )
        return
    click.echo(
        s.say(
            f"Vault dibuat di {session.home}. Perangkat {session.device_id}; "
            f"supervisor {officer_id}.",
            f"Vault created in {session.home}. Device {session.device_id}; "
            f"supervisor {officer_id}.",
        )
    )


def _status_json(report: LaptopStatus) -> dict[str, object]:
    outbox = report.outbox
    return {
        "home": str(report.home),
        "device_id": report.device_id,
        "counts": [
            {"visit_id": c.visit_id, "kind": c.kind, "state": c.state, "count": c.count}
            for c in report.counts
        ],
        "outbox_depth": outbox.total,
        "outbox": {
            "total": outbox.total,
            "waiting": outbox.waiting,
            "not_batched": outbox.not_batched,
            "in_unacked_batches": outbox.in_unacked_batches,
            "acknowledged": outbox.acknowledged,
        },
        "batches": {
            "total": report.batches.batches,
            "acked": report.batches.acked,
            "unacked": report.batches.unacked,
            "audit_waiting": report.batches.audit_waiting,
        },
        "retention": report.retention.as_json(),
    }


@click.command()
@retention_option
@json_option
def status(retention_days: int, as_json: bool) -> None:
    """Show what the laptop holds: records by visit and state, the outbox depth, retention.

    Retention: visits held (not yet acknowledged by HQ), acknowledged (kept for the retention
    period) and purged; sealed batches for HQ acknowledged and still held, emptied by a purge,
    and not yet acknowledged. Needs no passphrase: only counts are shown, never personal data.
    """
    s = cli()
    days = retention_days_of(retention_days)
    report = laptop_status(s.settings, retention_days=days)
    if as_json:
        print_json(_status_json(report))
        return
    click.echo(s.say(f"Perangkat {report.device_id}", f"Device {report.device_id}"))
    for c in report.counts:
        click.echo(f"  {c.visit_id or '-'}  {c.kind:<10} {c.state:<10} {c.count}")
    outbox = report.outbox
    click.echo(
        s.say(
            f"Antrean kirim (outbox): {outbox.waiting} versi data belum diterima HQ "
            f"({outbox.not_batched} belum masuk batch, {outbox.in_unacked_batches} di batch "
            f"yang belum dikonfirmasi); {outbox.acknowledged} sudah diterima HQ",
            f"Outbox: {outbox.waiting} record versions not yet acknowledged by HQ "
            f"({outbox.not_batched} not yet in a batch, {outbox.in_unacked_batches} in "
            f"batches not yet acknowledged); {outbox.acknowledged} acknowledged by HQ",
        )
    )
    retention = report.retention
    held, acked, purged = (retention.count(x) for x in (HELD, ACKNOWLEDGED, PURGED))
    due = retention.due
    click.echo(
        s.say(
            f"Belum diterima HQ: {held[0]} kunjungan, {held[1]} data",
            f"Held, not yet acknowledged by HQ: {held[0]} visits, {held[1]} records",
        )
    )
    click.echo(
        s.say(
            f"Diterima HQ, disimpan {days} hari: {acked[0]} kunjungan, {acked[1]} "
            f"data ({len(due)} kunjungan sudah lewat masa simpan)",
            f"Acknowledged, kept for {days} days: {acked[0]} visits, {acked[1]} "
            f"records ({len(due)} visits past retention)",
        )
    )
    if retention.next_due_at:
        click.echo(
            s.say(
                f"  penghapusan berikutnya: {retention.next_due_at}",
                f"  next purge due: {retention.next_due_at}",
            )
        )
    click.echo(
        s.say(
            f"Sudah dihapus (crypto-shredded): {purged[0]} kunjungan, {purged[1]} data",
            f"Purged (crypto-shredded): {purged[0]} visits, {purged[1]} records",
        )
    )
    envelopes = retention.envelopes
    click.echo(
        s.say(
            f"Batch tersegel untuk HQ: {envelopes.held} sudah diterima HQ masih disimpan "
            f"({envelopes.due} sudah lewat masa simpan), {envelopes.emptied} sudah dikosongkan; "
            f"{envelopes.unacked} belum diterima HQ",
            f"Sealed batches for HQ: {envelopes.held} acknowledged still held ({envelopes.due} "
            f"past retention), {envelopes.emptied} emptied; {envelopes.unacked} not yet "
            "acknowledged",
        )
    )


@click.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
@json_option
def audit_verify(as_json: bool) -> None:
    """Verify the whole audit chain (exit 3 when broken).

    Names the first entry that was modified, removed, inserted or reordered.
    """
    s = cli()
    verdict = verify_audit(s.settings)
    if as_json:
        print_json(
            {
                "ok": verdict.ok,
                "entries": verdict.entries,
                "first_bad_seq": verdict.first_bad_seq,
                "reason": verdict.reason,
            }
        )
    elif verdict.ok:
        click.echo(
            s.say(
                f"Log audit utuh: {verdict.entries} entri.",
                f"Audit log intact: {verdict.entries} entries.",
            )
        )
    else:
        click.echo(
            s.say(
                f"Log audit RUSAK mulai entri #{verdict.first_bad_seq} ({verdict.reason}). "
                "Laporkan ke supervisor.",
                f"Audit log BROKEN at entry #{verdict.first_bad_seq} ({verdict.reason}). "
                "Report this to the supervisor.",
            ),
            err=True,
        )
    if not verdict.ok:
        sys.exit(EXIT_INTEGRITY)
