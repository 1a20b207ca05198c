"""What the sync benchmarks share: a real HQ, a trivial server, a byte-counting relay, devices.

Not a benchmark itself. Everything runs on 127.0.0.1 and writes only under the benchmark's
temporary directory:

- :func:`running_hq` is the tests' HQ runner (``tests.support.hq.running_hq``): ``fieldkit-hq
  init`` and ``fieldkit-hq serve --workers N`` in subprocesses with ``FIELDKIT_HQ_HOME`` in the
  temporary directory, ``FIELDKIT_HQ_PASSPHRASE`` and ``FIELDKIT_INSECURE_TEST_KDF=1``
  (unlocking HQ's keys is not what is measured), and ``FIELDKIT_HQ_DB`` for PostgreSQL; here it
  waits until every worker answers and logs warnings only;
- :func:`postgres_database` creates a fresh ``fieldkit_bench_<random>`` database and drops it
  (``tests.support.postgres``; the server is ``FIELDKIT_BENCH_PG``);
- :func:`running_trivial` runs uvicorn as ``fieldkit-hq serve`` does (the same HTTP protocol
  class, ``sync.hq.serving.NoDelayH11Protocol``, and the same number of workers) with
  :func:`trivial_app`, an ASGI app that reads the body and answers ``201 {}``: the baseline
  server;
- :class:`CountingRelay` is a TCP forwarder that counts every byte in each direction and
  splits the streams into HTTP/1.1 messages (head and body sizes), so "bytes on the wire"
  includes the request line, status line and all headers;
- :func:`new_device` makes a real vault (cheap test KDF), captures synthetic applicants with
  ``service.add_applicants``, and enrolls it with ``SyncClient.enroll`` using a one-time code
  from HQ's store.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench import _common as c
from fieldkit import kdf
from fieldkit.domain.synth import synthetic_applicants
from fieldkit.service import applicants as service_applicants
from fieldkit.service.session import OfficerSession
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.vault import Vault
from sync.device.client import SyncClient
from tests.support import hq as support_hq
from tests.support import postgres
from tests.support.hq import PASSPHRASE as HQ_PASSPHRASE
from tests.support.hq import Server as Hq
from tests.support.hq import (
    descendants,
    free_port,
    init_hq,
    stop_process,
    wait_for_workers,
    wait_until_answers,
)

__all__ = ["HQ_PASSPHRASE", "Hq", "init_hq"]

PG_ADMIN_URL = os.environ.get("FIELDKIT_BENCH_PG", postgres.PG_ADMIN_URL)


# --- PostgreSQL ---------------------------------------------------------------------------------


def postgres_database(admin_url: str = PG_ADMIN_URL) -> contextlib.AbstractContextManager[str]:
    """A fresh, empty ``fieldkit_bench_<random>`` database on the server; dropped afterwards."""
    return postgres.scratch_database(admin_url, prefix="fieldkit_bench")


def postgres_version(admin_url: str = PG_ADMIN_URL) -> str:
    """The server's version string (for the machine line)."""
    return postgres.server_version(admin_url)


# --- HQ ------------------------------------------------------------------------------------------


def running_hq(
    home: Path, db_url: str | None = None, *, workers: int = 1, init: bool = True
) -> contextlib.AbstractContextManager[Hq]:
    """``fieldkit-hq [init +] serve --workers N`` on a free port, every worker answering.

    With ``init=False`` the home's keys are reused and only the store (``db_url``) is new:
    ``serve`` migrates it before listening.
    """
    options: dict[str, Any] = {"log_level": "warning", "all_workers": True}
    return support_hq.running_hq(home, db_url, workers=workers, init=init, **options)


# --- the baseline server -----------------------------------------------------------------------


async def trivial_app(scope: dict, receive: Callable, send: Callable) -> None:
    """An ASGI app that reads the whole request body and answers ``201 {}``."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    size = 0
    more = True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"{}"
    await send(
        {
            "type": "http.response.start",
            "status": 201 if scope.get("method") == "POST" else 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


@dataclass
class Trivial:
    """The running baseline server."""

    url: str
    process: subprocess.Popen[bytes]
    workers: int

    def worker_pids(self) -> list[int]:
        """uvicorn's process and its workers."""
        return [self.process.pid, *descendants(self.process.pid)]


@contextlib.contextmanager
def running_trivial(tmp: Path, *, workers: int = 1) -> Iterator[Trivial]:
    """uvicorn serving :func:`trivial_app` with ``workers`` workers, configured as HQ's serve.

    ``fieldkit-hq serve`` runs uvicorn with ``sync.hq.serving.NoDelayH11Protocol`` (TCP_NODELAY
    on every connection, for 1 and N workers), so the baseline does too: the same-run ratio
    then compares like with like.
    """
    port = free_port()
    log = tmp / f"trivial-{port}.log"
    env = {**os.environ, "PYTHONPATH": str(c.REPO)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "bench.sync_harness:trivial_app"),
                *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
                *("--log-level", "warning"),
                *("--http", "sync.hq.serving:NoDelayH11Protocol"),
            ],
            env=env,
            cwd=c.REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        server = Trivial(f"http://127.0.0.1:{port}", process, workers)
        try:
            wait_until_answers(process, server.url + "/", log)
            if workers > 1:
                wait_for_workers(process, server.url + "/", workers)
            yield server
        finally:
            stop_process(process)


# --- counting bytes ------------------------------------------------------------------------------


@dataclass
class Message:
    """One HTTP/1.1 message as it crossed the relay: head (start line + headers + CRLF) and body."""

    head: int
    body: int
    start_line: str

    @property
    def total(self) -> int:
        """Every byte of the message."""
        return self.head + self.body


class _Framer:
    """Splits one direction of an HTTP/1.1 connection into messages (Content-Length or chunked)."""

    def __init__(self, out: list[Message], lock: threading.Lock) -> None:
        self.out = out
        self.lock = lock
        self.buffer = b""
        self.head: bytes | None = None
        self.need = 0
        self.chunked = False
        self.body = 0

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.head is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                self.head, self.buffer = self.buffer[: end + 4], self.buffer[end + 4 :]
                self.need, self.chunked, self.body = 0, False, 0
                for line in self.head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        self.need = int(value.strip())
                    elif name == b"transfer-encoding" and b"chunked" in value.lower():
                        self.chunked = True
            if self.chunked:
                end = self.buffer.find(b"0\r\n\r\n")
                if end < 0:
                    return
                self.body, self.buffer = end + 5, self.buffer[end + 5 :]
            else:
                if len(self.buffer) < self.need:
                    return
                self.body, self.buffer = self.need, self.buffer[self.need :]
            start = self.head.split(b"\r\n", 1)[0].decode("latin-1")
            with self.lock:
                self.out.append(Message(len(self.head), self.body, start))
            self.head = None


class CountingRelay:
    """A TCP relay on 127.0.0.1 to ``upstream_port`` that counts and frames every byte.

    ``requests`` and ``responses`` list the HTTP messages in the order they completed;
    ``raw_up`` and ``raw_down`` count the bytes in each direction, framed or not (they must
    equal the sums of the messages); ``connections`` counts the TCP connections opened.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.lock = threading.Lock()
        self.requests: list[Message] = []
        self.responses: list[Message] = []
        self.raw_up = 0
        self.raw_down = 0
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._sockets: list[socket.socket] = []
        self._closing = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> CountingRelay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing = True
        self.listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def reset(self) -> None:
        """Forget what was counted so far (connections stay open)."""
        with self.lock:
            self.requests.clear()
            self.responses.clear()
            self.raw_up = self.raw_down = self.connections = 0

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sockets += [client, server]
            with self.lock:
                self.connections += 1
            up = _Framer(self.requests, self.lock)
            down = _Framer(self.responses, self.lock)
            threading.Thread(
                target=self._pump, args=(client, server, up, True), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(server, client, down, False), daemon=True
            ).start()

    def _pump(self, src: socket.socket, dst: socket.socket, framer: _Framer, up: bool) -> None:
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    break
                with self.lock:
                    if up:
                        self.raw_up += len(data)
                    else:
                        self.raw_down += len(data)
                framer.feed(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

    def settle(self, expected: int, timeout: float = 10) -> None:
        """Wait until ``expected`` responses have been framed (the pumps run in threads)."""
        deadline = time.monotonic() + timeout
        while len(self.responses) < expected and time.monotonic() < deadline:
            time.sleep(0.01)


# --- devices -------------------------------------------------------------------------------------


def new_vault(home: Path) -> UnlockedVault:
    """A fresh vault (cheap test KDF: unlocking is not measured) with an office visit."""
    return Vault.create(
        home,
        officer_id=c.OFFICER_ID,
        name=c.OFFICER_NAME,
        passphrase=c.PASSPHRASE,
        params=kdf.INSECURE_TEST_PARAMS,
    )


def capture(session: UnlockedVault, applicants: int, seed: int, per_save: int) -> str:
    """Capture ``applicants`` synthetic people at a new visit, ``per_save`` per user action.

    One ``add_applicants`` call is one user action with one audit entry, so ``per_save=1`` is
    an officer saving each applicant as they are served; the visit's id is returned.
    """
    visit_id = c.new_visit(session)
    desk = OfficerSession(session)
    people = [a.as_json() for a in synthetic_applicants(applicants, seed)]
    for start in range(0, len(people), per_save):
        service_applicants.add_applicants(desk, visit_id, people[start : start + per_save])
    return visit_id


def enroll(session: UnlockedVault, hq: Hq) -> None:
    """Enroll the vault's device with ``hq`` (a one-time code, ``SyncClient.enroll``)."""
    SyncClient(hq.url, session).enroll(hq.enroll_code())


def reopen(home: Path) -> UnlockedVault:
    """Open and unlock a vault written by :func:`new_vault`."""
    return Vault.open(home).unlock(c.OFFICER_ID, c.PASSPHRASE, allow_test_kdf=True)


def outbox_items(session: UnlockedVault) -> list[dict[str, object]]:
    """Every record version in the outbox as the body item a batch carries (decrypted)."""
    from sync.device.batches import record_item

    rows = session.conn.execute("SELECT seq, kind, id, version FROM outbox ORDER BY seq")
    return [record_item(session, *row) for row in rows.fetchall()]


def stored_envelopes(session: UnlockedVault) -> list[bytes]:
    """The envelopes of every batch the vault has cut, in seq order."""
    from fieldkit.vault import syncstate

    return [syncstate.envelope(session.conn, b.seq) for b in syncstate.batches(session.conn)]


# --- CPU accounting (Linux /proc) ----------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by ``pids`` (0 for any that is gone)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / _TICK


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    try:
        values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return (total - idle) / _TICK, total / _TICK


@dataclass
class CpuWindow:
    """CPU used by given processes, this process and the whole machine between two marks."""

    pids: list[int]
    start: dict[str, float] = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)

    def __enter__(self) -> CpuWindow:
        busy, total = machine_busy()
        self.start = {
            "servers": cpu_seconds(self.pids),
            "self": time.process_time(),
            "busy": busy,
            "total": total,
            "wall": time.perf_counter(),
        }
        return self

    def __exit__(self, *exc: object) -> None:
        busy, total = machine_busy()
        s = self.start
        self.used = {
            "servers": cpu_seconds(self.pids) - s["servers"],
            "self": time.process_time() - s["self"],
            "machine_busy": busy - s["busy"],
            "machine_total": total - s["total"],
            "wall": time.perf_counter() - s["wall"],
        }


# --- one measured sync through the relay, and its per-record baseline ----------------------------


@dataclass
class Exchange:
    """One request and its response as they crossed the relay."""

    request: Message
    response: Message

    def as_json(self) -> dict[str, object]:
        """Sizes in bytes."""
        return {
            "request": self.request.start_line,
            "request_head": self.request.head,
            "request_body": self.request.body,
            "response": self.response.start_line,
            "response_head": self.response.head,
            "response_body": self.response.body,
        }


def _exchanges(relay: CountingRelay, expected: int) -> list[Exchange]:
    relay.settle(expected)
    if len(relay.requests) != expected or len(relay.responses) != expected:
        raise RuntimeError(
            f"relay framed {len(relay.requests)} requests and {len(relay.responses)} responses, "
            f"expected {expected}"
        )
    up = sum(m.total for m in relay.requests)
    down = sum(m.total for m in relay.responses)
    if (up, down) != (relay.raw_up, relay.raw_down):
        raise RuntimeError(f"framing lost bytes: {(up, down)} != {(relay.raw_up, relay.raw_down)}")
    return [Exchange(q, r) for q, r in zip(relay.requests, relay.responses, strict=True)]


@dataclass
class WireRun:
    """A measured sync of one device and the per-record baseline of the same records."""

    applicants: int
    records: int  # record versions synced: the applicants and their visit
    audit: int  # audit entries synced
    sync: list[Exchange]
    sync_seconds: float
    baseline: list[Exchange]
    baseline_seconds: float
    envelopes: list[dict[str, int]]
    record_json_bytes: list[int]
    connections: tuple[int, int]

    @staticmethod
    def totals(exchanges: list[Exchange]) -> dict[str, int]:
        """Bytes by direction and part, and the number of requests."""
        return {
            "requests": len(exchanges),
            "request_heads": sum(e.request.head for e in exchanges),
            "request_bodies": sum(e.request.body for e in exchanges),
            "response_heads": sum(e.response.head for e in exchanges),
            "response_bodies": sum(e.response.body for e in exchanges),
            "up": sum(e.request.total for e in exchanges),
            "down": sum(e.response.total for e in exchanges),
            "total": sum(e.request.total + e.response.total for e in exchanges),
        }


def envelope_parts(data: bytes, hq_keys: object) -> dict[str, int]:
    """Sizes of an envelope's parts, and of its body before compression (opened with HQ's key)."""
    from sync.wire import envelope

    parsed = envelope.parse_envelope(data)
    private = hq_keys.decryption_key(parsed.header.hq_kid)  # type: ignore[attr-defined]
    items = envelope.open_batch(parsed, private)
    body = len(parsed.ciphertext) - envelope.ENC_BYTES - envelope.TAG_BYTES
    return {
        "total": len(data),
        "magic_and_length": len(envelope.MAGIC) + envelope.LENGTH_BYTES,
        "header": len(parsed.header_bytes),
        "signature": len(parsed.signature),
        "encapsulated_key": envelope.ENC_BYTES,
        "body_zlib": body,
        "tag": envelope.TAG_BYTES,
        "items": len(items),
        "records": sum(1 for i in items if i["t"] == "r"),
        "audit": sum(1 for i in items if i["t"] == "a"),
        "body_jsonl": sum(len(envelope.canonical(i)) + 1 for i in items),
    }


def measure_wire(tmp: Path, applicants: int, seed: int, per_save: int) -> WireRun:
    """Sync a fresh device's ``applicants`` to a real HQ (SQLite) through a counting relay.

    The device enrolls directly (enrollment is once per laptop, not per sync); then
    ``SyncClient(relay).sync(once=True)`` runs: the checkpoint GET and every batch POST, with
    their responses, are counted. Baseline, same run: each record version the batches carried
    (applicants and their visit), as the plaintext item JSON (canonical: compact, UTF-8), POSTed
    one per request with ``requests`` on one kept-alive connection to :func:`trivial_app` under
    the same uvicorn, through a second relay.
    """
    from sync.device.client import USER_AGENT
    from sync.hq import keys
    from sync.wire import envelope

    with (
        running_hq(tmp / "hq") as hq,
        running_trivial(tmp) as trivial,
        CountingRelay(int(hq.url.rsplit(":", 1)[1])) as to_hq,
        CountingRelay(int(trivial.url.rsplit(":", 1)[1])) as to_trivial,
    ):
        session = new_vault(tmp / "device")
        enroll(session, hq)
        capture(session, applicants, seed, per_save)
        to_hq.reset()
        t0 = time.perf_counter()
        report = SyncClient(to_hq.url, session).sync(once=True)
        sync_seconds = time.perf_counter() - t0
        if report.exit_code != 0:
            raise RuntimeError(f"sync failed: {report.as_json('en')}")
        sync = _exchanges(to_hq, report.acked + 1)  # the checkpoint, then one POST per batch
        hq_keys = keys.unlock(hq.home, HQ_PASSPHRASE)
        envelopes = [envelope_parts(data, hq_keys) for data in stored_envelopes(session)]
        items = outbox_items(session)
        bodies = [envelope.canonical(item) for item in items]
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        with requests.Session() as http:
            t0 = time.perf_counter()
            for body in bodies:
                answer = http.post(to_trivial.url + "/v1/records", data=body, headers=headers)
                if answer.status_code != 201:
                    raise RuntimeError(f"baseline server answered {answer.status_code}")
            baseline_seconds = time.perf_counter() - t0
        baseline = _exchanges(to_trivial, len(bodies))
        session.vault.close()
        return WireRun(
            applicants=applicants,
            records=sum(e["records"] for e in envelopes),
            audit=sum(e["audit"] for e in envelopes),
            sync=sync,
            sync_seconds=sync_seconds,
            baseline=baseline,
            baseline_seconds=baseline_seconds,
            envelopes=envelopes,
            record_json_bytes=[len(b) for b in bodies],
            connections=(to_hq.connections, to_trivial.connections),
        )


def worktree() -> str:
    """Uncommitted changes under fieldkit/ and sync/ when the run started (others' work)."""
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain", "--", "fieldkit", "sync"],
            cwd=c.REPO,
            capture_output=True,
            text=True,
        )
    except OSError:
        return "unknown"
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return f"{len(lines)} uncommitted paths in fieldkit/ and sync/" if lines else "clean"


if __name__ == "__main__":  # not a benchmark: --help (or no argument) describes the module
    import argparse

    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    print(__doc__)
