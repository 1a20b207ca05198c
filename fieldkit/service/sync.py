"""Sync with HQ: enroll, send sealed batches, USB export and receipts, reference data, watchlist.

Every function takes an unlocked :class:`~fieldkit.service.session.OfficerSession`, first checks
the vault's authenticated settings (HQ's address and keys, the device, revocations,
acknowledgements: :class:`~fieldkit.vault.errors.VaultSettingsAltered` if they were edited
outside fieldkit, before anything is sealed or sent) and refuses to work on a device HQ has
revoked (except importing receipts, which only records what HQ
already holds). Exports, receipt imports and watchlist checks are audited.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from fieldkit import files
from fieldkit.domain.findings import Message
from fieldkit.service.progress import Cancel, Progress
from fieldkit.service.session import OfficerSession
from fieldkit.vault import syncstate
from fieldkit.vault.errors import EnvelopeEmptied
from fieldkit.vault.syncstate import Enrollment, StoredBatch
from sync.device.batches import cut_batches
from sync.device.client import SyncClient
from sync.device.connectivity import ConnectivityMonitor
from sync.device.enrollment import require_enrollment
from sync.device.errors import HqRefused, HqUntrusted, NetworkUnavailable, ReceiptNotOurs
from sync.device.receipts import apply_receipt
from sync.device.reference import ReferenceOutcome, watchlist_hit
from sync.device.report import SyncReport
from sync.device.transport import check_hq_url, hq_session
from sync.wire import nesting

__all__ = [
    "BATCH_SUFFIX",
    "RECEIPT_SUFFIX",
    "Enrollment",
    "Export",
    "ReceiptImport",
    "ReferenceOutcome",
    "ReferencePull",
    "SyncReport",
    "WatchlistCheck",
    "check_hq_url",
    "check_watchlist",
    "connectivity_monitor",
    "enroll",
    "export_batches",
    "import_receipts",
    "pull_reference",
    "sync",
]

RECEIPT_SUFFIX = ".receipt.json"
# A receipt is well under 2 KiB; anything far larger on a USB stick is not one.
MAX_RECEIPT_BYTES = 64 * 1024
BATCH_SUFFIX = ".fkb"


def _ready(
    session: OfficerSession,
    hq_url: str | None,
    wake: threading.Event | None = None,
    ca_bundle: Path | None = None,
) -> SyncClient:
    """A client for an enrolled, active device, to ``hq_url`` or the enrolled address.

    ``ca_bundle`` (the ``hq_ca_bundle`` setting): the certificates HQ's TLS must chain to.
    """
    session.unlocked.verify_settings()
    vault = session.unlocked.vault
    pinned = require_enrollment(vault)
    syncstate.require_active_device(vault)
    base_url = check_hq_url(hq_url, allow_http=True) if hq_url else pinned.hq_url
    return SyncClient(base_url, session.unlocked, hq_session(ca_bundle), wake=wake)


def connectivity_monitor(
    session: OfficerSession, on_change: Callable[[bool], None], ca_bundle: Path | None = None
) -> ConnectivityMonitor:
    """A started monitor of whether the enrolled HQ answers (``on_change(online)``, its thread).

    It asks HQ's ``/healthz`` without busy polling (5 s doubling to 5 min while offline);
    ``stop()`` ends it. Set a sync's ``wake`` event from ``on_change`` to retry at once.
    """
    session.unlocked.verify_settings()
    pinned = require_enrollment(session.unlocked.vault)
    return ConnectivityMonitor(
        pinned.hq_url, http=hq_session(ca_bundle), on_change=on_change
    ).start()


def enroll(
    session: OfficerSession,
    hq_url: str,
    code: str,
    *,
    allow_http: bool,
    ca_bundle: Path | None = None,
) -> Enrollment:
    """Enroll this laptop with HQ with a one-time code and pin HQ's keys (supervisors; audited).

    Plain http is refused except to this machine, unless ``allow_http`` (a lab network).
    ``ca_bundle``: the certificates HQ's TLS must chain to (else the system's CAs); an HQ
    whose certificate does not verify gets nothing (:class:`HqUntrusted`).
    """
    base_url = check_hq_url(hq_url, allow_http=allow_http)
    session.unlocked.verify_settings()
    return SyncClient(base_url, session.unlocked, hq_session(ca_bundle)).enroll(code)


def sync(
    session: OfficerSession,
    *,
    hq_url: str | None = None,
    once: bool = False,
    flush: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    wake: threading.Event | None = None,
    ca_bundle: Path | None = None,
) -> SyncReport:
    """Send every batch HQ has not acknowledged, then pull and apply HQ's reference data.

    ``progress(done, total)`` counts batches acknowledged. ``cancel`` stops the run at its next
    wait or request; what HQ acknowledged stays acknowledged, and the report says what is left
    (a cancelled run is reported, not raised). Setting ``wake`` cuts a backoff wait short
    (connectivity came back). Refusals, an unreachable HQ and bad signatures are in the report;
    not being enrolled and a revoked device raise. ``ca_bundle``: as for :func:`enroll`.
    """
    client = _ready(session, hq_url, wake, ca_bundle)
    if cancel is not None:
        cancel.on_cancel(client.cancel)
    return client.sync(progress, once=once, flush=flush, reference=True)


@dataclass(frozen=True, slots=True)
class ReferencePull:
    """What pulling HQ's reference data did, and what the laptop's clock looked like to HQ.

    Exactly one of ``outcome`` and ``failure`` is set: ``failure`` is HQ's refusal
    (:class:`~sync.device.errors.HqRefused`), a document that does not verify
    (:class:`~sync.device.errors.HqUntrusted`) or an unreachable HQ
    (:class:`~sync.device.errors.NetworkUnavailable`).
    """

    outcome: ReferenceOutcome | None
    failure: HqRefused | HqUntrusted | NetworkUnavailable | None
    clock_warning: Message | None


def pull_reference(
    session: OfficerSession,
    *,
    hq_url: str | None = None,
    once: bool = False,
    ca_bundle: Path | None = None,
) -> ReferencePull:
    """Only pull HQ's signed reference data and apply it (no batches are sent).

    A document for another device, with a bad signature or an older version than the one
    held is refused and nothing changes. ``once``: a few tries instead of waiting for HQ.
    """
    client = _ready(session, hq_url, ca_bundle=ca_bundle)
    policy = replace(client.policy, max_attempts=client.once_attempts) if once else None
    try:
        outcome = client.pull_reference(policy)
    except (HqRefused, HqUntrusted, NetworkUnavailable) as exc:
        return ReferencePull(None, exc, client.clock.warning())
    return ReferencePull(outcome, None, client.clock.warning())


@dataclass(frozen=True, slots=True)
class Export:
    """Batches written for a USB stick: how many were cut first, and each file."""

    cut: int
    files: tuple[tuple[StoredBatch, Path], ...]


def export_batches(session: OfficerSession, directory: Path, *, flush: bool = False) -> Export:
    """Write every unacknowledged batch to ``directory`` as ``<seq>-<batch_id>.fkb`` (audited).

    New batches are cut first. The files are sealed to HQ and signed: no readable personal data.
    """
    unlocked = session.unlocked
    unlocked.verify_settings()
    pinned = require_enrollment(unlocked.vault)
    syncstate.require_active_device(unlocked.vault)
    cut = sum(1 for _ in cut_batches(unlocked, pinned, flush=flush))
    directory.mkdir(parents=True, exist_ok=True)
    written: list[tuple[StoredBatch, Path]] = []
    for batch in syncstate.batches(unlocked.conn, unacked_only=True):
        try:
            data = syncstate.envelope(unlocked.conn, batch.seq)
        except EnvelopeEmptied:  # acknowledged and purged by another process since
            continue
        path = directory / f"{batch.seq}-{batch.batch_id}{BATCH_SUFFIX}"
        # A fresh temporary name, created exclusively, renamed over the target: a planted
        # ``.partial`` link (or a link at the target's name) is never written through.
        files.write_replacing(path, data)
        written.append((batch, path))
    if written:
        unlocked.note(
            "sync_exported",
            f"device:{unlocked.vault.device_id}",
            {"batches": len(written), "first": written[0][0].seq, "last": written[-1][0].seq},
        )
    return Export(cut, tuple(written))


@dataclass(frozen=True, slots=True)
class ReceiptImport:
    """What applying the receipts in a folder did."""

    acked: tuple[int, ...]
    already_acked: tuple[int, ...]
    other_devices: int
    rejected: tuple[tuple[Path, Message], ...]
    unacked: int


_NOT_JSON = Message("bukan JSON", "not JSON")


def import_receipts(session: OfficerSession, directory: Path) -> ReceiptImport:
    """Apply HQ's receipts (``*.receipt.json``) found in ``directory`` (audited).

    Each is verified with the pinned HQ key and must name a batch of this laptop; a receipt
    that does not verify is not applied (it is listed in ``rejected``), the others are. Only
    regular files of at most 64 KiB are read: a link, a FIFO or a device is listed in
    ``rejected`` too.
    """
    unlocked = session.unlocked
    unlocked.verify_settings()
    require_enrollment(unlocked.vault)
    acked: list[int] = []
    already: list[int] = []
    others = 0
    bad: list[tuple[Path, Message]] = []
    for path in sorted(directory.glob(f"*{RECEIPT_SUFFIX}")):
        try:
            # A regular file only (no link to /dev/zero, no FIFO), at most 64 KiB, its JSON
            # nesting bounded before it is parsed.
            payload = nesting.loads_bounded(files.read_regular(path, MAX_RECEIPT_BYTES))
            batch, new = apply_receipt(unlocked, payload)
        except files.UnsafeFile as exc:
            bad.append((path, exc.message))
            continue
        except ValueError:  # UnicodeDecodeError and too deep JSON included
            bad.append((path, _NOT_JSON))
            continue
        except ReceiptNotOurs:
            others += 1
            continue
        except HqUntrusted as exc:
            bad.append((path, exc.message))
            continue
        (acked if new else already).append(batch.seq)
    if acked:
        unlocked.note(
            "sync_receipts_imported",
            f"device:{unlocked.vault.device_id}",
            {"acked": len(acked), "first": min(acked), "last": max(acked)},
        )
    left = syncstate.summary(unlocked.conn)
    return ReceiptImport(tuple(acked), tuple(already), others, tuple(bad), left.unacked)


@dataclass(frozen=True, slots=True)
class WatchlistCheck:
    """The answer to a watchlist check on this laptop: at most a *possible* match.

    The laptop holds only truncated tags of HQ's list (so that a stolen laptop does not say who
    is on it): ``possible_match`` means "refer to supervisor", never "this person is listed";
    ``false_positive_rate`` is the chance that someone not on the list matches too. HQ
    re-screens every applicant it receives against its full list.
    """

    possible_match: bool
    false_positive_rate: float
    reference_version: int | None
    reference_issued_at: str | None

    @property
    def hit(self) -> bool:
        """The same as :attr:`possible_match` (the name of before format 2)."""
        return self.possible_match

    @property
    def message(self) -> Message:
        """What the officer reads."""
        if not self.possible_match:
            return Message("Tidak cocok dengan daftar cekal; lanjutkan.", "No match; continue.")
        rate = f"{self.false_positive_rate:.1%}"
        return Message(
            "Kemungkinan cocok dengan daftar cekal: rujuk ke supervisor. Ini bukan kepastian "
            f"(sekitar {rate} pemohon yang tidak tercantum juga cocok); HQ memeriksa ulang "
            "setiap pemohon dengan daftar lengkap.",
            "Possible watchlist match: refer to supervisor. This is not a certainty (about "
            f"{rate} of applicants not on the list match too); HQ re-screens every applicant "
            "against the full list.",
        )


def check_watchlist(session: OfficerSession, nik: str) -> WatchlistCheck:
    """Check a NIK against the watchlist this laptop holds (audited; the list is never shown)."""
    unlocked = session.unlocked
    unlocked.verify_settings()
    syncstate.require_active_device(unlocked.vault)
    answer = watchlist_hit(unlocked, nik)
    state = syncstate.reference_state(unlocked.vault)
    unlocked.note(
        "watchlist_checked",
        None,
        {
            "hit": answer.possible_match,
            "possible": True,
            "reference_version": state.version if state else None,
        },
    )
    return WatchlistCheck(
        answer.possible_match,
        answer.false_positive_rate,
        state.version if state else None,
        state.issued_at if state else None,
    )
