"""The travel-ban watchlist at HQ: what a publication sends devices, and HQ's own re-screening.

A device holds only a weak form of the list (docs/PROTOCOL.md, "Reference data", scheme
``argon2id-truncated``): the first 16-20 bits of a slow Argon2id hash of each listed NIK under a
salt made for this publication. Holding a laptop therefore does not say who is listed: every
stored value matches a great many possible NIKs, even for someone who knows the region and
the birth window and has a GPU. The price is that a device hit is only a *possible* match
("refer to supervisor").

HQ keeps what it needs to screen fully: HMAC-SHA256 of each listed NIK under a screening key
that is made for each import and never leaves HQ (``reference_state.watchlist_screening_key``,
``watchlist.digest``; the NIKs themselves are not stored). Every applicant HQ receives, by HTTP
or USB import, is screened against that list in the ingest transaction, and a hit raises a
``watchlist-hit`` flag for HQ clerks (:func:`screen_applicants`).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sync.hq import store
from sync.wire.reference import (
    WATCHLIST_KEY_BYTES,
    WATCHLIST_SALT_BYTES,
    WATCHLIST_SCHEME,
    WatchlistParams,
    bits_for,
    normalise_nik,
    watchlist_digest,
    watchlist_tags,
)

FLAG_KIND = "watchlist-hit"
APPLICANT = "applicant"


def publication(niks: list[str], cost: WatchlistParams | None = None) -> dict[str, Any]:
    """What devices are sent of a watchlist of ``niks``: salt, cost, truncation and tags.

    ``cost`` gives the Argon2id parameters (the default: ~60 ms a check); its ``bits`` are
    replaced by :func:`~sync.wire.reference.bits_for` the list's size unless ``cost`` is given
    explicitly (tests and benchmarks choose small ones).
    """
    params = cost or WatchlistParams(bits=bits_for(len(niks)))
    salt = os.urandom(WATCHLIST_SALT_BYTES)
    return {
        "scheme": WATCHLIST_SCHEME,
        "salt": base64.b64encode(salt).decode("ascii"),
        **params.as_dict(),
        "entries": len(niks),
        "tags": watchlist_tags(niks, salt, params),
    }


def publish_watchlist(
    engine: Engine, niks: list[str], cost: WatchlistParams | None = None
) -> tuple[int, dict[str, Any]]:
    """Replace the watchlist with ``niks``: a fresh screening key and publication salt.

    Returns the new reference version and the publication (devices get it in their next
    reference document, sealed to each device's key).
    """
    published = publication(niks, cost)
    screening_key = os.urandom(WATCHLIST_KEY_BYTES)
    digests = [watchlist_digest(screening_key, nik) for nik in niks]
    version = store.replace_watchlist(engine, screening_key, digests, published)
    return version, published


def device_watchlist(
    published: Mapping[str, Any] | None, updated_at: datetime | None
) -> dict[str, Any] | None:
    """The ``watchlist`` of a device's sealed reference part, or None before any import."""
    if published is None:
        return None
    return {**published, "updated_at": store.iso(updated_at) if updated_at else None}


class _Screened(Protocol):
    """A received record as :mod:`sync.hq.ingest` holds it (only these fields are read)."""

    kind: str
    id: str
    version: int
    data: dict[str, Any]


def screen_applicants(
    conn: Connection, device_id: str, batch_id: str, records: Iterable[_Screened]
) -> int:
    """Screen the applicants of one received batch against HQ's full list; flag every hit.

    Inside the ingest transaction, so a batch is never stored unscreened. The flag names the
    record (its id and version), never the NIK. Returns the number of hits.
    """
    key = conn.execute(
        sa.select(store.reference_state.c.watchlist_screening_key).where(
            store.reference_state.c.id == 1
        )
    ).scalar()
    if key is None:
        return 0
    wanted: dict[str, list[_Screened]] = {}
    for record in records:
        nik = normalise_nik(record.data.get("nik")) if record.kind == APPLICANT else None
        if nik is not None:
            wanted.setdefault(watchlist_digest(bytes(key), nik), []).append(record)
    if not wanted:
        return 0
    table = store.watchlist
    hits = set(
        conn.execute(sa.select(table.c.digest).where(table.c.digest.in_(list(wanted)))).scalars()
    )
    flagged = 0
    for digest in sorted(hits):
        for record in wanted[digest]:
            store.add_flag(
                conn,
                device_id,
                FLAG_KIND,
                f"applicant {record.id} version {record.version} is on the travel-ban watchlist "
                "(HQ's full list): stop the application and check it with a supervisor before "
                "any passport is issued.",
                batch_id,
            )
            flagged += 1
    return flagged
