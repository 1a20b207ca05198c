"""Purging: crypto-shred visits HQ acknowledged once their retention is over; empty old batches."""

from __future__ import annotations

from datetime import timedelta

from fieldkit.domain.findings import Message
from fieldkit.service.progress import Cancel, Progress, checked_progress
from fieldkit.service.session import OfficerSession
from fieldkit.vault import purge as vault_purge
from fieldkit.vault.purge import PurgeReport

__all__ = ["PurgeReport", "purge"]

_PURGE = Message("Penghapusan", "Purge")


def purge(
    session: OfficerSession,
    *,
    retention_days: int,
    dry_run: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> PurgeReport:
    """Crypto-shred the visits HQ acknowledged ``retention_days`` ago or more (audited).

    ``progress(done, total)`` counts visits due; ``cancel`` stops the purge before its next
    visit (each visit is one transaction: those already purged stay purged).
    """
    return vault_purge.purge(
        session.unlocked,
        retention=timedelta(days=retention_days),
        dry_run=dry_run,
        progress=checked_progress(progress, cancel, _PURGE),
    )
