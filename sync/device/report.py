"""What one sync did and what is left: the :class:`SyncReport` and its exit code.

HQ's refusals, an unreachable HQ and signatures that do not verify are reported here, never
raised, so one sync can deliver what it can and say what it could not. ``--json`` prints
:meth:`SyncReport.as_json` (docs/sync.md, "Exit codes of fieldkit sync").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fieldkit.domain.findings import Lang, Message
from sync.device.checkpoint import Checkpoint
from sync.device.errors import EXIT_OK, EXIT_PARTIAL, EXIT_REFUSED, EXIT_UNTRUSTED, HqProblem
from sync.device.reference import ReferenceOutcome


@dataclass(frozen=True, slots=True)
class Refusal:
    """A batch (or the whole device) that HQ refused in this run."""

    seq: int | None
    batch_id: str | None
    problem: HqProblem
    message: Message

    def as_json(self, lang: Lang) -> dict[str, object]:
        """The refusal as JSON, with the message in ``lang``."""
        return {
            "seq": self.seq,
            "batch_id": self.batch_id,
            "problem": self.problem.as_json(),
            "message": self.message.text(lang),
        }


@dataclass(slots=True)
class SyncReport:
    """What one :meth:`sync.client.SyncClient.sync` did, and what is left."""

    cut: int = 0
    acked: int = 0
    duplicates: int = 0
    items: int = 0
    bytes_sent: int = 0
    refused: list[Refusal] = field(default_factory=list)
    untrusted: Message | None = None
    network: Message | None = None
    warnings: list[Message] = field(default_factory=list)
    unacked: int = 0
    records_waiting: int = 0
    audit_waiting: int = 0
    checkpoint: Checkpoint | None = None
    reference: ReferenceOutcome | None = None
    # HQ's clock minus the laptop's, in seconds, from HQ's Date header (None: not measured),
    # and whether the run signed its requests with HQ's time because HQ refused the laptop's.
    clock_offset: int | None = None
    clock_corrected: bool = False

    @property
    def complete(self) -> bool:
        """True when every batch is acknowledged and no record waits to be cut."""
        return (
            not self.refused
            and self.untrusted is None
            and self.network is None
            and self.unacked == 0
            and self.records_waiting == 0
        )

    @property
    def exit_code(self) -> int:
        """0 complete; 3 HQ's signature failed; 1 HQ refused; 4 HQ unreachable (partial)."""
        if self.untrusted is not None:
            return EXIT_UNTRUSTED
        if self.refused or (self.reference is not None and self.reference.device_revoked):
            return EXIT_REFUSED
        if not self.complete:
            return EXIT_PARTIAL
        return EXIT_OK

    def as_json(self, lang: Lang) -> dict[str, object]:
        """The report as JSON, messages in ``lang``."""
        return {
            "complete": self.complete,
            "exit_code": self.exit_code,
            "cut": self.cut,
            "acked": self.acked,
            "duplicates": self.duplicates,
            "items": self.items,
            "bytes_sent": self.bytes_sent,
            "unacked": self.unacked,
            "records_waiting": self.records_waiting,
            "audit_waiting": self.audit_waiting,
            "refused": [r.as_json(lang) for r in self.refused],
            "untrusted": self.untrusted.text(lang) if self.untrusted else None,
            "network": self.network.text(lang) if self.network else None,
            "warnings": [w.text(lang) for w in self.warnings],
            "checkpoint": None
            if self.checkpoint is None
            else {
                "next_seq": self.checkpoint.next_seq,
                "received": sorted(self.checkpoint.received),
                "missing": sorted(self.checkpoint.missing),
            },
            "reference": None if self.reference is None else self.reference.as_json(lang),
            "clock_offset_seconds": self.clock_offset,
            "clock_corrected": self.clock_corrected,
        }
