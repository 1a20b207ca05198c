"""Enrollment codes and devices: issue a one-time code, enroll with it, look up and revoke."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sync.hq.store.clock import now
from sync.hq.store.database import insert, reading
from sync.hq.store.reference import bump_reference
from sync.hq.store.schema import devices, enroll_codes

# Read aloud over a phone line: no 0/O, 1/I/L, 2/Z, 5/S, 8/B.
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
CODE_GROUPS = 4
CODE_GROUP_LEN = 4


def hash_code(code: str) -> str:
    """The stored form of a one-time code: SHA-256 of its normalised text.

    Codes carry about 74 bits of randomness, so a plain hash is enough: nobody can search the
    code space, and the database alone does not reveal a usable code.
    """
    return hashlib.sha256(normalise_code(code).encode("ascii", "replace")).hexdigest()


def normalise_code(code: str) -> str:
    """Upper case without separators, so ``ab3d-…`` typed by hand still matches."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def create_enroll_code(engine: Engine, expires: timedelta) -> tuple[str, datetime]:
    """Store a new one-time enrollment code (its hash only); return the code and its expiry."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * CODE_GROUP_LEN))
    code = "-".join(raw[i : i + CODE_GROUP_LEN] for i in range(0, len(raw), CODE_GROUP_LEN))
    created = now()
    expires_at = created + expires
    with engine.begin() as conn:
        conn.execute(
            enroll_codes.insert().values(
                code_hash=hash_code(code), created_at=created, expires_at=expires_at
            )
        )
    return code, expires_at


@dataclass(frozen=True, slots=True)
class Device:
    """An enrolled device as HQ knows it."""

    device_id: str
    vault_id: str
    public_key: bytes
    enrolled_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None
    # The key HQ seals reference data to (migration 0006); None until the device offered it.
    encryption_public_key: bytes | None = None

    @property
    def revoked(self) -> bool:
        """True once the device has been revoked."""
        return self.revoked_at is not None


def _device(row: sa.Row[Any]) -> Device:
    return Device(
        row.device_id,
        row.vault_id,
        bytes(row.public_key),
        row.enrolled_at,
        row.revoked_at,
        row.revoke_reason,
        bytes(row.encryption_public_key) if row.encryption_public_key is not None else None,
    )


class EnrollRefused(Exception):
    """An enrollment the store refused: ``reason`` is ``code`` or ``device-exists``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def enroll_device(
    engine: Engine, code: str, device_id: str, vault_id: str, public_key: bytes
) -> Device:
    """Use a one-time code to enroll a device, atomically: the code is spent only on success.

    Raises :class:`EnrollRefused` for an unknown, expired or used code, or a device id that
    is already enrolled.
    """
    moment = now()
    if not _could_enroll(engine, code, device_id, moment):
        # Refused on a read: a stranger guessing codes costs HQ no write (and no lock).
        raise EnrollRefused("code", "The enrollment code is unknown, expired or used.")
    with engine.begin() as conn:
        claimed = conn.execute(
            enroll_codes.update()
            .where(
                enroll_codes.c.code_hash == hash_code(code),
                enroll_codes.c.used_at.is_(None),
                enroll_codes.c.expires_at > moment,
            )
            .values(used_at=moment, used_by=device_id)
            .returning(enroll_codes.c.code_hash)
        ).first()
        if claimed is None:
            again = _same_enrollment(conn, code, device_id, vault_id, public_key)
            if again is not None:
                # A retry after the answer was lost: the code was spent on this very device
                # with this very key, so answering again is safe and lets the device pin HQ.
                return again
            raise EnrollRefused("code", "The enrollment code is unknown, expired or used.")
        inserted = conn.execute(
            insert(conn, devices)
            .values(
                device_id=device_id, vault_id=vault_id, public_key=public_key, enrolled_at=moment
            )
            .on_conflict_do_nothing()
            .returning(devices.c.device_id)
        ).first()
        if inserted is None:  # the exception rolls the code claim back
            raise EnrollRefused("device-exists", f"Device {device_id} is already enrolled.")
    return Device(device_id, vault_id, public_key, moment, None, None)


def _could_enroll(engine: Engine, code: str, device_id: str, moment: datetime) -> bool:
    """Whether the code is unused and unexpired, or was spent on ``device_id`` (a retry)."""
    with reading(engine) as conn:
        row = conn.execute(
            sa.select(
                enroll_codes.c.used_at, enroll_codes.c.used_by, enroll_codes.c.expires_at
            ).where(enroll_codes.c.code_hash == hash_code(code))
        ).first()
    if row is None:
        return False
    return (row.used_at is None and row.expires_at > moment) or row.used_by == device_id


def _same_enrollment(
    conn: Connection, code: str, device_id: str, vault_id: str, public_key: bytes
) -> Device | None:
    """The device this code already enrolled, when it is the same device, vault and key."""
    used_by = conn.execute(
        sa.select(enroll_codes.c.used_by).where(enroll_codes.c.code_hash == hash_code(code))
    ).scalar()
    if used_by != device_id:
        return None
    device = get_device(conn, device_id)
    if device is None or device.revoked_at is not None:
        return None
    if device.vault_id != vault_id or bytes(device.public_key) != public_key:
        return None
    return device


def get_device(conn: Connection, device_id: str, *, lock: bool = False) -> Device | None:
    """The device, or None; ``lock`` holds it ``FOR UPDATE`` until the transaction ends."""
    query = sa.select(devices).where(devices.c.device_id == device_id)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).first()
    return _device(row) if row is not None else None


def list_devices(engine: Engine) -> list[Device]:
    """Every enrolled device, in enrollment order."""
    with reading(engine) as conn:
        rows = conn.execute(sa.select(devices).order_by(devices.c.enrolled_at, devices.c.device_id))
        return [_device(row) for row in rows]


def revoke_device(engine: Engine, device_id: str, reason: str | None) -> Device | None:
    """Revoke a device (a second revocation keeps the first time and reason); None if unknown.

    A new revocation raises the reference version: devices learn of it from reference data.
    """
    with engine.begin() as conn:
        revoked = conn.execute(
            devices.update()
            .where(devices.c.device_id == device_id, devices.c.revoked_at.is_(None))
            .values(revoked_at=now(), revoke_reason=reason)
        )
        if revoked.rowcount:
            bump_reference(conn)
        return get_device(conn, device_id)


class EncryptionKeyConflict(Exception):
    """The device offered an encryption key other than the one HQ already holds for it."""


def register_encryption_key(engine: Engine, device_id: str, public: bytes) -> bool:
    """Record a device's encryption key (already verified as signed by the device); True if new.

    The first key a device offers is kept; offering it again is a no-op. A new key raises the
    reference version in the same transaction (the device's next document differs: its rosters
    and watchlist are now sealed to it). Another key than the one held raises
    :class:`EncryptionKeyConflict`: keys are never replaced silently.
    """
    with engine.begin() as conn:
        device = get_device(conn, device_id, lock=True)
        if device is None:
            return False
        if device.encryption_public_key is not None:
            if device.encryption_public_key != public:
                raise EncryptionKeyConflict(device_id)
            return False
        conn.execute(
            devices.update()
            .where(devices.c.device_id == device_id)
            .values(encryption_public_key=public)
        )
        bump_reference(conn)
        return True
