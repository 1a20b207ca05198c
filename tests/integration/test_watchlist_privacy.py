"""Issue 9, item 5: a laptop's watchlist data does not say who is on the list; HQ screens fully.

The attack: someone holds a laptop (and, worst case, an officer's passphrase), reads the
watchlist material out of the vault and brute-forces the structured NIK space (6-digit region,
birth date with +40 on the day for women, 4-digit serial) knowing the region and a birth
window. Against format 1 (HMAC-SHA256 digests beside their key) that names every listed NIK;
against format 2 (truncated Argon2id tags) every stored value matches a great many candidates,
so no listed NIK is singled out. The searched space is small and the Argon2id cost the test's
own (8 KiB, 1 pass) so that it runs in about a second; the shape is the real one: candidates
per stored value ≈ space / 2**bits, whatever the cost (docs/BENCHMARKS.md has the real cost).

HQ keeps the full list under a key that never leaves it and re-screens every applicant it
receives: a listed applicant synced by a real device raises a ``watchlist-hit`` flag; an
applicant who is only a device-side false positive does not.

The HQ is the real ``fieldkit-hq serve`` in a subprocess; the watchlist is published into its
store by :func:`sync.hq.screening.publish_watchlist` (the code ``fieldkit-hq watchlist import``
runs) with the test's cheap cost. Every NIK is synthetic (serials 9000-9799).
"""

from __future__ import annotations

import base64
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from fieldkit.service import sync as sync_service
from fieldkit.service.session import OfficerSession
from fieldkit.vault import db, syncstate
from fieldkit.vault.errors import ReferenceUnavailable
from sync.device.reference import watchlist_hit
from sync.hq import screening, store
from sync.wire.reference import WatchlistParams, watchlist_digest, watchlist_tag, watchlist_tags
from tests.support.vault import (
    add_applicants,
    enrolled_vault,
    new_vault,
    no_wait_client,
    people,
    plan_visit,
    reopen,
)

pytestmark = pytest.mark.usefixtures("cheap_kdf")

# The attacker knows the region and a 16-day birth window; serials 9000-9799 (synthetic).
REGION = "320101"
WINDOW_START = date(1990, 3, 1)
WINDOW_DAYS = 16
SERIALS = range(9000, 9800)
# 8-bit tags and the cheapest Argon2id: 25,600 candidates, ~100 per stored value, ~1 s.
COST = WatchlistParams(memory_kib=8, iterations=1, lanes=1, bits=8)
MIN_CANDIDATES = 50


def nik(born: date, female: bool, serial: int) -> str:
    """A NIK in the structure the attacker knows: region, DDMMYY (+40 on the day), serial."""
    day = born.day + (40 if female else 0)
    return f"{REGION}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def space() -> list[str]:
    """Every NIK of the region and birth window, both sexes, every serial searched."""
    days = [WINDOW_START + timedelta(days=d) for d in range(WINDOW_DAYS)]
    return [nik(d, female, s) for d in days for female in (False, True) for s in SERIALS]


LISTED_IN_SPACE = [
    nik(date(1990, 3, 4), False, 9123),
    nik(date(1990, 3, 9), True, 9007),
    nik(date(1990, 3, 13), False, 9650),
    nik(date(1990, 3, 15), True, 9402),
]


@pytest.fixture(scope="module")
def server(hq_server):
    return hq_server


def publish(server, niks: list[str]) -> None:
    """Publish ``niks`` into the serving HQ's store, as ``watchlist import`` does."""
    engine = server.hq.engine()
    try:
        screening.publish_watchlist(engine, niks, COST)
    finally:
        engine.dispose()


def test_the_old_form_gives_every_listed_nik_away():
    """Format 1, for the record: the key beside the digests names each listed NIK at once."""
    key = os.urandom(32)
    digests = {watchlist_digest(key, n) for n in LISTED_IN_SPACE}
    recovered = [n for n in space() if watchlist_digest(key, n) in digests]
    assert sorted(recovered) == sorted(LISTED_IN_SPACE), "the old attack works: one match each"


def test_a_laptops_watchlist_does_not_say_who_is_listed(server, tmp_path):
    home = tmp_path / "device"
    session = enrolled_vault(home, server.url, server.enroll_code())
    publish(server, LISTED_IN_SPACE)
    outcome = no_wait_client(server.url, session).pull_reference()
    assert outcome.watchlist == len(LISTED_IN_SPACE)
    session.vault.close()

    # The attacker: the laptop's file and an officer's passphrase; the vault opens for them.
    stolen = reopen(home)
    watch = syncstate.reference_document(stolen)["watchlist"]  # type: ignore[index]
    assert "key" not in watch and "digests" not in watch, "nothing full-length is on the laptop"
    salt = base64.b64decode(watch["salt"])
    params = WatchlistParams(
        watch["memory_kib"], watch["iterations"], watch["lanes"], watch["bits"]
    )
    assert params == COST
    stored = set(watch["tags"])

    # Brute force the whole structured space with the laptop's salt and parameters.
    candidates = space()
    by_tag: dict[int, list[str]] = {}
    for candidate, tag in zip(candidates, _tags_in_order(candidates, salt, params), strict=True):
        if tag in stored:
            by_tag.setdefault(tag, []).append(candidate)
    counts = {tag: len(by_tag.get(tag, [])) for tag in stored}
    assert min(counts.values()) >= MIN_CANDIDATES, counts
    for listed in LISTED_IN_SPACE:
        [tag] = [t for t, found in by_tag.items() if listed in found]
        # The listed NIK is among its value's candidates, but only as one of many.
        assert len(by_tag[tag]) >= MIN_CANDIDATES
    matched = sum(counts.values())
    assert matched >= MIN_CANDIDATES * len(LISTED_IN_SPACE)
    assert matched / len(candidates) < 0.05, "yet most of the space is ruled out"

    # The device's own check says "possible" for a listed NIK and for a decoy alike.
    [decoy] = [n for n in by_tag[min(stored)] if n not in LISTED_IN_SPACE][:1]
    for number in (LISTED_IN_SPACE[0], decoy):
        answer = watchlist_hit(stolen, number)
        assert answer.possible_match and answer.false_positive_rate == len(stored) / 2**8
    stolen.vault.close()


def _tags_in_order(niks: list[str], salt: bytes, params: WatchlistParams) -> list[int]:
    """The tag of every NIK, in order (``watchlist_tags`` sorts and deduplicates)."""
    with ThreadPoolExecutor() as pool:
        return list(pool.map(lambda n: watchlist_tag(n, salt, params), niks, chunksize=256))


def test_hq_rescreens_every_applicant_and_flags_only_the_listed_one(server, tmp_path):
    listed, *others = people(1, 9101) + people(400, 9102)
    publish(server, [listed["nik"], *LISTED_IN_SPACE])
    session = enrolled_vault(tmp_path / "device", server.url, server.enroll_code())
    client = no_wait_client(server.url, session)
    client.pull_reference()
    watch = syncstate.reference_document(session)["watchlist"]  # type: ignore[index]
    salt, stored = base64.b64decode(watch["salt"]), set(watch["tags"])
    # A device-side false positive: not listed, yet its 8-bit tag is one of the stored ones.
    tags = [watchlist_tags([p["nik"]], salt, COST)[0] for p in others]
    decoy = next(p for p, tag in zip(others, tags, strict=True) if tag in stored)
    officer = OfficerSession(session)
    for person in (listed, decoy):
        assert sync_service.check_watchlist(officer, person["nik"]).possible_match

    visit_id = plan_visit(session)
    listed_id, decoy_id = add_applicants(session, visit_id, [listed, decoy])
    assert client.sync(once=True).exit_code == 0
    device_id = session.vault.device_id
    flags = server.hq.rows(store.flags, store.flags.c.device_id == device_id)
    hits = [f for f in flags if f["kind"] == screening.FLAG_KIND]
    assert len(hits) == 1, flags
    [hit] = hits
    assert f"applicant {listed_id} version 1" in hit["detail"] and hit["batch_id"]
    assert decoy_id not in hit["detail"], "HQ's full list tells the decoy apart"
    assert listed["nik"] not in hit["detail"], "the flag names the record, never the NIK"
    status = server.hq.cli("status").stdout
    assert f"FLAG #{hit['id']} {screening.FLAG_KIND}" in status, status


# -- what older data gives -------------------------------------------------------------------------


def test_migration_0006_drops_the_old_watchlist_and_raises_the_version(tmp_path):
    """HQ cannot convert scheme 1 (it never kept the NIKs; its key went to every device)."""
    engine = store.create_engine(f"sqlite+pysqlite:///{tmp_path / 'hq.db'}")
    try:
        store.migrate(engine, "0005")
        key = os.urandom(32)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO reference_state (id, version, updated_at, watchlist_key) "
                    "VALUES (1, 3, '2026-11-01 00:00:00.000000', :key)"
                ),
                {"key": key},
            )
            conn.execute(
                sa.text("INSERT INTO watchlist (digest) VALUES (:d)"),
                [{"d": watchlist_digest(key, n)} for n in LISTED_IN_SPACE],
            )
        store.migrate(engine)
        with engine.connect() as conn:
            state = conn.execute(sa.select(store.reference_state)).one()
            assert state.version == 4 and state.watchlist_key is None
            assert state.watchlist_publication is None and state.watchlist_screening_key is None
            assert (
                conn.execute(sa.select(sa.func.count()).select_from(store.watchlist)).scalar() == 0
            )
    finally:
        engine.dispose()


def test_a_laptop_holding_only_the_old_form_refuses_to_check(tmp_path):
    """A vault that stored a format-1 watchlist answers "not checked", never "no match"."""
    session = new_vault(tmp_path / "device")
    key = os.urandom(32)
    kept = {
        "document": {
            "type": "reference",
            "v": 1,
            "watchlist": {
                "key": base64.b64encode(key).decode(),
                "digests": [watchlist_digest(key, LISTED_IN_SPACE[0])],
            },
        },
        "sig": "",
    }
    with db.transaction(session.conn):
        syncstate.store_reference(session, kept, 1, "2026-11-01T00:00:00+00:00")
    session.vault.reload_meta()
    for number in (LISTED_IN_SPACE[0], LISTED_IN_SPACE[1]):
        with pytest.raises(ReferenceUnavailable) as refused:
            watchlist_hit(session, number)
        assert "old form" in refused.value.message.en and "bentuk lama" in refused.value.message.id
