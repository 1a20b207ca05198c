"""What one HQ worker gives a client: a deadline for its body, a slot among the bodies in flight.

:class:`Limits` holds the numbers (the ``hq_*`` settings, docs/configuration.md);
:class:`BodyLimits` is the ASGI middleware that applies them to every request before any route
runs:

- **A deadline.** A request's body must have arrived within ``body_timeout`` seconds of its
  headers; a client still sending then (or stalling) is answered ``408 request-timeout`` and
  its connection closed. uvicorn's own timeouts cover idle kept-alive connections, not a body
  trickling in: 100 clients holding unfinished 4 MiB bodies held 500 MB without it.
- **A slot.** At most ``max_bodies`` requests of a worker may be receiving a body at once; the
  next one is answered ``503 busy`` with ``Retry-After`` without reading it (devices retry a
  503). So the bodies a worker holds never exceed ``max_bodies`` × the largest body (4 MiB).
- **A size.** A ``Content-Length`` over the largest body any route takes is refused ``413``
  before reading; the routes cap their own bodies further while reading.

Concurrent ingests (decrypting, inflating and parsing up to 7.8 MiB each) have their own limit,
``max_ingests``, taken by ``POST /v1/batches`` (:mod:`sync.hq.api.batches`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from sync.hq.ingest import HttpProblem
from sync.wire import envelope

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_BODY_TIMEOUT = 120
DEFAULT_MAX_BODIES = 16
DEFAULT_MAX_INGESTS = 4
DEFAULT_REJECTION_RETENTION_DAYS = 90
# Seconds a device is asked to wait when a worker is busy.
BUSY_RETRY_AFTER = 5


@dataclass(frozen=True, slots=True)
class Limits:
    """A worker's limits on clients (each is a setting, docs/configuration.md)."""

    body_timeout: float = DEFAULT_BODY_TIMEOUT
    max_bodies: int = DEFAULT_MAX_BODIES
    max_ingests: int = DEFAULT_MAX_INGESTS
    rejection_retention_days: int = DEFAULT_REJECTION_RETENTION_DAYS
    max_body: int = envelope.MAX_ENVELOPE_BYTES


class Slots:
    """At most ``size`` holders at once, in whatever event loop serves the request.

    An ``asyncio.Semaphore`` binds to the first loop it waits in; a test client may run
    requests in several loops over one app, so each loop gets its own.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._semaphore: asyncio.Semaphore | None = None

    async def acquire(self, timeout: float) -> asyncio.Semaphore | None:
        """A slot within ``timeout`` seconds (the semaphore to release), or None."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._semaphore is None:
            self._loop, self._semaphore = loop, asyncio.Semaphore(self.size)
        semaphore = self._semaphore
        try:
            await asyncio.wait_for(semaphore.acquire(), timeout)
        except TimeoutError:
            return None
        return semaphore


def _has_body(scope: Scope) -> bool:
    """True when the request announces a body (a non-zero length, or chunks)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
        if name == b"transfer-encoding":
            return True
    return False


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length" and value.strip().isdigit():
            return int(value)
    return None


class BodyLimits:
    """The ASGI middleware of this module's docstring; it wraps the whole app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: Limits,
        answer: Callable[[HttpProblem], Any],
        refused: Callable[[Scope, HttpProblem], Awaitable[None]],
    ) -> None:
        self.app = app
        self.limits = limits
        self.answer = answer  # a problem → its ASGI response (problems.problem_response)
        self.refused = refused  # records a refusal the middleware answers itself
        self.receiving = 0  # requests of this worker receiving a body now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request within the limits."""
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.limits.max_body:
            problem = HttpProblem(
                "too-large", f"The body is {declared} bytes; the limit is {self.limits.max_body}."
            )
            await self._refuse(scope, receive, send, problem)
            return
        if self.receiving >= self.limits.max_bodies:
            problem = HttpProblem(
                "busy",
                f"HQ is receiving {self.receiving} bodies already; retry in {BUSY_RETRY_AFTER} s.",
                503,
            )
            await self._refuse(scope, receive, send, problem)
            return
        self.receiving += 1
        slot = [True]  # held until the body has arrived or the request ends

        def release() -> None:
            if slot[0]:
                slot[0] = False
                self.receiving -= 1

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limits.body_timeout

        async def timed_receive() -> Message:
            if not slot[0]:  # the body is in: what follows (a disconnect) has no deadline
                return await receive()
            remaining = deadline - loop.time()
            try:
                if remaining <= 0:
                    raise TimeoutError
                message = await asyncio.wait_for(receive(), remaining)
            except TimeoutError:
                release()
                raise HttpProblem(
                    "request-timeout",
                    f"The body did not arrive within {self.limits.body_timeout:g} s.",
                ) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                release()
            return message

        try:
            await self.app(scope, timed_receive, send)
        finally:
            release()

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, problem: HttpProblem
    ) -> None:
        await self.refused(scope, problem)
        response = self.answer(problem)
        response.headers["Connection"] = "close"  # the body was not read
        await response(scope, receive, send)
