"""Receiving one sealed batch: HQ's checks in the order of docs/PROTOCOL.md, then one transaction.

1. parse the envelope (magic, lengths, header) → ``malformed-envelope`` 400, ``too-large`` 413
2. device known → ``unknown-device`` 403; not revoked → ``device-revoked`` 403
3. signature by the device key → ``bad-signature`` 401
4. sealed to an accepted HQ key → ``unknown-hq-key`` 422
5. duplicate ``(device_id, batch_id)``: same ciphertext hash → the stored receipt (200);
   another hash → ``batch-id-reused`` 409 (flagged)
6. ``seq`` already used by another batch id → ``sequence-reused`` 409 (flagged: a cloned or
   rolled-back device); ``seq`` more than ``MAX_SEQ_AHEAD`` beyond the device's highest →
   ``sequence-too-far`` 422 (flagged: HQ would otherwise track an unbounded gap)
7. decrypt → ``undecryptable`` 422; decompress, parse, count, item shapes, outbox and audit
   ranges → ``malformed-body`` 422
8. check each record by kind and format (``counter_checks``: the applicant domain rules, the
   counter's decision rules, shapes; findings stored, flags raised, never a rejection)
9. one transaction: lock the device, re-check 2, 5 and 6 (another worker may have won a race),
   insert the batch, records (idempotent on ``(kind, id, version)``) and audit entries, verify
   the audit chain as far as it is contiguous, sign and store the receipt → 201

Every refusal is an :class:`HttpProblem` and is logged in ``rejections`` (and the ``fieldkit.hq``
logger, every value escaped) with the device, batch and client address. Over HTTP, step 1's
header and step 2 are also checked as soon as the header has arrived
(:func:`check_claimed_device`). A database error while storing is ``store-failed`` (500) or
``store-unavailable`` (503), logged by SQLSTATE and constraint, never by its message. Both
the HTTP API and ``fieldkit-hq import`` go through :func:`ingest`.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from fieldkit.domain.fees import FeeSchedule, parse_fee_schedules
from fieldkit.domain.findings import Finding
from sync.hq import counter_checks, screening, store
from sync.hq.keys import HQKeys
from sync.hq.logsafe import db_error, frames, hq_logger
from sync.wire import envelope
from sync.wire.envelope import EnvelopeError

log = hq_logger()

MAX_INT = 2**63 - 1
MAX_VERSION = 2**31 - 1
# A device cuts batches one after another; 1,000 batches (500,000 items) that never reached HQ
# is far beyond any visit. Beyond it a seq is a bug or an attack, and a gap that size would
# make every checkpoint and status list it.
MAX_SEQ_AHEAD = 1000
APPLICANT = "applicant"
VISIT = "visit"

TITLES: dict[str, str] = {
    "malformed-envelope": "Malformed envelope",
    "too-large": "Request body too large",
    "unknown-device": "Unknown device",
    "device-revoked": "Device revoked",
    "bad-signature": "Bad signature",
    "unknown-hq-key": "Sealed to an unknown HQ key",
    "batch-id-reused": "Batch id reused",
    "sequence-reused": "Sequence number reused",
    "sequence-too-far": "Sequence number too far ahead",
    "undecryptable": "Undecryptable batch",
    "malformed-body": "Malformed batch body",
    "enroll-code-invalid": "Enrollment code invalid",
    "device-exists": "Device already enrolled",
    "malformed-request": "Malformed request",
    "invalid-request": "Invalid request",
    "unsupported-media-type": "Unsupported media type",
    "unauthenticated": "Request not signed by a device",
    "clock-skew": "Request time too far from HQ's clock",
    "device-mismatch": "Signed by another device",
    "keys-changing": "HQ's keys are changing",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "internal-error": "Internal error",
    "store-unavailable": "Store unavailable",
    "store-failed": "HQ could not store the batch",
    "busy": "HQ is busy",
    "request-timeout": "Request body too slow",
}
STATUS: dict[str, int] = {
    "malformed-envelope": 400,
    "too-large": 413,
    "unknown-device": 403,
    "device-revoked": 403,
    "bad-signature": 401,
    "unknown-hq-key": 422,
    "batch-id-reused": 409,
    "sequence-reused": 409,
    "sequence-too-far": 422,
    "undecryptable": 422,
    "malformed-body": 422,
    "enroll-code-invalid": 403,
    "device-exists": 409,
    "malformed-request": 400,
    "invalid-request": 422,
    "unsupported-media-type": 415,
    "unauthenticated": 401,
    "clock-skew": 401,
    "device-mismatch": 403,
    "keys-changing": 503,
    "not-found": 404,
    "method-not-allowed": 405,
    "internal-error": 500,
    "store-unavailable": 503,
    "store-failed": 500,
    "busy": 503,
    "request-timeout": 408,
}


class HttpProblem(Exception):
    """A refusal: an RFC 9457 problem type (``/problems/<slug>``), its HTTP status and detail.

    HQ's own; ``sync.device.errors.HqProblem`` is what a device reads of one.
    """

    def __init__(self, slug: str, detail: str, status: int | None = None) -> None:
        super().__init__(f"{slug}: {detail}")
        self.slug = slug
        self.detail = detail
        self.status = status if status is not None else STATUS.get(slug, 400)

    @property
    def title(self) -> str:
        """A short, fixed summary of the problem type."""
        return TITLES.get(self.slug, self.slug.replace("-", " ").capitalize())

    def as_json(self) -> dict[str, object]:
        """The problem details object."""
        return {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }

    @classmethod
    def from_envelope(cls, exc: EnvelopeError) -> HttpProblem:
        """The problem HQ answers for an :class:`EnvelopeError`."""
        if exc.code == "bad-key":  # a device key or HQ key of the wrong shape in HQ's own store
            return cls("internal-error", "HQ holds a key it cannot use.", 500)
        return cls(exc.code, exc.detail or TITLES.get(exc.code, exc.code))


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What :func:`ingest` did with one envelope."""

    status: int  # 201 new, 200 duplicate of a stored batch
    receipt: str  # the signed receipt, as the JSON text stored and sent
    device_id: str
    batch_id: str
    seq: int
    records: int = 0
    records_with_errors: int = 0
    audit_verified: bool | None = None

    @property
    def duplicate(self) -> bool:
        """True when the batch had been received before."""
        return self.status == 200


@dataclass
class _Context:
    client: str | None
    device_id: str | None = None
    batch_id: str | None = None
    seq: int | None = None
    verified: bool = False  # the device's signature verified


@dataclass
class _Record:
    kind: str
    id: str
    version: int
    visit_id: str | None
    state: str
    officer_id: str | None
    at: str
    outbox_seq: int
    data: dict[str, Any]
    findings: list[dict[str, object]] = field(default_factory=list)

    def row(self, device_id: str, batch_id: str) -> dict[str, object]:
        return {
            "kind": self.kind,
            "id": self.id,
            "version": self.version,
            "device_id": device_id,
            "batch_id": batch_id,
            "outbox_seq": self.outbox_seq,
            "visit_id": self.visit_id,
            "state": self.state,
            "officer_id": self.officer_id,
            "at": self.at,
            "data": self.data,
            "findings": self.findings,
        }


def reject(
    engine: Engine,
    problem: HttpProblem,
    *,
    client: str | None,
    device_id: str | None = None,
    batch_id: str | None = None,
    seq: int | None = None,
    device_verified: bool = False,
) -> HttpProblem:
    """Log a refusal in ``rejections`` and the log; return the problem for raising.

    ``device_verified``: the device's signature was verified before the refusal (otherwise
    ``device_id`` is only what the request claimed). Every text is escaped in the log
    (:mod:`sync.hq.logsafe`); refusals counted in an existing row get no log line of their own.
    """
    worth_a_line = True
    try:
        worth_a_line = store.add_rejection(
            engine,
            problem=problem.slug,
            status=problem.status,
            detail=problem.detail,
            client=client,
            device_id=device_id,
            batch_id=batch_id,
            seq=seq,
            device_verified=device_verified,
        )
    except sa.exc.SQLAlchemyError as exc:
        log.error("could not log a rejection in the store: %s", db_error(exc))
    # A flood of refusals is counted in the store, not written line by line (store.incidents).
    if worth_a_line:
        log.warning(
            "rejected %s (%d) from %s: device=%s%s batch=%s seq=%s: %s",
            problem.slug,
            problem.status,
            client or "-",
            device_id or "-",
            "" if device_verified or not device_id else " (claimed)",
            batch_id or "-",
            seq if seq is not None else "-",
            problem.detail,
        )
    return problem


def ingest(
    engine: Engine, keys: HQKeys, data: bytes, *, client: str | None, source: str = "http"
) -> IngestResult:
    """Check and store one envelope; raise :class:`HttpProblem` (already logged) on refusal."""
    ctx = _Context(client)
    try:
        try:
            return _ingest(engine, keys, data, ctx, source)
        except _Clash as clash:  # raise the flag for HQ staff, then refuse
            with engine.begin() as conn:
                store.add_flag(
                    conn, str(ctx.device_id), clash.flag_kind, clash.problem.detail, ctx.batch_id
                )
            raise clash.problem from None
    except HttpProblem as problem:
        raise reject(
            engine,
            problem,
            client=client,
            device_id=ctx.device_id,
            batch_id=ctx.batch_id,
            seq=ctx.seq,
            device_verified=ctx.verified,
        ) from None


def _ingest(engine: Engine, keys: HQKeys, data: bytes, ctx: _Context, source: str) -> IngestResult:
    # 1. parse
    try:
        env = envelope.parse_envelope(data)
    except EnvelopeError as exc:
        raise HttpProblem.from_envelope(exc) from None
    header = env.header
    ctx.device_id, ctx.batch_id, ctx.seq = header.device_id, header.batch_id, header.seq
    ct_sha256 = env.ct_sha256

    # 2.-6. without holding any lock
    with store.reading(engine) as conn:
        device = _known_device(conn, header.device_id)
        try:
            envelope.verify_signature(env, device.public_key)
        except EnvelopeError as exc:
            raise HttpProblem.from_envelope(exc) from None
        ctx.verified = True
        private = keys.decryption_key(header.hq_kid)
        if private is None:
            raise HttpProblem(
                "unknown-hq-key",
                f"The batch is sealed to HQ key {header.hq_kid}, which HQ does not accept; "
                f"the current key is {keys.current_kid}.",
            )
        stored = _duplicate_or_clash(conn, header, ct_sha256)
        if stored is None:
            _check_not_too_far(conn, header)
    if stored is not None:
        return stored
    # 7. decrypt and decode
    try:
        items = envelope.open_batch(env, private)
    except EnvelopeError as exc:
        raise HttpProblem.from_envelope(exc) from None
    records, audit = _split_items(header, items)
    # 8. domain rules
    with store.reading(engine) as conn:
        _validate(conn, records)
    # 9. one transaction
    return _store(engine, keys, env, device.vault_id, records, audit, source)


def check_claimed_device(engine: Engine, header: envelope.BatchHeader) -> None:
    """Refuse an envelope whose header names an unknown or revoked device, before its body.

    Step 2 of the checks, taken as soon as the header has arrived (``envelope.peek_header``),
    so a stranger cannot make HQ read 4 MiB first; the refusal is not yet verified (the
    signature comes with the rest). :func:`ingest` checks the device again in any case.
    """
    with store.reading(engine) as conn:
        _known_device(conn, header.device_id)


def _known_device(conn: Connection, device_id: str, *, lock: bool = False) -> store.Device:
    device = store.get_device(conn, device_id, lock=lock)
    if device is None:
        raise HttpProblem("unknown-device", f"Device {device_id} is not enrolled at this HQ.")
    if device.revoked:
        raise HttpProblem("device-revoked", f"Device {device_id} was revoked.")
    return device


class _Clash(Exception):
    """A reused batch id or seq (a refusal that also raises a flag for HQ staff)."""

    def __init__(self, problem: HttpProblem, flag_kind: str) -> None:
        super().__init__(problem.detail)
        self.problem = problem
        self.flag_kind = flag_kind


def _duplicate_or_clash(
    conn: Connection, header: envelope.BatchHeader, ct_sha256: str
) -> IngestResult | None:
    """The stored receipt for a retry; raise for a reused batch id or seq; None when new.

    One statement reads both, so a concurrent commit cannot fall between the two checks
    (PostgreSQL's READ COMMITTED takes a new snapshot for every statement).
    """
    b = store.batches
    rows = conn.execute(
        sa.select(b.c.batch_id, b.c.ct_sha256, b.c.receipt).where(
            b.c.device_id == header.device_id,
            sa.or_(b.c.batch_id == header.batch_id, b.c.seq == header.seq),
        )
    ).all()
    existing = next((row for row in rows if row.batch_id == header.batch_id), None)
    if existing is not None:
        if existing.ct_sha256 == ct_sha256:
            return IngestResult(
                200, existing.receipt, header.device_id, header.batch_id, header.seq
            )
        raise _Clash(
            HttpProblem(
                "batch-id-reused",
                f"Batch {header.batch_id} was received before with another ciphertext.",
            ),
            "batch-id-reused",
        )
    if rows:
        raise _Clash(
            HttpProblem(
                "sequence-reused",
                f"Seq {header.seq} of device {header.device_id} already belongs to batch "
                f"{rows[0].batch_id}: a cloned or rolled-back device.",
            ),
            "sequence-reused",
        )
    return None


def _check_not_too_far(conn: Connection, header: envelope.BatchHeader) -> None:
    """Refuse (and flag) a seq more than MAX_SEQ_AHEAD beyond the device's highest."""
    highest = conn.execute(
        sa.select(sa.func.max(store.batches.c.seq)).where(
            store.batches.c.device_id == header.device_id
        )
    ).scalar()
    limit = int(highest or 0) + MAX_SEQ_AHEAD
    if header.seq > limit:
        raise _Clash(
            HttpProblem(
                "sequence-too-far",
                f"Seq {header.seq} is more than {MAX_SEQ_AHEAD} beyond the highest seq HQ holds "
                f"from device {header.device_id} ({int(highest or 0)}): a device bug or a forged "
                "sequence.",
            ),
            "sequence-too-far",
        )


# --- the body ---------------------------------------------------------------------------------


def _bad(detail: str) -> HttpProblem:
    return HttpProblem("malformed-body", detail)


def _text(
    item: Mapping[str, Any], key: str, where: str, *, limit: int | None, optional: bool = False
) -> str | None:
    value = item.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _bad(f"{where}: {key} must be text")
    if limit is not None and len(value) > limit:
        raise _bad(f"{where}: {key} is longer than {limit} characters")
    return value


def _int(item: Mapping[str, Any], key: str, where: str, high: int) -> int:
    value = item.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
        raise _bad(f"{where}: {key} must be an integer from 1")
    return value


_RECORD_KEYS = frozenset(
    {"t", "kind", "id", "version", "visit_id", "state", "officer_id", "at", "outbox_seq", "data"}
)
_AUDIT_KEYS = frozenset({"t", "seq", "at", "officer_id", "action", "subject", "detail"})


def _split_items(
    header: envelope.BatchHeader, items: list[dict[str, object]]
) -> tuple[list[_Record], list[dict[str, Any]]]:
    """Record and audit items, checked for shape and against the header's ranges.

    Their text and numbers were checked as they were decoded (``envelope.decode_body``: no
    NUL, no lone surrogate, 64-bit integers, bounded nesting), so both stores can keep them.
    """
    records: list[_Record] = []
    audit: list[dict[str, Any]] = []
    for number, item in enumerate(items, start=1):
        where = f"item {number}"
        kind = item.get("t")
        if kind == "r":
            if set(item) != _RECORD_KEYS:
                raise _bad(f"{where}: a record item has exactly the keys {sorted(_RECORD_KEYS)}")
            data = item["data"]
            if not isinstance(data, dict):
                raise _bad(f"{where}: data must be a JSON object")
            records.append(
                _Record(
                    kind=str(_text(item, "kind", where, limit=32)),
                    id=str(_text(item, "id", where, limit=64)),
                    version=_int(item, "version", where, MAX_VERSION),
                    visit_id=_text(item, "visit_id", where, limit=64, optional=True),
                    state=str(_text(item, "state", where, limit=32)),
                    officer_id=_text(item, "officer_id", where, limit=64, optional=True),
                    at=str(_text(item, "at", where, limit=64)),
                    outbox_seq=_int(item, "outbox_seq", where, MAX_INT),
                    data=data,
                )
            )
        elif kind == "a":
            if set(item) != _AUDIT_KEYS:
                raise _bad(f"{where}: an audit item has exactly the keys {sorted(_AUDIT_KEYS)}")
            _int(item, "seq", where, MAX_INT)
            _text(item, "at", where, limit=64)
            _text(item, "officer_id", where, limit=64, optional=True)
            _text(item, "action", where, limit=64)
            _text(item, "subject", where, limit=None, optional=True)
            _text(item, "detail", where, limit=None)
            audit.append(item)
        else:
            raise _bad(f"{where}: t must be 'r' (record) or 'a' (audit)")
    outbox = [r.outbox_seq for r in records]
    if any(b <= a for a, b in itertools.pairwise(outbox)):
        raise _bad("record items are not in outbox order")
    expected_outbox = (outbox[0], outbox[-1]) if outbox else None
    if header.outbox != expected_outbox:
        raise _bad(f"header outbox {header.outbox} does not match the items {expected_outbox}")
    audit_seqs = [int(a["seq"]) for a in audit]
    if audit_seqs != list(range(audit_seqs[0], audit_seqs[0] + len(audit_seqs)) if audit else []):
        raise _bad("audit items are not consecutive")
    expected_audit = (audit_seqs[0], audit_seqs[-1]) if audit else None
    if header.audit != expected_audit:
        raise _bad(f"header audit {header.audit} does not match the items {expected_audit}")
    keys = {(r.kind, r.id, r.version) for r in records}
    if len(keys) != len(records):
        raise _bad("a record version appears twice in the batch")
    return records, audit


# --- domain rules -------------------------------------------------------------------------------


def _finding_json(finding: Finding) -> dict[str, object]:
    return {
        "code": finding.code,
        "field": finding.field,
        "severity": str(finding.severity),
        "message": {"id": finding.message.id, "en": finding.message.en},
    }


def _visit_kinds(conn: Connection, records: list[_Record]) -> dict[str, str]:
    """The kind of each visit the applicants belong to, from this batch or from the store."""
    kinds: dict[str, str] = {}
    for record in records:
        if record.kind == VISIT and isinstance(record.data.get("kind"), str):
            kinds[record.id] = record.data["kind"]
    wanted = {
        r.visit_id
        for r in records
        if r.kind == APPLICANT and r.visit_id and r.visit_id not in kinds
    }
    for visit_id in wanted:
        row = conn.execute(
            sa.select(store.records.c.data)
            .where(store.records.c.kind == VISIT, store.records.c.id == visit_id)
            .order_by(store.records.c.version.desc())
            .limit(1)
        ).first()
        if row is not None and isinstance(row.data, dict) and isinstance(row.data.get("kind"), str):
            kinds[visit_id] = row.data["kind"]
    return kinds


def _published_schedules(conn: Connection) -> tuple[FeeSchedule, ...] | None:
    """The fee schedules HQ published (the ones devices quote from), or None for the packaged."""
    row = conn.execute(
        sa.select(store.reference_state.c.fees).where(store.reference_state.c.id == 1)
    ).first()
    if row is None or row.fees is None:
        return None
    return parse_fee_schedules(row.fees).value


def _capture_date(at: str) -> date:
    try:
        return date.fromisoformat(at[:10])
    except ValueError:
        return date.today()


def _validate(conn: Connection, records: list[_Record]) -> None:
    """Attach HQ's findings to each record (:mod:`sync.hq.counter_checks`); never a refusal."""
    kinds = _visit_kinds(conn, records)
    schedules = _published_schedules(conn) if any(r.kind == APPLICANT for r in records) else None
    for record in records:
        visit_kind = kinds.get(record.visit_id) if record.visit_id else None
        try:
            found = counter_checks.record_findings(
                record.kind,
                record.data,
                state=record.state,
                on=_capture_date(record.at),
                visit_kind=visit_kind,
                schedules=schedules,
            )
            record.findings = [_finding_json(f) for f in found]
        except Exception as exc:  # the rules promise not to raise; never lose a batch if they do
            # Where it failed, not what the exception says: its text may quote the applicant.
            log.error(
                "%s rules raised on %s v%s:\n%s",
                record.kind,
                record.id,
                record.version,
                frames(exc),
            )
            name = type(exc).__name__
            record.findings = [
                {
                    "code": "hq.rules_failed",
                    "field": record.kind,
                    "severity": "error",
                    "message": {
                        "id": f"Aturan gagal dijalankan ({name}).",
                        "en": f"Rules failed ({name}).",
                    },
                }
            ]


def _flag_findings(conn: Connection, header: envelope.BatchHeader, records: list[_Record]) -> None:
    """Raise the flags the findings of newly stored versions call for (decision-unmet, …)."""
    for record in records:
        for kind, detail in counter_checks.record_flags(
            record.kind, record.id, record.version, record.findings
        ):
            store.add_flag(conn, header.device_id, kind, detail, header.batch_id)


# --- the transaction ----------------------------------------------------------------------------


def _store(
    engine: Engine,
    keys: HQKeys,
    env: envelope.Envelope,
    vault_id: str,
    records: list[_Record],
    audit: list[dict[str, Any]],
    source: str,
) -> IngestResult:
    header = env.header
    moment = store.now()
    receipt_doc: dict[str, object] = {
        "v": 1,
        "device_id": header.device_id,
        "batch_id": header.batch_id,
        "seq": header.seq,
        "ct_sha256": env.ct_sha256,
        "count": header.count,
        "accepted_at": store.iso(moment),
        "hq_signing_kid": keys.signing_kid,
    }
    signed = envelope.sign_document(receipt_doc, keys.signing_key)
    # On the wire a receipt is {"receipt": {…}, "sig": b64} (docs/PROTOCOL.md, "Receipt").
    receipt = json.dumps(
        {"receipt": signed["document"], "sig": signed["sig"]},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    try:
        with engine.begin() as conn:
            _known_device(conn, header.device_id, lock=True)
            stored = _duplicate_or_clash(conn, header, env.ct_sha256)
            if stored is not None:
                return stored
            conn.execute(
                store.insert(conn, store.batches).values(
                    device_id=header.device_id,
                    batch_id=header.batch_id,
                    seq=header.seq,
                    ct_sha256=env.ct_sha256,
                    count=header.count,
                    created_at=header.created_at,
                    hq_kid=header.hq_kid,
                    outbox_first=header.outbox[0] if header.outbox else None,
                    outbox_last=header.outbox[1] if header.outbox else None,
                    audit_first=header.audit[0] if header.audit else None,
                    audit_last=header.audit[1] if header.audit else None,
                    audit_head=header.audit_head,
                    received_at=moment,
                    source=source,
                    receipt=receipt,
                )
            )
            inserted = _insert_records(conn, header, records)
            # A version received before raised its flags then; only new ones raise them now.
            _flag_findings(conn, header, inserted)
            # HQ's full watchlist: a hit raises a flag for clerks (devices only say "possible").
            screening.screen_applicants(conn, header.device_id, header.batch_id, records)
            verified = _insert_audit(conn, header, vault_id, audit)
    except Exception as exc:
        problem = _database_failure(engine, exc, header)
        if problem is None:
            raise
        raise problem from None
    errors = sum(1 for r in records if any(f["severity"] == "error" for f in r.findings))
    log.info(
        "accepted batch %s seq %d of device %s: %d records (%d with errors), %d audit entries",
        header.batch_id,
        header.seq,
        header.device_id,
        len(records),
        errors,
        len(audit),
    )
    return IngestResult(
        201,
        receipt,
        header.device_id,
        header.batch_id,
        header.seq,
        records=len(records),
        records_with_errors=errors,
        audit_verified=verified,
    )


def _database_failure(
    engine: Engine, exc: Exception, header: envelope.BatchHeader
) -> HttpProblem | None:
    """The problem to answer for a database error while storing a batch, logged; else None.

    The log names the batch, the device and the error's SQLSTATE and constraint
    (:func:`~sync.hq.logsafe.db_error`), never the driver's message, which quotes the failing
    row. A lost or busy store is ``store-unavailable`` (503); any other failure is HQ's own,
    ``store-failed`` (500): the batch is not the device's fault, nothing of it was stored, and
    the device sends it again later (it retries 5xx). Neither answer quotes the error.
    """
    driver_error = engine.dialect.loaded_dbapi.Error
    if not isinstance(exc, sa.exc.DBAPIError | driver_error):
        return None
    orig = getattr(exc, "orig", None) or exc
    log.error(
        "could not store batch %s seq %d of device %s: %s",
        header.batch_id,
        header.seq,
        header.device_id,
        db_error(exc),
    )
    if isinstance(orig, engine.dialect.loaded_dbapi.OperationalError):
        return HttpProblem(
            "store-unavailable",
            f"HQ's store is unavailable; batch {header.batch_id} was not stored. Retry later.",
            503,
        )
    sqlstate = getattr(orig, "sqlstate", None)
    return HttpProblem(
        "store-failed",
        f"HQ could not store batch {header.batch_id}"
        + (f" (SQLSTATE {sqlstate})" if sqlstate else "")
        + "; the failure is logged for HQ's staff. Nothing of it was stored: send it again later.",
        500,
    )


def _insert_records(
    conn: Connection, header: envelope.BatchHeader, records: list[_Record]
) -> list[_Record]:
    """Insert new record versions; a version already held with other contents is flagged.

    Returns the records inserted now (not held before).
    """
    inserted = store.insert_new(
        conn, store.records, [r.row(header.device_id, header.batch_id) for r in records]
    )
    skipped = [r for r in records if (r.kind, r.id, r.version) not in inserted]
    if skipped:  # a resent copy (another batch id after a restore) or a conflict
        _flag_conflicts(conn, header, skipped)
    return [r for r in records if (r.kind, r.id, r.version) in inserted]


def _flag_conflicts(conn: Connection, header: envelope.BatchHeader, skipped: list[_Record]) -> None:
    """Flag each skipped record version whose held copy differs from the one received."""
    table = store.records
    wanted = {(r.kind, r.id, r.version) for r in skipped}
    by_kind: dict[str, list[str]] = {}
    for kind, record_id, _ in wanted:
        by_kind.setdefault(kind, []).append(record_id)
    held: dict[tuple[str, str, int], sa.Row[Any]] = {}
    # By (kind, id IN …), the leading columns of the primary key: PostgreSQL plans a tuple IN
    # list as a scan of every row with that version.
    for kind, ids in by_kind.items():
        for start in range(0, len(ids), 200):
            chunk = ids[start : start + 200]
            rows = conn.execute(sa.select(table).where(table.c.kind == kind, table.c.id.in_(chunk)))
            held.update(
                {
                    (row.kind, row.id, row.version): row
                    for row in rows
                    if (row.kind, row.id, row.version) in wanted
                }
            )
    for record in skipped:
        row = held[(record.kind, record.id, record.version)]
        same = (row.data, row.state, row.visit_id, row.officer_id, row.at) == (
            record.data,
            record.state,
            record.visit_id,
            record.officer_id,
            record.at,
        )
        if not same:
            store.add_flag(
                conn,
                header.device_id,
                "record-conflict",
                f"{record.kind} {record.id} version {record.version} differs from the copy "
                f"received in batch {row.batch_id} of device {row.device_id}; the first is kept.",
                header.batch_id,
            )


def _chain(prev: bytes, entries: list[Mapping[str, Any]]) -> list[bytes]:
    hashes = []
    for entry in entries:
        prev = envelope.audit_hash(prev, dict(entry))
        hashes.append(prev)
    return hashes


def _insert_audit(
    conn: Connection, header: envelope.BatchHeader, vault_id: str, audit: list[dict[str, Any]]
) -> bool | None:
    """Store the batch's audit entries; verify them when the chain reaches them.

    Returns True when the batch's entries verified, False when they are stored unverified
    (after a gap, or flagged as broken), None when the batch carried none.
    """
    if not audit:
        return None
    table = store.audit_entries
    first = int(audit[0]["seq"])
    prev = _verified_hash(conn, header.device_id, vault_id, first - 1)
    hashes: list[bytes | None] = [None] * len(audit)
    verified = False
    if prev is not None:
        computed = _chain(prev, audit)
        if computed[-1].hex() == header.audit_head:
            hashes, verified = list(computed), True
        else:
            _flag_broken(conn, header.device_id, header.batch_id, first, int(audit[-1]["seq"]))
    rows = [
        {
            "device_id": header.device_id,
            "seq": int(entry["seq"]),
            "batch_id": header.batch_id,
            "at": entry["at"],
            "officer_id": entry["officer_id"],
            "action": entry["action"],
            "subject": entry["subject"],
            "detail": entry["detail"],
            "hash": digest.hex() if digest is not None else None,
            "verified": verified,
        }
        for entry, digest in zip(audit, hashes, strict=True)
    ]
    store.insert_new(conn, table, rows)
    if verified:
        _extend_chain(conn, header.device_id, int(audit[-1]["seq"]), hashes[-1])  # type: ignore[arg-type]
    return verified


def _verified_hash(conn: Connection, device_id: str, vault_id: str, seq: int) -> bytes | None:
    """The verified hash of entry ``seq`` (the genesis hash for 0), or None if not held."""
    if seq == 0:
        return envelope.audit_genesis(vault_id)
    row = conn.execute(
        sa.select(store.audit_entries.c.hash, store.audit_entries.c.verified).where(
            store.audit_entries.c.device_id == device_id, store.audit_entries.c.seq == seq
        )
    ).first()
    if row is None or not row.verified or row.hash is None:
        return None
    return bytes.fromhex(row.hash)


def _flag_broken(conn: Connection, device_id: str, batch_id: str, first: int, last: int) -> None:
    store.add_flag(
        conn,
        device_id,
        "audit-chain-broken",
        f"Audit entries {first}–{last} of batch {batch_id} do not chain to the batch's "
        f"audit_head from the entries HQ holds; first bad entry: {first} or earlier history "
        "rewritten on the device.",
        batch_id,
    )


def _extend_chain(conn: Connection, device_id: str, last: int, prev: bytes) -> None:
    """Verify batches stored after a gap that the newly verified entries now reach."""
    batches, table = store.batches, store.audit_entries
    while True:
        later = conn.execute(
            sa.select(batches.c.batch_id, batches.c.audit_last, batches.c.audit_head).where(
                batches.c.device_id == device_id, batches.c.audit_first == last + 1
            )
        ).first()
        if later is None:
            return
        entries = list(
            conn.execute(
                sa.select(table)
                .where(
                    table.c.device_id == device_id,
                    table.c.seq >= last + 1,
                    table.c.seq <= later.audit_last,
                )
                .order_by(table.c.seq)
            ).mappings()
        )
        if len(entries) != later.audit_last - last or any(e["verified"] for e in entries):
            return
        computed = _chain(prev, entries)
        if computed[-1].hex() != later.audit_head:
            _flag_broken(conn, device_id, later.batch_id, last + 1, int(later.audit_last))
            return
        for entry, digest in zip(entries, computed, strict=True):
            conn.execute(
                table.update()
                .where(table.c.device_id == device_id, table.c.seq == entry["seq"])
                .values(hash=digest.hex(), verified=True)
            )
        last, prev = int(later.audit_last), computed[-1]
