"""Running HQ's app under uvicorn: one process, or a supervisor with N worker processes.

Two things uvicorn's ``run()`` would get wrong for us with ``--workers N`` > 1:

- **The passphrase.** Each worker is a fresh (spawned) interpreter that must unlock HQ's keys.
  ``uvicorn.run`` can only start workers from an import string, so the secret would have to
  reach them through the environment, where every child process and ``/proc/<pid>/environ``
  can read it for the worker's whole life. Instead the supervisor hands each worker a
  :class:`WorkerApp` (the app factory, holding the passphrase) through the pipe
  ``multiprocessing`` spawns it with: no worker's environment holds it. The supervisor's own
  environment holds it only when the operator put it there (``FIELDKIT_HQ_PASSPHRASE``: the
  kernel keeps a process's initial environment in ``/proc/<pid>/environ`` whatever
  ``os.environ`` later drops, so ``serve`` warns); read from a file, a systemd credential or a
  descriptor (``--passphrase-file``, ``--passphrase-fd``) it is in no environment at all.
- **TCP_NODELAY.** uvicorn binds the shared listening socket with protocol 0, and asyncio only
  sets ``TCP_NODELAY`` on accepted sockets whose protocol is ``IPPROTO_TCP``; without it every
  answer on a kept-alive connection waits ≈ 40 ms for the client's delayed ACK
  (github.com/Kludex/uvicorn/issues/3149; measured in docs/BENCHMARKS.md, "Sync").
  :class:`NoDelayH11Protocol` sets it on each connection, whatever the listening socket.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.supervisors import Multiprocess

if TYPE_CHECKING:
    from sync.hq.api import ServerConfig
    from sync.hq.api.limits import Limits


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with ``TCP_NODELAY`` set on every accepted connection."""

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        """Disable Nagle's algorithm, then serve the connection as uvicorn does."""
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


@dataclass(frozen=True)
class WorkerApp:
    """The app factory a worker process calls: unlocks HQ's keys and builds the app.

    Picklable (it crosses to each worker in ``multiprocessing``'s spawn pipe); the store was
    migrated by the supervisor before any worker started.
    """

    home: Path
    db_url: str
    passphrase: str = field(repr=False)
    limits: Limits | None = None  # None: the defaults

    def __call__(self) -> FastAPI:
        """Build this worker's app; exit with uvicorn's startup-failure code if it cannot.

        Any other exit would make the supervisor restart the worker in a loop; this one makes
        it stop, and :func:`serve` report the failure.
        """
        from sync.hq import api, keys

        api.configure_logging()
        try:
            unlocked = keys.unlock(self.home, self.passphrase)
            config = api.ServerConfig(self.home, self.db_url, unlocked, migrate=False)
            if self.limits is not None:
                config = replace(config, limits=self.limits)
            return api.create_app(config)
        except Exception as exc:
            logging.getLogger("fieldkit.hq").error("worker could not start: %s", exc)
            raise SystemExit(STARTUP_FAILURE) from None


def _tls_options(tls: tuple[Path, Path] | None) -> dict[str, str]:
    """The uvicorn options for HTTPS with ``(certificate, key)``; none for plain HTTP."""
    if tls is None:
        return {}
    return {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])}


def serve(
    config: ServerConfig,
    passphrase: str,
    *,
    host: str,
    port: int,
    workers: int,
    log_level: str,
    tls: tuple[Path, Path] | None = None,
) -> bool:
    """Serve HQ on ``host:port`` until interrupted (``config`` holds HQ's unlocked keys).

    ``tls``: the PEM certificate and key to serve HTTPS with (each worker loads them).
    Returns False when a worker failed to start (the supervisor then stops them all).
    """
    from sync.hq import api, keys

    if workers == 1:
        single = api.create_app(replace(config, migrate=False))
        uvicorn.run(
            single,
            host=host,
            port=port,
            log_level=log_level,
            http=NoDelayH11Protocol,
            **_tls_options(tls),  # type: ignore[arg-type]
        )
        return True
    # Spawned workers inherit the environment: they get the passphrase from the pipe instead.
    os.environ.pop(keys.PASSPHRASE_ENV, None)
    supervised = uvicorn.Config(
        WorkerApp(config.home, config.db_url, passphrase, limits=config.limits),
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        http=NoDelayH11Protocol,
        **_tls_options(tls),  # type: ignore[arg-type]
    )
    # What uvicorn.run does for workers > 1, minus its demand for an import string.
    sock = supervised.bind_socket()
    supervisor = Multiprocess(supervised, sockets=[sock])
    supervisor.run()
    return not any(worker.exitcode == STARTUP_FAILURE for worker in supervisor.processes)
