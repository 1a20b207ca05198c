"""The one way tests and benchmarks run a real HQ: ``fieldkit-hq`` in subprocesses on 127.0.0.1.

- :func:`init_hq` runs ``fieldkit-hq init`` in a fresh home (:class:`HQHome`: its environment,
  its store, one-time enrollment codes and reads of its tables);
- :func:`start_server` / :func:`stop_server`, or the context managers :func:`serving` and
  :func:`running_hq` (init, then serve), run ``fieldkit-hq serve --workers N`` on a free port,
  wait until it answers ``/healthz`` (with ``all_workers=True``, until every worker has
  started and answered) and always stop it and every process it started;
- :func:`running_hq_for` is the body of a module-scoped fixture parametrised over ``"sqlite"``
  and ``"postgres"`` that also requires HQ's log to hold no traceback and no 500;
- :func:`run_cli` runs any ``fieldkit-hq`` command with an HQ environment.

Every command runs as ``python -m sync.hq`` from the repository root (the ``fieldkit-hq``
console script's entry point) with ``FIELDKIT_HQ_HOME``, ``FIELDKIT_HQ_PASSPHRASE``
(:data:`PASSPHRASE`), ``FIELDKIT_INSECURE_TEST_KDF=1`` (unlocking HQ's keys is not what is
tested or measured) and, for PostgreSQL, ``FIELDKIT_HQ_DB``; no other ``FIELDKIT_*`` variable
of the caller leaks in.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests
import sqlalchemy as sa

from sync.hq import store
from tests.support.device import Device, device_from_enrollment, verify_receipt
from tests.support.postgres import fresh_database
from tests.support.programs import ROOT

__all__ = [
    "PASSPHRASE",
    "ROOT",
    "Device",
    "HQHome",
    "Server",
    "children",
    "descendants",
    "enrolled_device",
    "free_port",
    "hq_env",
    "init_hq",
    "run_cli",
    "running_hq",
    "running_hq_for",
    "serving",
    "start_server",
    "stop_process",
    "stop_server",
    "verify_receipt",
    "wait_for_workers",
    "wait_until_answers",
    "write_passphrase_file",
]

PASSPHRASE = "kunci markas besar untuk pengujian"
HQ_COMMAND = (sys.executable, "-m", "sync.hq")
READY_SECONDS = 60


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


def run_cli(
    env: dict[str, str], *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``fieldkit-hq ARGS`` and capture its output; with ``check``, fail on a non-zero exit."""
    done = subprocess.run(
        [*HQ_COMMAND, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    if check and done.returncode != 0:
        raise AssertionError(f"fieldkit-hq {' '.join(args)} → {done.returncode}\n{done.stderr}")
    return done


@dataclass
class HQHome:
    """An initialised HQ: its home, its environment and its store."""

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

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``fieldkit-hq ARGS`` against this HQ."""
        return run_cli(self.env, *args, check=check)

    def enroll_code(self, expires: str = "1h") -> str:
        """A one-time code from the store function ``fieldkit-hq device enroll-code`` uses."""
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

    def rows(self, table: sa.Table, *where: sa.ColumnElement[bool]) -> list[dict[str, Any]]:
        """Rows of ``table`` matching ``where``, as dicts."""
        engine = self.engine()
        try:
            with engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(sa.select(table).where(*where))]
        finally:
            engine.dispose()

    def scalar(self, sql: str, **params: object) -> object:
        """The first column of the first row of ``sql`` (with ``:name`` parameters)."""
        engine = self.engine()
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text(sql), params).scalar()
        finally:
            engine.dispose()

    def records(self, device_id: str) -> list[tuple[str, str, int, dict[str, Any]]]:
        """``(kind, id, version, data)`` of every record version HQ holds from ``device_id``."""
        t = store.records
        held = self.rows(t, t.c.device_id == device_id)
        return [
            (r["kind"], r["id"], r["version"], _json(r["data"]))
            for r in held  # the JSON column is text on SQLite
        ]


def _json(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(str(value))


def init_hq(home: Path, db_url: str | None = None) -> HQHome:
    """``fieldkit-hq init`` in ``home``, the store at ``db_url`` (SQLite in ``home`` if None)."""
    env = hq_env(home, db_url)
    run_cli(env, "init")
    return HQHome(home, db_url, env)


def enrolled_device(hq: HQHome) -> Device:
    """A device enrolled with the store function the API uses, holding HQ's public keys."""
    from sync.hq import keys

    unlocked = keys.unlock(hq.home, PASSPHRASE)
    device = Device(unlocked.current.public, unlocked.current_kid, unlocked.signing_public)
    engine = hq.engine()
    try:
        store.enroll_device(
            engine,
            hq.enroll_code(),
            device.device_id,
            device.vault_id,
            device.key.public_key().public_bytes_raw(),
        )
    finally:
        engine.dispose()
    return device


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (Linux /proc; empty elsewhere or once it is gone)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError, ValueError):
            found += [int(x) for x in (task / "children").read_text().split()]
    return found


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``: uvicorn's workers and whatever helper spawned them."""
    found: list[int] = []
    stack = children(pid)
    while stack:
        child = stack.pop()
        found.append(child)
        stack += children(child)
    return found


@dataclass
class Server:
    """``fieldkit-hq serve`` running in a subprocess for an :class:`HQHome`."""

    hq: HQHome
    base: str
    process: subprocess.Popen[bytes]
    log: Path
    workers: int = 1
    _log_handle: IO[bytes] | None = field(default=None, repr=False)
    ca_bundle: Path | None = None
    """The certificate a client must trust when the server speaks HTTPS (``tls=``)."""

    @property
    def url(self) -> str:
        """HQ's base URL, as a device is given it (``http://127.0.0.1:PORT``)."""
        return self.base

    @property
    def home(self) -> Path:
        """HQ's home (its keys and, by default, its SQLite store)."""
        return self.hq.home

    def store_url(self) -> str:
        """The SQLAlchemy URL of the store this server uses."""
        return self.hq.url

    def enroll_code(self, expires: str = "1h") -> str:
        """A one-time enrollment code for this HQ."""
        return self.hq.enroll_code(expires)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``fieldkit-hq ARGS`` against this HQ's home and store."""
        return self.hq.cli(*args, check=check)

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

    def worker_pids(self) -> list[int]:
        """The serving processes: uvicorn's supervisor and everything below it (Linux /proc)."""
        return [self.process.pid, *descendants(self.process.pid)]


def wait_until_answers(
    process: subprocess.Popen[bytes], url: str, log: Path, verify: Path | None = None
) -> None:
    """Wait until ``url`` answers 200, or fail with the server's log if it exits or times out.

    ``verify``: the certificate to trust for an ``https://`` URL.
    """
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"{url}: the server exited {process.returncode}:\n{log.read_text()}"
            )
        try:
            # Connection: close, so no kept-alive connection of this check delays the
            # server's graceful shutdown.
            answer = requests.get(
                url,
                timeout=1,
                verify=str(verify) if verify else True,
                headers={"Connection": "close"},
            )
            if answer.status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer in {READY_SECONDS} s:\n{log.read_text()}")


def wait_for_workers(process: subprocess.Popen[bytes], base: str, workers: int) -> None:
    """Until uvicorn under ``process`` has started ``workers`` workers and they answer ``base``."""
    deadline = time.monotonic() + READY_SECONDS
    while len(children(process.pid)) < workers and time.monotonic() < deadline:
        time.sleep(0.05)
    # Workers start concurrently; a few dozen health checks reach each of them in practice.
    with requests.Session() as http:
        for _ in range(20 * workers):
            http.get(base, timeout=30).raise_for_status()
            http.close()
    time.sleep(1.0)  # a worker still unlocking its keys would only slow the first requests


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop a server process (SIGTERM; uvicorn stops its workers) and kill what is left of it."""
    below = descendants(process.pid)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    for pid in below:  # only processes this server started; gone already, as a rule
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def write_passphrase_file(path: Path, passphrase: str = PASSPHRASE) -> Path:
    """HQ's passphrase in a file only its owner can read (``serve --passphrase-file``)."""
    path.touch(mode=0o600)
    path.write_text(passphrase + "\n", encoding="utf-8")
    return path


def start_server(
    hq: HQHome,
    workers: int = 2,
    *,
    log_level: str | None = None,
    all_workers: bool = False,
    tls: tuple[Path, Path] | None = None,
    passphrase_file: Path | None = None,
) -> Server:
    """Start ``fieldkit-hq serve`` on a free port and wait until ``/healthz`` answers.

    ``log_level`` is uvicorn's (its default, ``info``, logs every request: :func:`running_hq_for`
    reads that log); ``all_workers`` waits for every worker too (the benchmarks measure from
    the first request on). ``tls``: serve HTTPS with this ``(certificate, key)`` (the server's
    ``ca_bundle`` is the certificate). ``passphrase_file``: HQ's passphrase comes from this
    file (``--passphrase-file``) and ``FIELDKIT_HQ_PASSPHRASE`` is not in the environment.
    """
    port = free_port()
    log = hq.home / f"serve-{port}.log"
    handle = log.open("wb")
    command = [*HQ_COMMAND, "serve", "--port", str(port), "--workers", str(workers)]
    if log_level:
        command += ["--log-level", log_level]
    env = dict(hq.env)
    if tls is not None:
        command += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
    if passphrase_file is not None:
        command += ["--passphrase-file", str(passphrase_file)]
        env.pop("FIELDKIT_HQ_PASSPHRASE")
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
    scheme = "https" if tls is not None else "http"
    server = Server(hq, f"{scheme}://127.0.0.1:{port}", process, log, workers, handle)
    server.ca_bundle = tls[0] if tls is not None else None
    try:
        wait_until_answers(process, f"{server.base}/healthz", log, server.ca_bundle)
        if all_workers and workers > 1:
            wait_for_workers(process, f"{server.base}/healthz", workers)
    except BaseException:
        stop_server(server)
        raise
    return server


def stop_server(server: Server) -> None:
    """Stop the server and every process it started (:func:`stop_process`); close its log."""
    stop_process(server.process)
    if server._log_handle is not None:
        server._log_handle.close()


def assert_never_failed(server: Server) -> None:
    """No input made HQ fail: no traceback and no 500 in its log (after it stopped)."""
    log = server.log.read_text()
    assert "Traceback" not in log, log
    assert '" 500' not in log, log


@contextlib.contextmanager
def serving(hq: HQHome, workers: int = 2, **options: Any) -> Iterator[Server]:
    """``fieldkit-hq serve`` for a ``with`` block (:func:`start_server`, :func:`stop_server`)."""
    running = start_server(hq, workers, **options)
    try:
        yield running
    finally:
        stop_server(running)


@contextlib.contextmanager
def running_hq(
    home: Path, db_url: str | None = None, *, workers: int = 1, init: bool = True, **options: Any
) -> Iterator[Server]:
    """``fieldkit-hq init`` in ``home`` (unless ``init=False``), then :func:`serving`.

    With ``init=False`` the home's keys are reused and only the store (``db_url``) may be new:
    ``serve`` migrates it before listening.
    """
    hq = init_hq(home, db_url) if init else HQHome(home, db_url, hq_env(home, db_url))
    with serving(hq, workers, **options) as running:
        yield running


def running_hq_for(request: Any, tmp_path_factory: Any) -> Iterator[Server]:
    """Body of a module-scoped ``server`` fixture parametrised over "sqlite" and "postgres".

    Starts HQ (two workers) over SQLite or a fresh PostgreSQL database, yields it, and
    afterwards requires that no input made HQ fail: no traceback, no 500 in its log.
    """
    with contextlib.ExitStack() as stack:
        db_url = None
        if request.param == "postgres":
            admin = request.getfixturevalue("postgres_admin")
            db_url = stack.enter_context(fresh_database(admin))
        hq = init_hq(tmp_path_factory.mktemp(f"hq-{request.param}"), db_url)
        with serving(hq) as running:
            yield running
    assert_never_failed(running)


# --- attacks on a running HQ (tests/integration/test_hq_bomb.py and its neighbours) ---------


def with_env(hq: HQHome, **overrides: str) -> HQHome:
    """The same HQ with more environment (e.g. small ``FIELDKIT_HQ_*`` limits for a test)."""
    return HQHome(hq.home, hq.db_url, {**hq.env, **overrides})


def seal_body(device: Device, header: Any, body: bytes) -> bytes:
    """An envelope of ``body`` bytes exactly as ``device`` would seal and sign it.

    Real crypto, the device's own key and the HQ key it pinned, but none of ``seal_batch``'s
    checks on the body: how an attacker holding a device key builds a zip bomb.
    """
    import hashlib

    from sync.wire import envelope

    header_bytes = envelope.canonical(header.as_json())
    ciphertext = envelope.SUITE.encrypt(
        body,
        envelope.hq_public_key(device.hq_public),
        info=envelope.BATCH_INFO_PREFIX + header_bytes,
    )
    signature = device.key.sign(header_bytes + hashlib.sha256(ciphertext).digest())
    return b"".join(
        (
            envelope.MAGIC,
            len(header_bytes).to_bytes(envelope.LENGTH_BYTES, "big"),
            header_bytes,
            signature,
            ciphertext,
        )
    )


def memory_kib(pid: int) -> dict[str, int]:
    """The kernel's memory accounting of ``pid`` (``/proc/<pid>/status``): VmRSS, VmHWM in KiB.

    VmHWM is the peak resident set size since the process started or since
    :func:`reset_peak_memory`.
    """
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


def reset_peak_memory(pid: int) -> bool:
    """Set ``pid``'s VmHWM back to its current RSS (``clear_refs`` 5); False if not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True
