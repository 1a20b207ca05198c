"""Slow bodies, a flood of bad enrollments and a newline in a path, against a real HQ.

Before the fix: 100 unfinished 4 MiB POSTs held 500 MB of HQ's memory with no body deadline;
1,000 unauthenticated enrollment attempts added 1,000 permanent rows to ``rejections``; a
device id with a newline in the checkpoint path forged a line in HQ's log. One HQ worker on
SQLite with small limits for the test (a 3 s body deadline, 8 bodies in flight), so the process
measured is the one that answers; nothing here asserts a duration.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests

from sync.hq import store
from sync.hq.store.incidents import ROWS_PER_SOURCE
from tests.support.hq import (
    Server,
    assert_never_failed,
    enrolled_device,
    init_hq,
    memory_kib,
    reset_peak_memory,
    serving,
    with_env,
)

MAX_BODIES = 8
BODY = 4 * 1024 * 1024  # what each slow client announces and nearly sends
SLOW = MAX_BODIES - 1  # slow clients holding slots while an honest device is served
EXTRA = 25  # more slow clients beyond them: refused (503) or dropped (408), never held
# The server's peak memory over its size before the attack: the bodies it may hold
# (MAX_BODIES × 4 MiB) and some slack; (SLOW + EXTRA) × 4 MiB = 128 MiB are sent at it.
PEAK_BOUND_KIB = 64 * 1024
FLOOD = 1_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One HQ worker on SQLite with a 3 s body deadline and 8 bodies in flight."""
    hq = init_hq(tmp_path_factory.mktemp("hq-abuse"))
    limited = with_env(hq, FIELDKIT_HQ_BODY_TIMEOUT="3", FIELDKIT_HQ_MAX_BODIES=str(MAX_BODIES))
    with serving(limited, workers=1) as running:
        yield running
    assert_never_failed(running)


def _port(server: Server) -> int:
    return int(server.base.rsplit(":", 1)[1])


def _slow_client(server: Server, start: bytes, sent: int) -> socket.socket:
    """A POST announcing 4 MiB that sends ``sent`` bytes of it, then stalls (socket kept).

    The body begins with ``start``: a real envelope's header, of an enrolled device, so HQ
    cannot refuse it from its first bytes and must wait for the rest.
    """
    sock = socket.create_connection(("127.0.0.1", _port(server)))
    sock.settimeout(60)  # a hang guard only: the server must answer long before
    head = (
        "POST /v1/batches HTTP/1.1\r\nHost: hq\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {BODY}\r\n\r\n"
    ).encode()
    with contextlib.suppress(OSError):  # a refused client may be cut off while it sends
        sock.sendall(head + start + bytes(sent - len(start)))
    return sock


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (b"" if it reset it)."""
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    sock.close()
    return data


def test_slow_bodies_are_dropped_and_memory_stays_bounded(server: Server) -> None:
    pid = server.process.pid
    honest = enrolled_device(server.hq)
    assert server.post(honest.cut()[1]).status_code == 201  # warmed up
    before = memory_kib(pid)["VmRSS"]
    if not reset_peak_memory(pid):
        pytest.skip("cannot reset the server's VmHWM (/proc/<pid>/clear_refs)")
    # The start of a real envelope of an enrolled device (its magic, length and header).
    start = honest.cut()[1][:1024]
    slow = [_slow_client(server, start, BODY - 1) for _ in range(SLOW)]
    # Meanwhile an honest device is served: a slot is free.
    assert server.post(honest.cut()[1]).status_code == 201
    assert requests.get(f"{server.base}/healthz", timeout=30).status_code == 200
    # More clients than slots: each sends (or tries to send) 4 MiB and stalls.
    extra: list[socket.socket] = []
    threads = [
        threading.Thread(target=lambda: extra.append(_slow_client(server, start, BODY - 1)))
        for _ in range(EXTRA)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answers = [_answer(sock) for sock in slow + extra]
    peak = memory_kib(pid)["VmHWM"]
    # The slow clients holding slots were answered 408 at the deadline and disconnected.
    for answer in answers[:SLOW]:
        assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
        assert b"application/problem+json" in answer and b"/problems/request-timeout" in answer
    # Every other one was refused unread (503 busy), dropped (408), or cut off.
    for answer in answers[SLOW:]:
        assert answer == b"" or answer.startswith((b"HTTP/1.1 503", b"HTTP/1.1 408")), answer
        if answer.startswith(b"HTTP/1.1 503"):
            assert b"/problems/busy" in answer and b"retry-after" in answer.lower()
    print(
        f"peak RSS over baseline: {(peak - before) / 1024:.1f} MiB (bound {PEAK_BOUND_KIB // 1024})"
    )
    assert peak - before < PEAK_BOUND_KIB, (before, peak)
    # And HQ goes on serving.
    assert server.post(honest.cut()[1]).status_code == 201


def _bad_enrollment(session: requests.Session, server: Server) -> int:
    body = {
        "code": "WRNG-CODE-XXXX-0000",
        "device_id": str(uuid.uuid4()),
        "vault_id": str(uuid.uuid4()),
        "device_public_key": "A" * 43 + "=",
    }
    return session.post(f"{server.base}/v1/enroll", json=body, timeout=30).status_code


def _counted(server: Server) -> int:
    t = store.rejections
    return sum(int(r["count"]) for r in server.hq.rows(t, t.c.problem == "enroll-code-invalid"))


def test_a_flood_of_bad_enrollments_is_counted_not_stored_row_by_row(server: Server) -> None:
    table = store.rejections
    wanted = table.c.problem == "enroll-code-invalid"

    def attempts(n: int) -> set[int]:
        with requests.Session() as session:
            return {_bad_enrollment(session, server) for _ in range(n)}

    with ThreadPoolExecutor(max_workers=4) as pool:  # one client address, four connections
        statuses = set().union(*pool.map(attempts, [FLOOD // 4] * 4))
    assert statuses == {403}
    # Every refusal is counted: beyond the first few, in memory and written every 2 s.
    deadline = time.monotonic() + 60  # a hang guard, not a measure
    while (counted := _counted(server)) < FLOOD and time.monotonic() < deadline:
        time.sleep(0.2)
    assert counted == FLOOD
    rows = server.hq.rows(table, wanted)
    # Per minute: the first ROWS_PER_SOURCE in full, then one counted row; the flood may
    # straddle a minute.
    assert len(rows) <= 2 * (ROWS_PER_SOURCE + 1), len(rows)
    log = server.log.read_text()
    assert log.count("rejected enroll-code-invalid") == len(rows)


def test_old_and_excess_rejections_are_pruned(server: Server) -> None:
    engine = server.hq.engine()
    try:
        old = store.now() - timedelta(days=91)
        with engine.begin() as conn:
            conn.execute(
                store.rejections.insert(),
                [
                    {"at": old, "problem": "unknown-device", "status": 403, "detail": "old"}
                    for _ in range(5)
                ],
            )
        assert store.prune_rejections(engine, 90) >= 5
        held = server.hq.count(store.rejections)
        assert server.hq.count(store.rejections, store.rejections.c.at < old + timedelta(1)) == 0
        assert store.prune_rejections(engine, 90, max_rows=3) == held - 3
        assert server.hq.count(store.rejections) == 3
    finally:
        engine.dispose()


def test_a_newline_in_the_checkpoint_path_forges_no_log_line(server: Server) -> None:
    forged = "INFO fieldkit.hq: accepted batch 00000000-0000-0000-0000-000000000000 seq 1"
    device = enrolled_device(server.hq)
    path = f"/v1/devices/{device.device_id}%0A{forged.replace(' ', '%20')}/checkpoint"
    answer = requests.get(f"{server.base}{path}", headers=device.signed_headers(path), timeout=30)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"] == "/problems/malformed-request"
    lines = server.log.read_text().splitlines()
    assert not any(line.startswith(forged) or f" {forged}" in line for line in lines), lines
    # Nor is the path's text logged as a device: the refusal is logged under no device.
    refused = server.hq.rows(
        store.rejections,
        store.rejections.c.problem == "malformed-request",
        store.rejections.c.client == "127.0.0.1",
    )
    assert refused and all(r["device_id"] in (None, device.device_id) for r in refused)
    assert not any(forged in str(r["detail"]) for r in refused)
