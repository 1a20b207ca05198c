"""HQ's reference data in tests: roster files for `fieldkit-hq roster assign`, the document.

All NIKs are synthetic.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from pathlib import Path
from typing import Any

from fieldkit.domain.synth import synthetic_applicants
from fieldkit.vault import db, syncstate
from sync.wire import envelope
from sync.wire.reference import VERSION, WATCHLIST_SCHEME, WatchlistParams, watchlist_tags
from sync.wire.requests import REFERENCE_PATH
from tests.support.device import Device
from tests.support.vault import reopen, reseal_settings

# The visits a roster file assigns: an office visit, and an Eazy Passport visit to a school.
OFFICE_VISIT = {
    "kind": "office",
    "date": "2026-12-01",
    "session": "pagi",
    "site": "Kanim Karawang",
}
EAZY_VISIT = {
    "kind": "eazy",
    "date": "2026-12-01",
    "session": "pagi",
    "site": "SMAN 1 Karawang",
    "coordinator_name": "Budi Santoso",
    "coordinator_phone": "081234567890",
}


def entries(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` roster entries with the required fields only (new passports)."""
    return [
        {
            "name": p.name,
            "birth_date": p.birth_date.isoformat(),
            "nik": p.nik,
            "application_type": "new",
        }
        for p in synthetic_applicants(count, seed)
    ]


def entries_of(people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Roster entries for applicants' JSON (a type a roster may carry: new, or else expired)."""
    return [
        {
            "name": p["name"],
            "birth_date": p["birth_date"],
            "nik": p["nik"],
            "application_type": p["application_type"]
            if p["application_type"] in ("new", "expired")
            else "new",
            "phone": p["phone"],
        }
        for p in people
    ]


def write_roster(
    directory: Path,
    rows: list[dict[str, Any]],
    visit: dict[str, Any] | None = None,
    name: str | None = None,
) -> Path:
    """A roster file (``{"visit": …, "entries": …}``) in ``directory``; the office visit unless
    another is given."""
    path = directory / (name or f"roster-{uuid.uuid4().hex[:6]}.json")
    document = {"visit": visit or OFFICE_VISIT, "entries": rows}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def document(api: Any, device: Device) -> dict[str, Any]:
    """The reference document HQ answers ``device``, its signature verified and its sealed part
    opened with the device's key and merged in (:meth:`Device.open_reference`).

    ``api`` is the in-process HQ of :mod:`tests.support.hq_app` (its ``client``).
    """
    headers = device.signed_headers(REFERENCE_PATH)
    response = api.client.get(REFERENCE_PATH, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    verified = envelope.verify_document(response.json(), device.hq_signing_public)
    return device.open_reference(verified)


def put_watchlist(home: Path, day: str, cost: WatchlistParams, niks: list[str]) -> None:
    """Seal a format-2 watchlist of ``niks`` into the vault as an applied reference leaves it."""
    session = reopen(home)
    salt = os.urandom(16)
    document = {
        "type": "reference",
        "v": VERSION,
        "watchlist": {
            "scheme": WATCHLIST_SCHEME,
            **cost.as_dict(),
            "salt": base64.b64encode(salt).decode(),
            "tags": watchlist_tags(niks, salt, cost),
            "entries": len(niks),
        },
    }
    with db.transaction(session.conn):
        syncstate.store_reference(session, {"document": document, "sig": ""}, 3, day)
    reseal_settings(session)
    session.vault.close()
