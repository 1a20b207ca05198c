"""What the laptop holds, readable without a passphrase: counts, delivery to HQ, retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from fieldkit.service.session import OfficerSession
from fieldkit.settings import Settings
from fieldkit.vault import syncstate
from fieldkit.vault.kinds import APPLICANT
from fieldkit.vault.purge import ACKNOWLEDGED, HELD, PURGED, RetentionStatus, retention_status
from fieldkit.vault.syncstate import DeviceRevocation, Enrollment, OutboxStatus, ReferenceState
from fieldkit.vault.syncstate import SyncSummary as BatchCounts
from fieldkit.vault.vault import Vault

__all__ = [
    "ACKNOWLEDGED",
    "HELD",
    "PURGED",
    "BatchCounts",
    "LaptopStatus",
    "RecordCount",
    "SyncOverview",
    "SyncStatus",
    "laptop_status",
    "sync_overview",
    "sync_status",
    "synced_applicants",
]


@dataclass(frozen=True, slots=True)
class RecordCount:
    """How many records of a kind are in a state, in a visit (or outside any)."""

    visit_id: str | None
    kind: str
    state: str
    count: int


@dataclass(frozen=True, slots=True)
class LaptopStatus:
    """``fieldkit status``: metadata only, never personal data."""

    home: Path
    device_id: str
    counts: tuple[RecordCount, ...]
    outbox: OutboxStatus
    batches: BatchCounts
    retention: RetentionStatus


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """``fieldkit sync status``: the enrollment, batches, reference data, revocation."""

    device_id: str
    enrollment: Enrollment | None
    batches: BatchCounts
    reference: ReferenceState | None
    revoked: DeviceRevocation | None


def laptop_status(settings: Settings, *, retention_days: int) -> LaptopStatus:
    """Counts without decrypting anything: no passphrase needed."""
    vault = Vault.open(settings.home)
    try:
        return LaptopStatus(
            home=settings.home,
            device_id=vault.device_id,
            counts=tuple(RecordCount(*row) for row in vault.counts()),
            outbox=syncstate.outbox_status(vault.conn),
            batches=syncstate.summary(vault.conn),
            retention=retention_status(vault.conn, retention=timedelta(days=retention_days)),
        )
    finally:
        vault.close()


def sync_status(settings: Settings) -> SyncStatus:
    """The enrollment and delivery state, without a passphrase."""
    vault = Vault.open(settings.home)
    try:
        return SyncStatus(
            device_id=vault.device_id,
            enrollment=syncstate.enrollment(vault),
            batches=syncstate.summary(vault.conn),
            reference=syncstate.reference_state(vault),
            revoked=syncstate.device_revocation(vault),
        )
    finally:
        vault.close()


@dataclass(frozen=True, slots=True)
class SyncOverview:
    """What the field app's sync bar shows: enrollment, what waits for HQ and since when."""

    hq_url: str | None
    waiting: int
    oldest_waiting_at: str | None
    last_acked_at: str | None
    revoked: bool

    @property
    def enrolled(self) -> bool:
        """Whether the laptop has an HQ to send to."""
        return self.hq_url is not None


def sync_overview(session: OfficerSession) -> SyncOverview:
    """The unlocked laptop's delivery state (clear columns only: nothing is decrypted)."""
    vault = session.unlocked.vault
    conn = session.unlocked.conn
    enrolled = syncstate.enrollment(vault)
    return SyncOverview(
        hq_url=enrolled.hq_url if enrolled is not None else None,
        waiting=syncstate.outbox_status(conn).waiting,
        oldest_waiting_at=syncstate.oldest_waiting_at(conn),
        last_acked_at=syncstate.summary(conn).last_acked_at,
        revoked=syncstate.device_revocation(vault) is not None,
    )


def synced_applicants(session: OfficerSession) -> dict[str, int]:
    """Applicants HQ acknowledged at their latest version, by visit id."""
    return syncstate.acknowledged_by_visit(session.unlocked.conn, APPLICANT)
