"""A fault-injecting HTTP proxy on 127.0.0.1, for testing sync over a hostile network.

It sits between a client and a server and, per request and at random (seeded), forwards it
untouched, drops the connection before or after forwarding, stalls, answers 500 or 503 with
``Retry-After`` itself (before or after forwarding), or cuts the server's response short. It
handles one request per connection and asks the server to close after each, so every fault is
independent. Counts of what it did are in :attr:`FaultProxy.stats`.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from dataclasses import dataclass, field

FAULTS = (
    "pass",
    "drop_before",  # close without forwarding: the server never sees the request
    "drop_after",  # forward, then close without answering: the server did the work
    "stall",  # hold the connection longer than the client waits
    "error_500",  # answer 500 without forwarding
    "error_500_after",  # forward, then answer 500 instead of the server's answer
    "unavailable_503",  # answer 503 with Retry-After without forwarding
    "cut_short",  # forward, then relay only part of the server's answer
)


@dataclass
class FaultPlan:
    """How often each fault happens (weights), and how long a stall lasts."""

    weights: dict[str, float] = field(
        default_factory=lambda: {
            "pass": 0.45,
            "drop_before": 0.08,
            "drop_after": 0.08,
            "stall": 0.04,
            "error_500": 0.07,
            "error_500_after": 0.07,
            "unavailable_503": 0.11,
            "cut_short": 0.10,
        }
    )
    stall_seconds: float = 3.0
    retry_after: int = 1
    seed: int = 0


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    length = 0
    lines = head.split(b"\r\n")
    kept = [lines[0]]
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value.strip() or b"0")
        if lowered in (b"connection", b"keep-alive") or not line:
            continue
        kept.append(line)
    body = await reader.readexactly(length) if length else b""
    return b"\r\n".join([*kept, b"Connection: close", b"", b""]) + body


def _response(status: int, reason: str, extra: str = "") -> bytes:
    body = b'{"type":"about:blank","title":"fault injected"}'
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n"
    ).encode() + body


class FaultProxy:
    """Run with ``with FaultProxy(upstream_port, plan) as proxy: … proxy.port …``."""

    def __init__(self, upstream_port: int, plan: FaultPlan | None = None) -> None:
        self.upstream_port = upstream_port
        self.plan = plan or FaultPlan()
        self.port = 0
        self.stats: Counter[str] = Counter()
        self._random = random.Random(self.plan.seed)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.base_events.Server | None = None

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    def _choose(self) -> str:
        names = list(self.plan.weights)
        return self._random.choices(names, [self.plan.weights[n] for n in names])[0]

    async def _forward(self, request: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        writer.write(request)
        await writer.drain()
        answer = await reader.read()  # the server closes after one answer
        writer.close()
        return answer

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await _read_request(reader)
            if request is None:
                return
            fault = self._choose()
            self.stats[fault] += 1
            if fault == "drop_before":
                return
            if fault == "stall":
                await asyncio.sleep(self.plan.stall_seconds)
                return
            if fault == "error_500":
                writer.write(_response(500, "Internal Server Error"))
                return
            if fault == "unavailable_503":
                extra = f"Retry-After: {self.plan.retry_after}\r\n"
                writer.write(_response(503, "Service Unavailable", extra))
                return
            answer = await self._forward(request)
            if fault == "drop_after":
                return
            if fault == "error_500_after":
                writer.write(_response(500, "Internal Server Error"))
            elif fault == "cut_short":
                # Headers whole, body cut: the client sees a short read, not a clean answer.
                head_end = answer.find(b"\r\n\r\n") + 4
                body_length = len(answer) - head_end
                writer.write(answer[: head_end + body_length // 2] if body_length > 1 else b"")
            else:
                writer.write(answer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            self.stats["client_gone"] += 1
        except asyncio.CancelledError:
            pass
        finally:
            writer.close()
