"""HQ's side of reference data: ``GET /v1/reference``, the operator commands and the store.

HQ's app runs in the test process (``TestClient``, ``tests.support.hq_app``) over SQLite and,
marked ``postgres``, PostgreSQL; the operator commands are the real ``fieldkit-hq`` in a
subprocess; the devices are the harness's (their own Ed25519 keys, enrolled through the API).
Every NIK is synthetic.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldkit.domain.synth import synthetic_applicants
from sync.hq import store
from sync.wire.reference import WatchlistParams, watchlist_tag
from sync.wire.requests import (
    DEVICE_HEADER,
    REFERENCE_PATH,
    SIGNATURE_HEADER,
    TIME_HEADER,
    request_headers,
)
from tests.support.hq import Device, init_hq, run_cli
from tests.support.hq_app import HQApp, hq_app
from tests.support.hq_app import api_fixture as api_fixture  # the module's "api" fixture
from tests.support.reference import OFFICE_VISIT, document, entries, write_roster

PROBLEM_KEYS = {"type", "title", "status", "detail"}
FEES = Path(__file__).resolve().parents[2] / "fieldkit" / "domain" / "data" / "fees.json"


def get(api: HQApp, device: Device, **overrides: str) -> httpx2.Response:
    headers = request_headers(device.key, device.device_id)
    headers.update(overrides)
    return api.client.get(REFERENCE_PATH, headers=headers)


def assert_problem(response: httpx2.Response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    extensions = {"hq_time"} if slug == "clock-skew" else set()  # HQ's signed time (PROTOCOL.md)
    assert PROBLEM_KEYS <= set(body) <= PROBLEM_KEYS | extensions, body
    assert body["type"] == f"/problems/{slug}", body
    return body


def cli(api: HQApp, *args: str, check: bool = True):
    return run_cli(api.hq.env, *args, check=check)


# -- the request ----------------------------------------------------------------------------------


def test_only_an_enrolled_device_signing_a_fresh_request_gets_its_document(api):
    device = api.enroll()
    doc = document(api, device)
    assert doc["type"] == "reference" and doc["v"] == 2 and doc["device_id"] == device.device_id
    assert doc["hq_keys"]["encryption"]["kid"] == device.hq_kid
    assert base64.b64decode(doc["hq_keys"]["encryption"]["public_key"]) == device.hq_public
    assert base64.b64decode(doc["hq_keys"]["signing"]["public_key"]) == device.hq_signing_public
    assert doc["revoked"] is None and isinstance(doc["version"], int)

    for missing in (DEVICE_HEADER, TIME_HEADER, SIGNATURE_HEADER):
        headers = request_headers(device.key, device.device_id)
        del headers[missing]
        response = api.client.get(REFERENCE_PATH, headers=headers)
        assert_problem(response, 401, "unauthenticated")
    assert_problem(get(api, device, **{SIGNATURE_HEADER: "not base64!"}), 401, "unauthenticated")
    assert_problem(get(api, device, **{TIME_HEADER: "yesterday"}), 401, "unauthenticated")
    assert_problem(get(api, device, **{TIME_HEADER: "2026-11-28T01:00:00"}), 401, "unauthenticated")

    for minutes in (-11, 11):
        at = (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()
        stale = request_headers(device.key, device.device_id, at=at)
        body = assert_problem(api.client.get(REFERENCE_PATH, headers=stale), 401, "clock-skew")
        assert "Check the laptop's date and time" in body["detail"]
    nearly = (datetime.now(UTC) - timedelta(minutes=8)).isoformat()
    fine = request_headers(device.key, device.device_id, at=nearly)
    assert api.client.get(REFERENCE_PATH, headers=fine).status_code == 200

    stranger = request_headers(Ed25519PrivateKey.generate(), device.device_id)
    assert_problem(
        api.client.get(REFERENCE_PATH, headers=stranger),
        401,
        "bad-signature",
    )
    other_path = request_headers(device.key, device.device_id, path="/v1/batches")
    assert_problem(
        api.client.get(REFERENCE_PATH, headers=other_path),
        401,
        "bad-signature",
    )
    unknown = str(uuid.uuid4())
    assert_problem(
        api.client.get(REFERENCE_PATH, headers=request_headers(device.key, unknown)),
        403,
        "unknown-device",
    )
    rejected = api.hq.rows(store.rejections, store.rejections.c.device_id == unknown)
    assert [r["problem"] for r in rejected] == ["unknown-device"]


def test_a_revoked_device_gets_the_signed_news_and_nothing_else(api, tmp_path):
    device = api.enroll()
    cli(api, "watchlist", "import", str(write_watchlist(tmp_path, 3, 501)))
    cli(
        api, "roster", "assign", "--device", device.device_id, "--visit-json",
        str(write_roster(tmp_path, entries(2, 502))),
    )  # fmt: skip
    before = document(api, device)
    assert before["watchlist"] is not None and len(before["rosters"]) == 1
    cli(api, "device", "revoke", device.device_id, "--reason", "hilang di jalan")
    after = document(api, device)
    assert after["version"] > before["version"]
    assert after["revoked"]["reason"] == "hilang di jalan"
    assert (after["watchlist"], after["fees"], after["rosters"]) == (None, None, [])
    other = document(api, api.enroll())
    assert device.device_id in {d["device_id"] for d in other["revoked_devices"]}
    refused = cli(
        api, "roster", "assign", "--device", device.device_id, "--visit-json",
        str(write_roster(tmp_path, entries(1, 503))), check=False,
    )  # fmt: skip
    assert refused.returncode == 1 and "revoked" in refused.stderr


def write_watchlist(tmp_path, count: int, seed: int, extra: str = ""):
    path = tmp_path / f"watch-{seed}.txt"
    niks = [p.nik for p in synthetic_applicants(count, seed)]
    path.write_text("\n".join(niks) + "\n" + extra, encoding="utf-8")
    return path


# -- what HQ publishes -----------------------------------------------------------------------------


def test_every_change_raises_the_version_and_rosters_and_officers_go_to_their_devices(
    api, tmp_path
):
    first, second = api.enroll(), api.enroll()
    version = document(api, first)["version"]

    def bumped() -> int:
        nonlocal version
        now = document(api, first)["version"]
        assert now > version, "the version went up"
        version = now
        return now

    assigned = entries(3, 504)
    visit_id = cli(
        api, "roster", "assign", "--device", first.device_id, "--visit-json",
        str(write_roster(tmp_path, assigned)),
    ).stdout.strip()  # fmt: skip
    bumped()
    mine = document(api, first)["rosters"]
    [assignment] = [r for r in mine if r["visit_id"] == visit_id]
    assert assignment["visit"]["site"] == "Kanim Karawang"
    assert [e["data"]["nik"] for e in assignment["entries"]] == [e["nik"] for e in assigned]
    assert all(e["data"]["source"] == "hq" for e in assignment["entries"])
    assert visit_id not in {r["visit_id"] for r in document(api, second)["rosters"]}

    cli(api, "officer", "revoke", "budi.s", "--device", first.device_id, "--reason", "mutasi")
    bumped()
    assert "budi.s" in {o["officer_id"] for o in document(api, first)["revoked_officers"]}
    assert "budi.s" not in {o["officer_id"] for o in document(api, second)["revoked_officers"]}
    repeated = cli(api, "officer", "revoke", "budi.s", "--device", first.device_id)
    assert "already revoked" in repeated.stdout
    assert document(api, first)["version"] == version, "a repeated revocation is no news"
    cli(api, "officer", "revoke", "rina.w")
    bumped()
    assert "rina.w" in {o["officer_id"] for o in document(api, second)["revoked_officers"]}

    path = write_watchlist(tmp_path, 4, 505)
    cli(api, "watchlist", "import", str(path))
    bumped()
    watch = document(api, first)["watchlist"]
    salt = base64.b64decode(watch["salt"])
    niks = [line for line in path.read_text().split() if line]
    assert watch["scheme"] == "argon2id-truncated" and watch["entries"] == 4
    assert (watch["memory_kib"], watch["iterations"], watch["lanes"], watch["bits"]) == (
        19 * 1024, 2, 1, 16,
    ), "the default cost and truncation for a short list"  # fmt: skip
    params = WatchlistParams(19 * 1024, 2, 1, 16)
    assert watch["tags"] == sorted({watchlist_tag(nik, salt, params) for nik in niks})
    assert "key" not in watch and "digests" not in watch, "no key travels any more"
    cli(api, "watchlist", "import", str(path))
    bumped()
    assert base64.b64decode(document(api, first)["watchlist"]["salt"]) != salt, "a fresh salt"

    fees = json.loads(FEES.read_text(encoding="utf-8"))
    (tmp_path / "fees.json").write_text(json.dumps(fees))
    published = json.loads(
        cli(api, "fees", "publish", str(tmp_path / "fees.json"), "--json").stdout
    )
    assert published["schedules"] == ["PP 28/2019", "PP 45/2024"]
    assert bumped() == published["reference_version"]
    assert document(api, second)["fees"]["data"] == fees

    status = json.loads(cli(api, "status", "--json").stdout)["reference"]
    assert status["version"] == version and status["watchlist"] == 4
    listed = json.loads(cli(api, "roster", "list", "--device", first.device_id, "--json").stdout)
    assert visit_id in {item["visit_id"] for item in listed}


def test_operator_input_is_checked_and_never_echoes_a_nik(api, tmp_path):
    device = api.enroll()
    people = entries(4, 506)
    people[2]["nik"] = people[2]["nik"][:-1] + "X"
    people[3]["nik"] = people[0]["nik"]
    people[1]["application_type"] = "refund"
    bad = cli(
        api, "roster", "assign", "--device", device.device_id, "--visit-json",
        str(write_roster(tmp_path, people)), check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    for marker in ("#2 application_type", "#3 nik", "#4 nik: [roster.duplicate]"):
        assert marker in bad.stderr, bad.stderr
    assert not any(p["nik"] in bad.stderr + bad.stdout for p in people)
    assert (
        api.hq.count(
            store.roster_assignments, store.roster_assignments.c.device_id == device.device_id
        )
        == 0
    )

    unknown = cli(
        api, "roster", "assign", "--device", str(uuid.uuid4()), "--visit-json",
        str(write_roster(tmp_path, entries(1, 507))), check=False,
    )  # fmt: skip
    assert unknown.returncode == 1 and "No device" in unknown.stderr
    eazy = {**OFFICE_VISIT, "kind": "eazy"}
    no_coordinator = cli(
        api, "roster", "assign", "--device", device.device_id, "--visit-json",
        str(write_roster(tmp_path, entries(1, 508), eazy)), check=False,
    )  # fmt: skip
    assert no_coordinator.returncode == 2 and "coordinator" in no_coordinator.stderr

    version = document(api, device)["version"]
    niks = [p.nik for p in synthetic_applicants(3, 509)]
    path = tmp_path / "bad-watch.txt"
    path.write_text(f"{niks[0]}\n{niks[1][:10]}\n\n# note\n{niks[2]}x\n", encoding="utf-8")
    refused = cli(api, "watchlist", "import", str(path), check=False)
    assert refused.returncode == 2 and "lines 2, 5" in refused.stderr
    assert not any(nik[:10] in refused.stderr + refused.stdout for nik in niks)
    assert document(api, device)["version"] == version, "nothing changed"
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    assert cli(api, "watchlist", "import", str(empty), check=False).returncode == 2

    (tmp_path / "float.json").write_text('{"format": 1, "schedules": [], "x": 1.5}')
    assert cli(api, "fees", "publish", str(tmp_path / "float.json"), check=False).returncode == 2
    assert cli(api, "officer", "revoke", "not an id!", check=False).returncode == 2


def test_hq_keeps_only_digests_of_the_watchlist(api, tmp_path):
    path = write_watchlist(tmp_path, 25, 510)
    cli(api, "watchlist", "import", str(path))
    niks = [line for line in path.read_text().split() if line]
    held = [r["digest"] for r in api.hq.rows(store.watchlist)]
    assert len(held) == 25 and not set(niks) & set(held)
    if api.hq.db_url is None:
        for file in api.hq.home.glob("hq.db*"):
            raw = file.read_bytes()
            assert not any(nik.encode() in raw for nik in niks), file.name


# -- the store ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_schema_is_migrated_to_the_newest_and_keys_are_noted_once(backend, tmp_path, request):
    url = (
        request.getfixturevalue("postgres_url").replace("postgresql://", "postgresql+psycopg://")
        if backend == "postgres"
        else f"sqlite+pysqlite:///{tmp_path / 'hq.db'}"
    )
    engine = store.open_store(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, store.metadata) == []
            assert context.get_current_revision() == "0006"
        assert store.note_hq_keys(engine, "a" * 16) == 1
        assert store.note_hq_keys(engine, "a" * 16) == 1, "the same key is no news"
        assert store.note_hq_keys(engine, "b" * 16) == 2, "a rotated key is"
        with engine.begin() as conn:
            assert store.bump_reference(conn) == 3
    finally:
        engine.dispose()


def test_a_worker_with_keys_from_before_a_rotation_does_not_answer(tmp_path):
    from sync.hq import keys
    from tests.support.hq import PASSPHRASE as HQ_PASSPHRASE

    hq = init_hq(tmp_path / "hq", None)
    with hq_app(hq) as running:  # a worker that unlocked the keys before the rotation
        device = running.enroll()
        before = document(running, device)
        rotated = keys.rotate_encryption_key(hq.home, HQ_PASSPHRASE)
        engine = hq.engine()
        try:  # what a worker started after the rotation does first
            assert store.note_hq_keys(engine, rotated.current_kid) == before["version"] + 1
        finally:
            engine.dispose()
        assert_problem(get(running, device), 503, "keys-changing")
    with hq_app(hq) as running:  # the worker restarted: it unlocks the rotated keys
        after = document(running, device)
        assert after["version"] == before["version"] + 1
        assert after["hq_keys"]["encryption"]["kid"] == rotated.current_kid
