"""``fieldkit init``, ``fieldkit status`` and ``fieldkit audit verify``."""

from __future__ import annotations

import sys
from datetime import timedelta

import click

from fieldkit.cli.output import EXIT_INTEGRITY, print_json, settings
from fieldkit.cli.purge import retention_option
from fieldkit.cli.unlock import read_passphrase
from fieldkit.vault.home import vault_home
from fieldkit.vault.purge import ACKNOWLEDGED, HELD, PURGED, retention_status
from fieldkit.vault.service import status as vault_status
from fieldkit.vault.vault import Vault

JSON_HELP = "Print the result as JSON."


@click.command()
@click.option(
    "--officer", "officer_id", required=True, help="Id of the first officer (a supervisor)."
)
@click.option("--name", required=True, help="The first officer's full name.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def init(officer_id: str, name: str, as_json: bool) -> None:
    """Create the vault in FIELDKIT_HOME with its first officer, a supervisor.

    Makes the device id, the device signing key (Ed25519), the data key and the officer's key
    slot. The passphrase comes from a prompt (asked twice) or FIELDKIT_PASSPHRASE; weak ones
    are refused with the reason. Key derivation is calibrated on this laptop (about a second).
    """
    s = settings()
    passphrase = read_passphrase("Kata sandi baru", "New passphrase", confirm=True)
    session = Vault.create(None, officer_id=officer_id, name=name, passphrase=passphrase)
    vault = session.vault
    if as_json:
        print_json(
            {
                "home": str(vault.path.parent),
                "vault_id": vault.vault_id,
                "device_id": vault.device_id,
            }
        )
        return
    click.echo(
        s.say(
            f"Vault dibuat di {vault.path.parent}. Perangkat {vault.device_id}; "
            f"supervisor {officer_id}.",
            f"Vault created in {vault.path.parent}. Device {vault.device_id}; "
            f"supervisor {officer_id}.",
        )
    )


@click.command()
@retention_option
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def status(retention_days: int, as_json: bool) -> None:
    """Show what the laptop holds: records by visit and state, the outbox depth, retention.

    Retention: visits held (not yet acknowledged by HQ), acknowledged (kept for the retention
    period) and purged; sealed batches for HQ acknowledged and still held, emptied by a purge,
    and not yet acknowledged. Needs no passphrase: only counts are shown, never personal data.
    """
    s = settings()
    vault = Vault.open()
    report = vault_status(vault)
    retention = retention_status(vault.conn, retention=timedelta(days=retention_days))
    if as_json:
        print_json(
            {
                "home": str(vault_home()),
                "device_id": vault.device_id,
                "counts": [
                    {"visit_id": v, "kind": k, "state": st, "count": n}
                    for v, k, st, n in report.counts
                ],
                "outbox_depth": report.outbox_depth,
                "retention": retention.as_json(),
            }
        )
        return
    click.echo(s.say(f"Perangkat {vault.device_id}", f"Device {vault.device_id}"))
    for visit_id, kind, state, count in report.counts:
        click.echo(f"  {visit_id or '-'}  {kind:<10} {state:<10} {count}")
    click.echo(
        s.say(
            f"Antrean kirim (outbox): {report.outbox_depth} versi data",
            f"Outbox: {report.outbox_depth} record versions waiting",
        )
    )
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
            f"Diterima HQ, disimpan {retention_days} hari: {acked[0]} kunjungan, {acked[1]} "
            f"data ({len(due)} kunjungan sudah lewat masa simpan)",
            f"Acknowledged, kept for {retention_days} days: {acked[0]} visits, {acked[1]} "
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
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def audit_verify(as_json: bool) -> None:
    """Verify the whole audit chain (exit 3 when broken).

    Names the first entry that was modified, removed, inserted or reordered.
    """
    s = settings()
    verdict = Vault.open().verify_audit()
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
