"""What the HQ tests share: an HQ home made by the real CLI, a field device that seals real batches.

Nothing here stands in for HQ: the device side uses ``sync.wire.envelope`` exactly as a laptop does
(its own Ed25519 key, batches sealed to the HQ key it was given at enrollment, the audit chain
computed from its vault id). The tests at the bottom check the harness against the vault.
"""

from __future__ import annotations

import base64
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldkit.domain.synth import synthetic_applicants
from sync.hq import store
from sync.wire import envelope

PASSPHRASE = "kunci markas besar untuk pengujian"
ROOT = Path(__file__).resolve().parents[2]


def hq_env(home: Path, db_url: str | None) -> dict[str, str]:
    """The environment of an HQ process for ``home`` and the store at ``db_url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}
    env.update(
        FIELDKIT_HQ_HOME=str(home),
        FIELDKIT_HQ_PASSPHRASE=PASSPHRASE,
        FIELDKIT_INSECURE_TEST_KDF="1",
        PYTHONPATH=str(ROOT),
    )
    if db_url:
        env["FIELDKIT_HQ_DB"] = db_url
    return env


def run_cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``fieldkit-hq ARGS`` (as ``python -m sync.hq``) and capture its output."""
    done = subprocess.run(
        [sys.executable, "-m", "sync.hq", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"fieldkit-hq {' '.join(args)} → {done.returncode}\n{done.stderr}")
    return done


@dataclass
class HQHome:
    """An initialised HQ: its environment and its store's URL."""

    home: Path
    db_url: str | None
    env: dict[str, str]

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the store."""
        return store.database_url(self.home, self.db_url or "")

    def engine(self) -> sa.Engine:
        """An engine on the store (already migrated by ``init``)."""
        return store.create_engine(self.url)

    def enroll_code(self, expires: str = "1h") -> str:
        """A one-time code from the store function the CLI uses."""
        from sync.hq.cli import parse_duration

        engine = self.engine()
        try:
            return store.create_enroll_code(engine, parse_duration(expires))[0]
        finally:
            engine.dispose()

    def count(self, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
        """Rows of ``table`` matching ``where``."""
        engine = self.engine()
        try:
            with engine.connect() as conn:
                query = sa.select(sa.func.count()).select_from(table).where(*where)
                return int(conn.execute(query).scalar_one())
        finally:
            engine.dispose()

    def rows(self, table: sa.Table, *where: sa.ColumnElement[bool]) -> list[dict[str, object]]:
        """Rows of ``table`` matching ``where``, as dicts."""
        engine = self.engine()
        try:
            with engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(sa.select(table).where(*where))]
        finally:
            engine.dispose()


def init_hq(home: Path, db_url: str | None) -> HQHome:
    """``fieldkit-hq init`` in ``home`` with the store at ``db_url`` (SQLite when None)."""
    env = hq_env(home, db_url)
    run_cli(env, "init")
    return HQHome(home, db_url, env)


@dataclass
class Device:
    """A field device as HQ sees it: an id, a vault id, a signing key and its counters."""

    hq_public: bytes
    hq_kid: str
    hq_signing_public: bytes
    device_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    vault_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    seq: int = 0
    outbox: int = 0
    audit_seq: int = 0
    audit_hash: bytes = b""
    people: Iterator[dict[str, object]] | None = None

    def __post_init__(self) -> None:
        self.audit_hash = envelope.audit_genesis(self.vault_id)
        seed = int(uuid.UUID(self.device_id)) % 10**6
        self.people = (a.as_json() for a in synthetic_applicants(10_000, seed))

    def applicant(self, visit_id: str) -> dict[str, object]:
        """A record item for a new synthetic applicant, with the vault's workflow fields."""
        self.outbox += 1
        data = {
            **next(self.people),  # type: ignore[arg-type]
            "documents_seen": [],
            "payment": None,
            "biometrics_ref": None,
            "decision": None,
            "notes": "",
        }
        return {
            "t": "r",
            "kind": "applicant",
            "id": str(uuid.uuid4()),
            "version": 1,
            "visit_id": visit_id,
            "state": "captured",
            "officer_id": "sup1",
            "at": "2025-03-08T02:00:00.000000+00:00",
            "outbox_seq": self.outbox,
            "data": data,
        }

    def audit_entries(self, n: int) -> list[dict[str, object]]:
        """The next ``n`` audit items, advancing the device's chain."""
        items = []
        for _ in range(n):
            self.audit_seq += 1
            item: dict[str, object] = {
                "t": "a",
                "seq": self.audit_seq,
                "at": "2025-03-08T02:00:00.000000+00:00",
                "officer_id": "sup1",
                "action": "applicant_created",
                "subject": f"applicant:{uuid.uuid4()}",
                "detail": '{"count":1}',
            }
            self.audit_hash = envelope.audit_hash(self.audit_hash, item)
            items.append(item)
        return items

    def cut(
        self,
        records: int = 2,
        audit: int = 1,
        *,
        seq: int | None = None,
        batch_id: str | None = None,
        hq_public: bytes | None = None,
        hq_kid: str | None = None,
        items: list[dict[str, object]] | None = None,
        audit_head: str | None = None,
    ) -> tuple[envelope.BatchHeader, bytes]:
        """Seal the next batch (or one with the given seq, id, HQ key, items or audit head)."""
        if items is None:
            visit = str(uuid.uuid4())
            items = [self.applicant(visit) for _ in range(records)] + self.audit_entries(audit)
        rec = [i for i in items if i["t"] == "r"]
        aud = [i for i in items if i["t"] == "a"]
        if seq is None:
            self.seq += 1
            seq = self.seq
        if aud and audit_head is None:
            audit_head = self.audit_hash.hex()
        header = envelope.BatchHeader(
            device_id=self.device_id,
            batch_id=batch_id or str(uuid.uuid4()),
            seq=seq,
            created_at="2025-03-08T02:05:00+00:00",
            hq_kid=hq_kid or self.hq_kid,
            count=len(items),
            outbox=(rec[0]["outbox_seq"], rec[-1]["outbox_seq"]) if rec else None,  # type: ignore[arg-type]
            audit=(aud[0]["seq"], aud[-1]["seq"]) if aud else None,  # type: ignore[arg-type]
            audit_head=audit_head,
        )
        sealed = envelope.seal_batch(
            header, items, hq_public=hq_public or self.hq_public, device_key=self.key
        )
        return header, sealed

    def enroll_body(self, code: str) -> dict[str, str]:
        """The body of ``POST /v1/enroll``."""
        public = self.key.public_key().public_bytes_raw()
        return {
            "code": code,
            "device_id": self.device_id,
            "vault_id": self.vault_id,
            "device_public_key": base64.b64encode(public).decode("ascii"),
        }


def device_from_enrollment(answer: dict[str, str], device: Device | None = None) -> Device:
    """Pin the HQ keys from an enrollment answer into a device."""
    public = base64.b64decode(answer["hq_encryption_public_key"])
    signing = base64.b64decode(answer["hq_signing_public_key"])
    if device is None:
        return Device(public, answer["hq_kid"], signing)
    device.hq_public, device.hq_kid, device.hq_signing_public = public, answer["hq_kid"], signing
    return device


def verify_receipt(payload: object, hq_signing_public: bytes) -> dict[str, object]:
    """The receipt inside ``{"receipt": {…}, "sig": b64}`` once HQ's signature checks out."""
    assert isinstance(payload, dict) and set(payload) == {"receipt", "sig"}, payload
    signed = {"document": payload["receipt"], "sig": payload["sig"]}
    return envelope.verify_document(signed, hq_signing_public)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """``fieldkit-hq serve`` running in a subprocess."""

    hq: HQHome
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def enroll(self, device: Device | None = None, code: str | None = None) -> Device:
        """Enroll a new device through ``POST /v1/enroll`` and pin the keys it answers."""
        code = code or self.hq.enroll_code()
        placeholder = device or Device(b"", "", b"")
        answer = requests.post(f"{self.base}/v1/enroll", json=placeholder.enroll_body(code))
        assert answer.status_code == 201, answer.text
        return device_from_enrollment(answer.json(), placeholder)

    def post(self, data: bytes, **headers: str) -> requests.Response:
        """``POST /v1/batches``."""
        headers.setdefault("Content-Type", "application/octet-stream")
        return requests.post(f"{self.base}/v1/batches", data=data, headers=headers, timeout=30)


def start_server(hq: HQHome, workers: int = 2) -> Server:
    """Start ``fieldkit-hq serve`` on a free port and wait until ``/healthz`` answers."""
    port = free_port()
    log = hq.home / f"serve-{port}.log"
    handle = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "sync.hq", "serve", "--port", str(port), "--workers", str(workers)],
        env=hq.env,
        cwd=ROOT,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                return Server(hq, base, process, log)
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"serve did not answer /healthz in 30 s:\n{log.read_text()}")


@contextmanager
def serving(hq: HQHome, workers: int = 2) -> Iterator[Server]:
    """``fieldkit-hq serve`` for a ``with`` block (:func:`start_server`, :func:`stop_server`)."""
    running = start_server(hq, workers)
    try:
        yield running
    finally:
        stop_server(running)


def stop_server(server: Server) -> None:
    """Stop the server process (and its workers) started by :func:`start_server`."""
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=5)


# --- the harness itself ------------------------------------------------------------------------


def running_hq_for(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Server]:
    """Body of a module-scoped ``server`` fixture parametrised over "sqlite" and "postgres".

    Starts HQ over SQLite or a fresh PostgreSQL database (made like ``postgres_url``), yields
    it, and afterwards requires that no input made HQ fail: no traceback, no 500 in its log.
    """
    from tests.conftest import PG_ADMIN_URL

    db_url = None
    admin = None
    name = f"fieldkit_test_{uuid.uuid4().hex[:12]}"
    if request.param == "postgres":
        admin = request.getfixturevalue("postgres_admin")
        admin.execute(f'CREATE DATABASE "{name}"')
        db_url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    hq = init_hq(tmp_path_factory.mktemp(f"hq-{request.param}"), db_url)
    running = start_server(hq)
    try:
        yield running
    finally:
        stop_server(running)
        log = running.log.read_text()
        if admin is not None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert "Traceback" not in log, log
    assert '" 500' not in log, log


def test_the_device_audit_chain_is_the_vaults(tmp_path):
    """HQ's recomputation (sync.wire.envelope) agrees with the chain a real vault writes."""
    from fieldkit.vault import audit

    vault_id = str(uuid.uuid4())
    conn = sqlite3.connect(tmp_path / "audit.db")
    conn.execute(
        "CREATE TABLE audit (seq INTEGER PRIMARY KEY, at TEXT, officer_id TEXT, action TEXT, "
        "subject TEXT, detail TEXT, prev_hash BLOB, hash BLOB)"
    )
    audit.append_many(conn, vault_id, [("sup1", "x", "s:1", {"n": 1}), (None, "y", None, {})])
    prev = envelope.audit_genesis(vault_id)
    for seq, at, officer, action, subject, detail, _prev, digest in conn.execute(
        "SELECT * FROM audit ORDER BY seq"
    ):
        item = {"seq": seq, "at": at, "officer_id": officer, "action": action}
        prev = envelope.audit_hash(prev, {**item, "subject": subject, "detail": detail})
        assert prev == digest
    assert audit.verify(conn, vault_id).ok


def test_a_harness_device_seals_what_hq_parses():
    private, public = envelope.generate_hq_encryption_key()
    device = Device(public, envelope.hq_kid(public), b"")
    header, sealed = device.cut(records=3, audit=2)
    parsed = envelope.parse_envelope(sealed)
    assert parsed.header == header
    envelope.verify_signature(parsed, device.key.public_key().public_bytes_raw())
    items = envelope.open_batch(parsed, private)
    assert [i["t"] for i in items] == ["r", "r", "r", "a", "a"]
    assert header.audit_head == device.audit_hash.hex()


@pytest.fixture
def sqlite_hq(tmp_path) -> HQHome:
    """An HQ with the SQLite store, initialised by the real CLI."""
    return init_hq(tmp_path / "hq", None)
