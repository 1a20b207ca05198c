"""Passphrase → key with Argon2id, parameters calibrated on this machine and kept per slot.

Production parameters are never below 64 MiB and take at least 0.25 s here. Tests may use
cheap parameters only with the explicit setting ``FIELDKIT_INSECURE_TEST_KDF=1`` (read by
:mod:`fieldkit.settings`, passed here as ``insecure``); a slot made with them is refused at
unlock unless that setting is on, and warned about at every unlock when it is.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from fieldkit.domain.findings import Message

TEST_KDF_ENV = "FIELDKIT_INSECURE_TEST_KDF"
MIN_MEMORY_KIB = 64 * 1024
DEFAULT_MEMORY_KIB = 128 * 1024
TARGET_SECONDS = 0.25
MAX_ITERATIONS = 10
SALT_BYTES = 16


@dataclass(frozen=True, slots=True)
class KdfParams:
    """Argon2id parameters, stored in each slot so a later calibration never locks anyone out."""

    memory_kib: int
    iterations: int
    lanes: int = 1
    algorithm: str = "argon2id"

    def as_dict(self) -> dict[str, object]:
        """Return the parameters as JSON-ready data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> KdfParams:
        """Read parameters stored by :meth:`as_dict`."""
        if data.get("algorithm") != "argon2id":
            raise ValueError(f"unsupported KDF {data.get('algorithm')!r}")
        return cls(
            memory_kib=int(data["memory_kib"]),  # type: ignore[arg-type]
            iterations=int(data["iterations"]),  # type: ignore[arg-type]
            lanes=int(data["lanes"]),  # type: ignore[arg-type]
        )


INSECURE_TEST_PARAMS = KdfParams(memory_kib=8 * 1024, iterations=1)


def derive(passphrase: str, salt: bytes, params: KdfParams) -> bytes:
    """Derive a 256-bit key from ``passphrase``."""
    return Argon2id(
        salt=salt,
        length=32,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    ).derive(passphrase.encode("utf-8"))


INSECURE_WARNING = Message(
    f"PERINGATAN: {TEST_KDF_ENV}=1: derivasi kunci murah khusus pengujian; jangan pernah "
    "dipakai di laptop lapangan.",
    f"WARNING: {TEST_KDF_ENV}=1: cheap key derivation for tests; never use it on a field laptop.",
)


def is_insecure(params: KdfParams) -> bool:
    """True for parameters below the production floor (only the test setting makes them)."""
    return params.memory_kib < MIN_MEMORY_KIB


def calibrate(
    memory_kib: int = DEFAULT_MEMORY_KIB,
    target: float = TARGET_SECONDS,
    *,
    insecure: bool = False,
) -> KdfParams:
    """Return parameters that take at least ``target`` seconds on this machine.

    Memory stays fixed (at least 64 MiB) and iterations grow until one derivation is slow
    enough. ``insecure`` (the explicit test setting) returns cheap parameters instead; the
    caller shows :data:`INSECURE_WARNING`.
    """
    if insecure:
        return INSECURE_TEST_PARAMS
    memory = max(memory_kib, MIN_MEMORY_KIB)
    salt = os.urandom(SALT_BYTES)
    # The first derivation also pays for fresh memory pages; it would flatter a cheap setting.
    derive("calibration", salt, KdfParams(memory_kib=memory, iterations=1))
    for iterations in range(1, MAX_ITERATIONS + 1):
        params = KdfParams(memory_kib=memory, iterations=iterations)
        if min(_seconds(salt, params) for _ in range(2)) >= target:
            return params
    return KdfParams(memory_kib=memory, iterations=MAX_ITERATIONS)


def _seconds(salt: bytes, params: KdfParams) -> float:
    started = time.perf_counter()
    derive("calibration", salt, params)
    return time.perf_counter() - started
