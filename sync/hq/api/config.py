"""What an HQ worker runs with (:class:`ServerConfig`): its home, its store, HQ's unlocked keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fieldkit.settings import Settings
from sync.hq import keys, store
from sync.hq.api.limits import Limits
from sync.wire import envelope


@dataclass(frozen=True)
class ServerConfig:
    """What an HQ worker needs: its home, its database and its unlocked keys."""

    home: Path
    db_url: str
    keys: keys.HQKeys
    max_body: int = envelope.MAX_ENVELOPE_BYTES
    migrate: bool = True
    limits: Limits = field(default_factory=Limits)


class MissingPassphrase(keys.KeysError):
    """HQ's keys were asked for without a passphrase."""


def server_config(settings: Settings, passphrase: str | None = None) -> ServerConfig:
    """A worker's config: HQ's home and store from ``settings``, its keys unlocked.

    With ``passphrase``, or else the ``hq_passphrase`` setting (``FIELDKIT_HQ_PASSPHRASE``).
    """
    secret = passphrase if passphrase is not None else settings.hq_passphrase
    if not secret:
        raise MissingPassphrase(f"{keys.PASSPHRASE_ENV} is not set; HQ's keys stay locked.")
    home = settings.hq_home
    return ServerConfig(
        home=home,
        db_url=store.database_url(home, settings.hq_db),
        keys=keys.unlock(home, secret),
        limits=limits_from(settings),
    )


def limits_from(settings: Settings) -> Limits:
    """A worker's limits on clients, from the ``hq_*`` settings."""
    return Limits(
        body_timeout=settings.hq_body_timeout,
        max_bodies=settings.hq_max_bodies,
        max_ingests=settings.hq_max_ingests,
        rejection_retention_days=settings.hq_rejection_retention_days,
    )
