"""Reading request bodies: a size cap enforced before and while reading, and the media type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.requests import ClientDisconnect

from sync.hq.ingest import HttpProblem
from sync.wire import envelope
from sync.wire.envelope import EnvelopeError


async def read_capped(request: Request, limit: int) -> bytes:
    """The request body, refused with ``too-large`` as soon as it passes ``limit`` bytes.

    A ``Content-Length`` over the limit is refused before anything is read.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise HttpProblem("malformed-request", "Content-Length is not a number.")
        if int(declared) > limit:
            raise HttpProblem(
                "too-large", f"The body is {int(declared)} bytes; the limit is {limit}."
            )
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HttpProblem("too-large", f"The body is over the limit of {limit} bytes.")
            chunks.append(chunk)
    except ClientDisconnect:
        raise HttpProblem(
            "malformed-request", "The client went away before the body ended."
        ) from None
    return b"".join(chunks)


class EarlyRefusal(HttpProblem):
    """A refusal decided from the envelope's first bytes, before its body had all arrived.

    ``header``: the envelope header read by then, if any (whom the refusal is logged under).
    ``body_unread``: the rest of the body was not drained (too long, too slow, or the client
    left): the answer closes the connection.
    """

    def __init__(self, problem: HttpProblem, header: envelope.BatchHeader | None) -> None:
        super().__init__(problem.slug, problem.detail, problem.status)
        self.header = header
        self.body_unread = False


async def read_envelope(
    request: Request,
    limit: int,
    check_header: Callable[[envelope.BatchHeader], Awaitable[None]],
) -> bytes:
    """An envelope body, with its header checked by ``check_header`` as soon as it is in.

    The header comes first and is at most 1 KiB (docs/PROTOCOL.md, "Limits"), so an envelope
    that cannot begin a batch, or whose device ``check_header`` refuses, is refused from its
    first bytes (:class:`EarlyRefusal`): the rest is drained without being kept (within the
    size limit and the body deadline), so the client still reads the answer and HQ holds
    nothing of it. Otherwise as :func:`read_capped`.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise HttpProblem("malformed-request", "Content-Length is not a number.")
        if int(declared) > limit:
            raise HttpProblem(
                "too-large", f"The body is {int(declared)} bytes; the limit is {limit}."
            )
    data = bytearray()
    chunks = request.stream().__aiter__()
    refusal: EarlyRefusal | None = None
    checked = False  # the header has been read and checked
    try:
        async for chunk in chunks:
            data += chunk
            if len(data) > limit:
                raise HttpProblem("too-large", f"The body is over the limit of {limit} bytes.")
            if checked or not chunk:
                continue
            try:
                header = envelope.peek_header(data)
            except EnvelopeError as exc:
                refusal = EarlyRefusal(HttpProblem.from_envelope(exc), None)
                break
            if header is None:
                continue
            checked = True
            try:
                await check_header(header)
            except HttpProblem as problem:
                refusal = EarlyRefusal(problem, header)
                break
    except ClientDisconnect:
        raise HttpProblem(
            "malformed-request", "The client went away before the body ended."
        ) from None
    if refusal is None:
        return bytes(data)
    received = len(data)
    del data
    try:
        async for chunk in chunks:
            received += len(chunk)
            if received > limit:
                refusal.body_unread = True
                break
    except (HttpProblem, ClientDisconnect):  # too slow, or gone: the answer closes
        refusal.body_unread = True
    raise refusal


def media_type(request: Request) -> str | None:
    """The request's ``Content-Type`` without its parameters, lower case; None without one."""
    value = request.headers.get("content-type")
    return value.split(";", 1)[0].strip().lower() if value else None
