"""The field side of sync: one run that delivers sealed batches to HQ exactly once.

:class:`SyncClient` asks HQ's signed checkpoint for this device before sending (rather than
trusting local state), sends every stored batch that has no receipt yet, cuts new batches as
needed, verifies each receipt with the HQ signing key pinned at enrollment and stores it in the
same vault transaction that marks the batch acknowledged. Acknowledged batches are never sent
again; unacknowledged ones are resent byte for byte with their original batch id, which HQ
deduplicates, so a sync killed at any point resumes safely.

The parts it is built from, each in its own module of :mod:`sync.device`:

- ``retry``: which failures are retried, and the full-jitter backoff honouring ``Retry-After``;
- ``transport``: HQ's base URL, HTTP requests retried by those rules, and device-signed
  requests signed with HQ's signed time when the laptop's clock is off (:class:`HqClock`);
- ``errors``: the errors, HQ's problem details and what the officer reads for them;
- ``enrollment``: enrolling with a one-time code and pinning HQ's keys;
- ``signed``, ``checkpoint``, ``receipts``: HQ-signed documents, the checkpoint and the
  receipts (also those brought back on a USB stick);
- ``report``: what a run did and its exit code;
- ``batches`` cuts the batches, ``reference`` applies HQ's reference data.

Their public names stay importable from here.
"""

from __future__ import annotations

import random as _random
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import requests

from fieldkit.domain.findings import Message
from fieldkit.vault import syncstate
from fieldkit.vault.errors import EnvelopeEmptied
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.syncstate import Enrollment, StoredBatch

# Looked up in this module at each call: bench/sync_e2e.py times the cuts by patching
# sync.device.client.cut_batch.
from sync.device.batches import cut_batch, waiting
from sync.device.checkpoint import CHECKPOINT, Checkpoint, disagreements, fetch_checkpoint
from sync.device.enrollment import encryption_key, enroll, require_enrollment
from sync.device.errors import (
    DEVICE_PROBLEMS,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_REFUSED,
    EXIT_UNTRUSTED,
    AlreadyEnrolled,
    BadHqUrl,
    HqProblem,
    HqRefused,
    HqUntrusted,
    NetworkUnavailable,
    NotEnrolled,
    ReceiptNotOurs,
    SyncCancelled,
    SyncError,
    UntrustedReference,
    problem_message,
)
from sync.device.receipts import RECEIPT, apply_receipt, check_receipt
from sync.device.reference import ReferenceOutcome, apply_reference
from sync.device.report import Refusal, SyncReport
from sync.device.retry import (
    ONCE_ATTEMPTS,
    RETRY_STATUSES,
    RetryPolicy,
    is_retryable,
    parse_retry_after,
)
from sync.device.signed import verify_signed
from sync.device.transport import (
    LOOPBACK_HOSTS,
    USER_AGENT,
    HqClock,
    RetryingHttp,
    check_hq_url,
    garbled,
)
from sync.wire.reference import encryption_key_headers
from sync.wire.requests import REFERENCE_PATH

__all__ = [
    "BATCH_MEDIA_TYPE",
    "CHECKPOINT",
    "DEVICE_PROBLEMS",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_REFUSED",
    "EXIT_UNTRUSTED",
    "LOOPBACK_HOSTS",
    "ONCE_ATTEMPTS",
    "RECEIPT",
    "RETRY_STATUSES",
    "USER_AGENT",
    "AlreadyEnrolled",
    "BadHqUrl",
    "Checkpoint",
    "HqClock",
    "HqProblem",
    "HqRefused",
    "HqUntrusted",
    "NetworkUnavailable",
    "NotEnrolled",
    "Progress",
    "ReceiptNotOurs",
    "Refusal",
    "RetryPolicy",
    "RetryingHttp",
    "SyncCancelled",
    "SyncClient",
    "SyncError",
    "SyncReport",
    "apply_receipt",
    "check_hq_url",
    "check_receipt",
    "is_retryable",
    "parse_retry_after",
    "problem_message",
    "require_enrollment",
    "verify_signed",
]

BATCH_MEDIA_TYPE = "application/octet-stream"
BATCHES_PATH = "/v1/batches"

Progress = Callable[[int, int], None]


class SyncClient:
    """Enrolls this device with HQ and delivers its sealed batches exactly once."""

    def __init__(
        self,
        base_url: str,
        session: UnlockedVault,
        http: requests.Session | None = None,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        policy: RetryPolicy | None = None,
        once_attempts: int = ONCE_ATTEMPTS,
        sleep: Callable[[float], object] | None = None,
        random: Callable[[], float] | None = None,
        wake: threading.Event | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """Talk to HQ at ``base_url`` for the unlocked vault ``session``.

        ``wake``, when given, cuts a backoff wait short as soon as it is set (the connectivity
        monitor sets it when HQ becomes reachable); ``sleep`` and ``random`` are injectable for
        tests. ``once_attempts`` bounds each request's tries in ``sync(once=True)``. ``clock``
        is the laptop's clock as the client reads it to sign its requests (an aware datetime;
        the system clock by default; tests shift it): when HQ refuses its time, HQ's is used
        instead (:class:`~sync.transport.HqClock`). The vault's own times never use it.
        """
        self.session = session
        self.policy = policy or RetryPolicy()
        self.once_attempts = once_attempts
        self._wake = wake or threading.Event()
        self._cancelled = threading.Event()
        self.http = RetryingHttp(
            base_url,
            http or requests.Session(),
            policy=self.policy,
            timeout=(connect_timeout, read_timeout),
            sleep=sleep or self._wait,
            random=random or _random.random,
            cancelled=self._cancelled.is_set,
            clock=HqClock(clock),
        )

    @property
    def clock(self) -> HqClock:
        """The time this client signs with, and what it measured of HQ's clock."""
        return self.http.clock

    @property
    def vault_device_id(self) -> str:
        """The id of this device."""
        return self.session.vault.device_id

    def _wait(self, seconds: float) -> None:
        if self._wake.wait(seconds):
            self._wake.clear()
        if self._cancelled.is_set():
            raise SyncCancelled

    def wake(self) -> None:
        """Cut the current backoff wait short: retry at once (connectivity came back)."""
        self._wake.set()

    def cancel(self) -> None:
        """Stop at the next wait or request; what was acknowledged stays acknowledged."""
        self._cancelled.set()
        self._wake.set()

    # -- enrollment ---------------------------------------------------------------------------

    def enroll(self, code: str) -> Enrollment:
        """Enroll with a one-time code from HQ and pin HQ's keys in the vault (audited).

        The tries are bounded as in ``sync(once=True)`` (:func:`sync.enrollment.enroll`).
        """
        once = replace(self.policy, max_attempts=self.once_attempts)
        return enroll(self.session, self.http, code, once)

    # -- documents from HQ --------------------------------------------------------------------

    def checkpoint(self, pinned: Enrollment, policy: RetryPolicy | None = None) -> Checkpoint:
        """Ask HQ which batches of this device it holds (signed, verified).

        The request is signed with the device key over its path and the time, freshly for
        each try (docs/PROTOCOL.md, "Checkpoint"; :func:`sync.checkpoint.fetch_checkpoint`),
        with HQ's time once HQ refused the laptop's (:class:`~sync.transport.HqClock`).
        """
        self.clock.pin(pinned)
        return fetch_checkpoint(self.http, self.session, pinned, policy)

    # -- sending ------------------------------------------------------------------------------

    def _send(self, batch: StoredBatch, pinned: Enrollment, policy: RetryPolicy) -> tuple[int, int]:
        """POST one stored batch; acknowledge it on a verified receipt.

        Returns HQ's status (201 new, 200 a duplicate) and the number of bytes sent.
        """
        data = syncstate.envelope(self.session.conn, batch.seq)
        try:
            response = self.http.request(
                "POST",
                BATCHES_PATH,
                policy=policy,
                headers={"Content-Type": BATCH_MEDIA_TYPE, "Accept": "application/json"},
                data=data,
            )
        except NetworkUnavailable as exc:
            syncstate.record_attempt(self.session.conn, batch.seq, exc.message.en)
            raise
        if response.status_code >= 400:
            problem = HqProblem.from_response(response)
            syncstate.record_attempt(
                self.session.conn, batch.seq, f"{problem.status} {problem.slug or problem.title}"
            )
            raise HqRefused(problem_message(problem, batch), problem)
        try:
            payload = response.json()
        except ValueError as exc:
            raise garbled(self.http.base_url, f"batch {batch.seq}") from exc
        receipt = check_receipt(payload, pinned, batch, self.vault_device_id)
        syncstate.acknowledge(self.session, batch.seq, receipt)
        return response.status_code, len(data)

    def sync(
        self,
        progress: Progress | None = None,
        *,
        once: bool = False,
        flush: bool = False,
        reference: bool = False,
    ) -> SyncReport:
        """Deliver every batch HQ lacks, cutting new ones as needed; report what happened.

        ``once``: one pass with a bounded number of tries per request (no open-ended waiting).
        Otherwise transient failures are retried until HQ answers. ``progress(done, total)`` is
        called as batches are acknowledged. ``reference``: then pull and apply HQ's reference
        data (:meth:`pull_reference`), also after a refusal (a revoked device learns of it so).
        HQ's refusals, unreachable HQ and bad signatures are reported in the
        :class:`SyncReport`, never raised; :class:`NotEnrolled` is raised, and
        :class:`~fieldkit.vault.errors.DeviceRevoked` once HQ's reference data said so.
        A laptop clock HQ refuses is set right for the run's signatures from HQ's signed time
        in the refusal (never its ``Date`` header); the report carries the offset and a warning
        to set the clock.
        """
        pinned = require_enrollment(self.session.vault)
        syncstate.require_active_device(self.session.vault)
        self.clock.reset()
        policy = replace(self.policy, max_attempts=self.once_attempts) if once else self.policy
        report = SyncReport()
        self._guard(report, lambda: self._deliver(pinned, policy, report, progress, flush))
        if reference and report.network is None and report.untrusted is None:

            def pull() -> None:
                report.reference = outcome = self.pull_reference(policy)
                wrote = outcome.visits_added or outcome.entries_added or outcome.visits_withdrawn
                if wrote and not report.refused:
                    # The visits and rosters it wrote (assigned or withdrawn) go back to HQ in
                    # this sync, sealed to HQ's key as now pinned, so it ends with nothing waiting.
                    fresh = require_enrollment(self.session.vault)
                    self._send_new(fresh, policy, report, progress, flush, report.acked)

            self._guard(report, pull)
        self._finish(report)
        return report

    @staticmethod
    def _guard(report: SyncReport, step: Callable[[], None]) -> None:
        """Run a step of a sync, putting what stops it into the report."""
        try:
            step()
        except HqUntrusted as exc:
            report.untrusted = exc.message
        except NetworkUnavailable as exc:
            report.network = exc.message
        except SyncCancelled:
            report.network = Message("Sinkronisasi dihentikan.", "Sync was stopped.")
        except HqRefused as exc:
            report.refused.append(Refusal(None, None, exc.problem, exc.message))

    def pull_reference(self, policy: RetryPolicy | None = None) -> ReferenceOutcome:
        """Fetch HQ's signed reference data for this device, verify it and apply it.

        The request is signed with the device key (docs/PROTOCOL.md, "Reference data"), with
        HQ's time if HQ refuses the laptop's (:attr:`clock` then has a warning). Raises
        :class:`HqRefused`, :class:`NetworkUnavailable`, :class:`HqUntrusted` (bad signature,
        another device's document, an older version: nothing is applied), :class:`NotEnrolled`
        and :class:`~fieldkit.vault.errors.DeviceRevoked` (already revoked: nothing is asked).
        """
        vault = self.session.vault
        self.clock.pin(require_enrollment(vault))
        syncstate.require_active_device(vault)
        key = self.session.device_signing_key()
        # Offer HQ the key to seal this device's rosters and watchlist to (HQ keeps the first).
        public, _ = encryption_key(self.session)
        response = self.http.device_request(
            "GET",
            REFERENCE_PATH,
            key,
            vault.device_id,
            policy=policy,
            extra_headers=encryption_key_headers(key, vault.device_id, public),
        )
        if response.status_code >= 400:
            raise HqRefused.from_response(response)
        try:
            payload = response.json()
        except ValueError as exc:
            raise garbled(self.http.base_url, "reference data") from exc
        try:
            return apply_reference(self.session, payload)
        except UntrustedReference as exc:
            raise HqUntrusted(exc.message) from exc

    def _deliver(
        self,
        pinned: Enrollment,
        policy: RetryPolicy,
        report: SyncReport,
        progress: Progress | None,
        flush: bool,
    ) -> None:
        conn = self.session.conn
        checkpoint = report.checkpoint = self.checkpoint(pinned, policy)
        stored = syncstate.batches(conn)
        report.warnings.extend(disagreements(checkpoint, stored))
        # HQ's known gaps first: they hold up its audit-chain verification.
        queue = sorted(
            (b for b in stored if not b.acked),
            key=lambda b: (b.seq not in checkpoint.missing, b.seq),
        )
        total = len(queue) + waiting(self.session).batches_needed(flush=flush)
        done = 0
        if progress:
            progress(done, total)
        for batch in queue:
            if self._send_one(batch, pinned, policy, report):
                done += 1
                total = max(total, done)
                if progress:
                    progress(done, total)
        self._send_new(pinned, policy, report, progress, flush, done, total)

    def _send_new(
        self,
        pinned: Enrollment,
        policy: RetryPolicy,
        report: SyncReport,
        progress: Progress | None,
        flush: bool,
        done: int,
        total: int | None = None,
    ) -> None:
        """Cut and send batches until nothing waits (or a batch is refused)."""
        if total is None:
            total = done + waiting(self.session).batches_needed(flush=flush)
        while True:
            cut = cut_batch(self.session, pinned, flush=flush)
            if cut is None:
                break
            report.cut += 1
            if self._send_one(cut, pinned, policy, report):
                done += 1
                total = max(total, done)
                if progress:
                    progress(done, total)

    def _send_one(
        self, batch: StoredBatch, pinned: Enrollment, policy: RetryPolicy, report: SyncReport
    ) -> bool:
        """Send a batch; True when acknowledged. A device-wide refusal propagates."""
        try:
            status, sent = self._send(batch, pinned, policy)
        except EnvelopeEmptied:
            # Since this run listed it, another process applied HQ's receipt (USB) and a purge
            # emptied it: delivered already, nothing to send.
            return False
        except HqRefused as exc:
            if exc.problem.slug in DEVICE_PROBLEMS:
                raise
            report.refused.append(Refusal(batch.seq, batch.batch_id, exc.problem, exc.message))
            return False
        report.acked += 1
        report.duplicates += status == 200
        report.items += batch.count
        report.bytes_sent += sent
        return True

    def _finish(self, report: SyncReport) -> None:
        """Count what is left and audit the run when it did something."""
        conn = self.session.conn
        left = syncstate.summary(conn)
        report.unacked = left.unacked
        report.records_waiting = left.outbox_waiting
        report.audit_waiting = left.audit_waiting
        # Only reported: the vault's times stay the laptop's own (and the offset is not audited).
        report.clock_offset = self.clock.offset_seconds
        report.clock_corrected = self.clock.corrected
        warning = self.clock.warning()
        if warning is not None:
            report.warnings.insert(0, warning)
        subject = f"device:{self.vault_device_id}"
        if report.refused:
            first = report.refused[0].problem
            self.session.note(
                "sync_refused",
                subject,
                {"status": first.status, "problem": first.slug, "refused": len(report.refused)},
            )
        elif report.acked or report.untrusted:
            self.session.note(
                "sync_completed",
                subject,
                {
                    "acked": report.acked,
                    "items": report.items,
                    "unacked": report.unacked,
                    "untrusted": report.untrusted is not None,
                    **(
                        {"reference_version": report.reference.version}
                        if report.reference is not None
                        else {}
                    ),
                },
            )
