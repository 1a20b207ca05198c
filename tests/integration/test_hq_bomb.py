"""A correctly signed decompression bomb, and bodies too deep or too long, against a real HQ.

Each attack is an envelope an enrolled device's own key signed, sealed with real crypto to HQ's
key, posted to ``fieldkit-hq serve`` (one worker, so the process measured is the one that
answers) over SQLite and PostgreSQL. Before the fix the 64 MiB bomb was accepted after 45 s
with 2 GB of memory on SQLite and was a 500 on PostgreSQL. Now each is a 422 problem, nothing
is stored, and the server's own accounting (``VmHWM`` in ``/proc/<pid>/status``) shows its peak
memory rose by less than the bomb's inflated size.
"""

from __future__ import annotations

import contextlib
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.hq import store
from sync.wire import envelope
from tests.support.device import Device
from tests.support.hq import (
    Server,
    assert_never_failed,
    enrolled_device,
    init_hq,
    memory_kib,
    reset_peak_memory,
    seal_body,
    serving,
)
from tests.support.postgres import fresh_database

BOMB_BYTES = 64 * 1024 * 1024
# The bound on the server's peak memory above its resident size before the bomb: less than
# the bomb inflates to, so HQ cannot have inflated it (docs/PROTOCOL.md, "Limits").
PEAK_BOUND_KIB = 64 * 1024

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="measures memory with Linux /proc"
)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One HQ worker over SQLite or a fresh PostgreSQL database; its log must stay clean."""
    with contextlib.ExitStack() as stack:
        db_url = None
        if request.param == "postgres":
            admin = request.getfixturevalue("postgres_admin")
            db_url = stack.enter_context(fresh_database(admin))
        hq = init_hq(tmp_path_factory.mktemp(f"hq-bomb-{request.param}"), db_url)
        with serving(hq, workers=1) as running:
            yield running
    assert_never_failed(running)


def _header(device: Device, count: int = 1) -> envelope.BatchHeader:
    device.seq += 1
    device.outbox += 1
    return envelope.BatchHeader(
        device_id=device.device_id,
        batch_id=str(uuid.uuid4()),
        seq=device.seq,
        created_at="2025-03-08T02:05:00+00:00",
        hq_kid=device.hq_kid,
        count=count,
        outbox=(device.outbox, device.outbox),
        audit=None,
        audit_head=None,
    )


def _record_line(data: bytes) -> bytes:
    """A record item whose ``data`` is the JSON text ``data``, as one body line (no newline)."""
    return (
        b'{"t":"r","kind":"applicant","id":"' + str(uuid.uuid4()).encode() + b'","version":1,'
        b'"visit_id":null,"state":"captured","officer_id":"sup1",'
        b'"at":"2025-03-08T02:00:00.000000+00:00","outbox_seq":1,"data":' + data + b"}"
    )


def _bomb() -> bytes:
    """zlib of one 64 MiB record line (a 64 MiB string in ``data``): about 65 KB."""
    deflater = zlib.compressobj(9)
    head, tail = _record_line(b'{"pad":"\x00"}').split(b"\x00")
    chunk = b"A" * (1 << 20)
    parts = [deflater.compress(head)]
    parts += [deflater.compress(chunk) for _ in range(BOMB_BYTES // len(chunk))]
    parts += [deflater.compress(tail + b"\n"), deflater.flush()]
    return b"".join(parts)


def _refused_and_nothing_stored(server: Server, answer, device: Device, status: int) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    held = server.hq.count(store.batches, store.batches.c.device_id == device.device_id)
    records = server.hq.count(store.records, store.records.c.device_id == device.device_id)
    assert (held, records) == (0, 0)
    return problem


def test_a_signed_64_mib_bomb_is_refused_without_inflating_it(server: Server) -> None:
    honest = enrolled_device(server.hq)
    assert server.post(honest.cut()[1]).status_code == 201  # every code path warmed up
    attacker = enrolled_device(server.hq)
    body = _bomb()
    sealed = seal_body(attacker, _header(attacker), body)
    assert len(sealed) < 70_000  # 67 KB, as in the report
    pid = server.process.pid
    before = memory_kib(pid)["VmRSS"]
    if not reset_peak_memory(pid):
        pytest.skip("cannot reset the server's VmHWM (/proc/<pid>/clear_refs)")
    answer = server.post(sealed)
    peak = memory_kib(pid)["VmHWM"]
    problem = _refused_and_nothing_stored(server, answer, attacker, 422)
    assert problem["type"] == "/problems/malformed-body"
    assert "inflates beyond" in problem["detail"] or "longer than" in problem["detail"]
    print(
        f"peak RSS over baseline: {(peak - before) / 1024:.1f} MiB (bound {PEAK_BOUND_KIB // 1024})"
    )
    assert peak - before < PEAK_BOUND_KIB, (before, peak)
    # HQ still serves honest devices.
    assert server.post(honest.cut()[1]).status_code == 201


@pytest.mark.parametrize(
    ("depth", "expected"),
    [(30_000, "longer than"), (5_000, "nested more than 64 levels")],
)
def test_deep_nesting_is_a_clean_422(server: Server, depth: int, expected: str) -> None:
    device = enrolled_device(server.hq)
    line = _record_line(b"[" * depth + b"]" * depth)
    sealed = seal_body(device, _header(device), zlib.compress(line + b"\n", 9))
    problem = _refused_and_nothing_stored(server, server.post(sealed), device, 422)
    assert problem["type"] == "/problems/malformed-body"
    assert expected in problem["detail"], problem


def test_a_line_over_the_limit_is_a_clean_422(server: Server) -> None:
    device = enrolled_device(server.hq)
    pad = b"x" * envelope.MAX_LINE_BYTES
    sealed = seal_body(
        device, _header(device), zlib.compress(_record_line(b'{"pad":"' + pad + b'"}') + b"\n")
    )
    problem = _refused_and_nothing_stored(server, server.post(sealed), device, 422)
    assert f"longer than {envelope.MAX_LINE_BYTES} bytes" in problem["detail"]


def test_a_header_of_30000_brackets_is_a_clean_400(server: Server) -> None:
    header = b"[" * 30_000 + b"]" * 30_000
    data = envelope.MAGIC + len(header).to_bytes(4, "big") + header + bytes(2_000)
    answer = server.post(data)
    assert answer.status_code == 400, answer.text
    assert answer.json()["type"] == "/problems/malformed-envelope"
