"""Device-signed requests: the paths a device reads from HQ and the headers that prove it.

Both ends use this module: the device signs ``GET /v1/reference`` and
``GET /v1/devices/{device_id}/checkpoint`` with its Ed25519 key (:func:`request_headers`), HQ
rebuilds the same message (:func:`request_message`) to verify it. docs/PROTOCOL.md
("Device-signed requests") is the specification.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.wire.envelope import canonical

REFERENCE_PATH = "/v1/reference"
CHECKPOINT_PATH = "/v1/devices/{device_id}/checkpoint"
DEVICE_HEADER = "Fieldkit-Device"
TIME_HEADER = "Fieldkit-Time"
SIGNATURE_HEADER = "Fieldkit-Signature"
REQUEST_LABEL = "fieldkit/v1/request"
# How far a request's signed time may be from HQ's clock.
MAX_CLOCK_SKEW = timedelta(minutes=10)


def checkpoint_path(device_id: str) -> str:
    """The path of a device's checkpoint, as requested and as signed in its headers."""
    return CHECKPOINT_PATH.format(device_id=device_id)


def request_message(method: str, path: str, device_id: str, at: str) -> bytes:
    """What the device signs to authenticate a request: canonical JSON of its parts."""
    return canonical([REQUEST_LABEL, method.upper(), path, device_id, at])


def request_headers(
    key: Ed25519PrivateKey,
    device_id: str,
    *,
    method: str = "GET",
    path: str = REFERENCE_PATH,
    at: str | None = None,
) -> dict[str, str]:
    """The ``Fieldkit-Device``, ``Fieldkit-Time`` and ``Fieldkit-Signature`` headers.

    The signature binds the method, the path (without HQ's base URL or a query), the device
    and the time, so headers made for one endpoint do not open another.
    """
    at = at or datetime.now(UTC).isoformat(timespec="microseconds")
    signature = key.sign(request_message(method, path, device_id, at))
    return {
        DEVICE_HEADER: device_id,
        TIME_HEADER: at,
        SIGNATURE_HEADER: base64.b64encode(signature).decode("ascii"),
    }
