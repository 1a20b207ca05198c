"""How ``fieldkit-hq serve`` runs its workers: no passphrase in their environment, TCP_NODELAY."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest
import uvicorn

from sync.hq import keys, serving
from tests.support.hq import PASSPHRASE, children, free_port, init_hq, start_server, stop_server


def _environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_workers_unlock_the_keys_without_the_passphrase_in_their_environment(tmp_path):
    hq = init_hq(tmp_path / "hq", None)
    assert hq.env[keys.PASSPHRASE_ENV] == PASSPHRASE  # the operator's choice for the parent
    server = start_server(hq, workers=2)
    try:
        deadline = time.monotonic() + 30
        workers: list[int] = []
        while time.monotonic() < deadline:  # uvicorn's spawn helper, then the two workers
            workers = [
                pid
                for child in children(server.process.pid)
                for pid in [child, *children(child)]
                if "sync.hq" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
                or "multiprocessing" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
            ]
            if len(workers) >= 2:
                break
            time.sleep(0.1)
        assert len(workers) >= 2, workers
        for pid in workers:
            environment = _environment(pid)
            assert keys.PASSPHRASE_ENV not in environment, pid
            assert PASSPHRASE not in "\0".join(environment.values())
        # Both workers hold the keys: each answers enrollments with HQ's current key.
        current = keys.unlock(hq.home, PASSPHRASE).current_kid
        for _ in range(6):
            assert server.enroll().hq_kid == current
    finally:
        stop_server(server)
    log = server.log.read_text()
    assert "Traceback" not in log, log


async def _accepted_nodelay() -> int:
    """TCP_NODELAY on the server side of a connection accepted by NoDelayH11Protocol.

    The listening socket is made as uvicorn makes it for ``--workers N`` (protocol 0), so
    asyncio itself would not set the option on accepted sockets.
    """
    config = uvicorn.Config(_empty_app, http=serving.NoDelayH11Protocol, log_level="warning")
    config.load()
    state = uvicorn.server.ServerState()
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Probe(serving.NoDelayH11Protocol):
        def connection_made(self, transport):  # type: ignore[no-untyped-def]
            super().connection_made(transport)
            sock = transport.get_extra_info("socket")
            seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0, as uvicorn's
    listening.bind(("127.0.0.1", 0))
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: Probe(config=config, server_state=state, app_state={}), sock=listening
    )
    try:
        port = listening.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        value = await asyncio.wait_for(seen, 10)
        writer.close()
        return value
    finally:
        server.close()


async def _empty_app(scope, receive, send):  # type: ignore[no-untyped-def]
    return None


def test_accepted_connections_get_tcp_nodelay():
    assert asyncio.run(_accepted_nodelay()) != 0


def test_a_worker_that_cannot_start_stops_serve_instead_of_restarting_for_ever(tmp_path):
    from sync.hq.api import ServerConfig

    hq = init_hq(tmp_path / "hq", None)
    settings = ServerConfig(hq.home, hq.url, keys.unlock(hq.home, PASSPHRASE), migrate=False)
    port = free_port()
    # The workers get a wrong passphrase (as if the key file changed after the supervisor
    # unlocked it): each exits with uvicorn's startup-failure code and the supervisor stops.
    ok = serving.serve(
        settings, "not the passphrase at all", host="127.0.0.1", port=port, workers=2,
        log_level="critical",
    )  # fmt: skip
    assert ok is False  # (before the fix the supervisor restarted the workers for ever)
