"""Reading request bodies: a size cap enforced before and while reading, and the media type."""

from __future__ import annotations

from fastapi import Request
from starlette.requests import ClientDisconnect

from sync.hq.ingest import HttpProblem


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


def media_type(request: Request) -> str | None:
    """The request's ``Content-Type`` without its parameters, lower case; None without one."""
    value = request.headers.get("content-type")
    return value.split(";", 1)[0].strip().lower() if value else None
