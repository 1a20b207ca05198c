"""``fieldkit purge``: crypto-shred visits HQ acknowledged, after the retention period."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

import click

from fieldkit.cli.output import EXIT_INTEGRITY, cli, json_option, print_json
from fieldkit.cli.unlock import officer_option, open_session
from fieldkit.service.purge import PurgeReport
from fieldkit.service.purge import purge as purge_visits
from fieldkit.settings import DEFAULT_RETENTION_DAYS

RETENTION_ENV = "FIELDKIT_RETENTION_DAYS"

F = TypeVar("F", bound=Callable[..., object])

PURGE_EPILOG = """\b
Exit codes: 0 done (also when nothing was due); 1 wrong passphrase or no vault;
2 usage error; 3 a visit due for purging has a record that fails its integrity
check (it is kept and named). Details: docs/vault.md ("Purging")."""


def retention_option(func: F) -> F:
    """``--retention-days``, shared with ``fieldkit status``."""
    return click.option(
        "--retention-days",
        type=click.IntRange(min=0),
        default=DEFAULT_RETENTION_DAYS,
        show_default=True,
        help=f"Days to keep visits and sealed batches after HQ's receipt (or {RETENTION_ENV}).",
    )(func)  # type: ignore[return-value]


def retention_days_of(given: int) -> int:
    """``--retention-days`` when typed, else the setting (``FIELDKIT_RETENTION_DAYS`` or file)."""
    ctx = click.get_current_context()
    if ctx.get_parameter_source("retention_days") is click.core.ParameterSource.COMMANDLINE:
        return given
    return cli().settings.retention_days


@click.command(epilog=PURGE_EPILOG)
@officer_option
@retention_option
@click.option("--dry-run", is_flag=True, help="Show what would be purged; change nothing.")
@json_option
def purge(officer_id: str, retention_days: int, dry_run: bool, as_json: bool) -> None:
    """Crypto-shred the personal data of visits HQ acknowledged --retention-days ago or more.

    A visit is purged when every record version of it is in a batch HQ acknowledged with a
    signed receipt, the latest receipt is at least the retention period old, and the visit's day
    has passed. Its key is destroyed and its ciphertexts overwritten; counts stay, and `fieldkit
    status` shows them as purged. HQ keeps the data. The sealed batches HQ acknowledged
    --retention-days ago or more are emptied too (their receipts stay); batches HQ has not
    acknowledged are kept. Unlocks the vault.
    """
    s = cli()
    session = open_session(officer_id)
    report = purge_visits(
        session, retention_days=retention_days_of(retention_days), dry_run=dry_run
    )
    if as_json:
        print_json(report.as_json())
    else:
        _print(report, s.say)
    if report.blocked:
        sys.exit(EXIT_INTEGRITY)


def _print(report: PurgeReport, say: Callable[[str, str], str]) -> None:
    dry_run = report.dry_run
    days = report.retention.days
    for visit in report.purged:
        records = sum(visit.records.values())
        click.echo(
            say(
                f"{'Akan dihapus' if dry_run else 'Dihapus'}: kunjungan {visit.visit_id} "
                f"({records} data, {visit.versions} versi; diterima HQ {visit.acked_at})",
                f"{'Would purge' if dry_run else 'Purged'}: visit {visit.visit_id} "
                f"({records} records, {visit.versions} versions; acknowledged {visit.acked_at})",
            )
        )
    for visit_id in report.upcoming:
        click.echo(
            say(
                f"Disimpan: kunjungan {visit_id} belum berlangsung.",
                f"Kept: visit {visit_id} has not taken place yet.",
            )
        )
    for visit_id, reason in report.blocked:
        click.echo(
            say(
                f"TIDAK dihapus: kunjungan {visit_id} berisi data rusak ({reason}). "
                "Laporkan ke supervisor.",
                f"NOT purged: visit {visit_id} holds damaged data ({reason}). "
                "Report this to the supervisor.",
            ),
            err=True,
        )
    click.echo(
        say(
            f"{len(report.purged)} kunjungan {'akan dihapus' if dry_run else 'dihapus'}; "
            f"{len(report.waiting)} menunggu masa simpan {days} hari; {len(report.held)} belum "
            f"diterima HQ; {report.already_purged} sudah dihapus sebelumnya.",
            f"{len(report.purged)} visits {'would be purged' if dry_run else 'purged'}; "
            f"{len(report.waiting)} waiting out the {days}-day retention; {len(report.held)} not "
            f"yet acknowledged by HQ; {report.already_purged} purged before.",
        )
    )
    _print_envelopes(report, say)
    if report.wal_truncated is False:
        click.echo(
            say(
                "Peringatan: jurnal WAL belum bisa dikosongkan (vault sedang dibuka program "
                "lain); jalankan 'fieldkit purge' lagi setelah program itu ditutup.",
                "Warning: the WAL could not be truncated (another program has the vault "
                "open); run 'fieldkit purge' again once it is closed.",
            ),
            err=True,
        )


def _print_envelopes(report: PurgeReport, say: Callable[[str, str], str]) -> None:
    """The sealed batches for HQ: what was emptied, what is kept and why."""
    dry_run = report.dry_run
    emptied = report.envelopes_emptied
    if emptied.batches:
        seqs = (
            str(emptied.seq_first)
            if emptied.seq_first == emptied.seq_last
            else f"{emptied.seq_first}-{emptied.seq_last}"
        )
        click.echo(
            say(
                f"{'Akan dikosongkan' if dry_run else 'Dikosongkan'}: {emptied.batches} batch "
                f"tersegel yang sudah diterima HQ (seq {seqs}, {emptied.bytes} byte)",
                f"{'Would empty' if dry_run else 'Emptied'}: {emptied.batches} sealed batches "
                f"HQ acknowledged (seq {seqs}, {emptied.bytes} bytes)",
            )
        )
    days = report.retention.days
    envelopes = report.envelopes
    click.echo(
        say(
            f"Batch tersegel untuk HQ: {emptied.batches} "
            f"{'akan dikosongkan' if dry_run else 'dikosongkan'}; {report.envelopes_waiting} "
            f"menunggu masa simpan {days} hari; {envelopes.unacked} belum diterima HQ (tetap "
            f"disimpan untuk dikirim); {envelopes.emptied} sudah dikosongkan sebelumnya.",
            f"Sealed batches for HQ: {emptied.batches} "
            f"{'would be emptied' if dry_run else 'emptied'}; {report.envelopes_waiting} "
            f"waiting out the {days}-day retention; {envelopes.unacked} not yet acknowledged "
            f"by HQ (kept, to be sent); {envelopes.emptied} emptied before.",
        )
    )
