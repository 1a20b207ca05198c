"""A real PostgreSQL error while storing a batch puts no applicant's name or NIK in any log.

Before the fix, a failing insert put the driver's message (the ``COPY`` context line, or
``DETAIL: Failing row contains (…)``) with an applicant's name and NIK into HQ's log twice (its
own handler, then uvicorn's traceback) and into PostgreSQL's server log. Here a fresh database
is given two test-only constraints (no mock: the server itself refuses the rows), two batches
of synthetic applicants trip them, one in the ``COPY`` into the staging table and one in the
``INSERT … SELECT``, and every log is scanned: HQ's standard output and error (its whole log),
and the PostgreSQL server's log when this machine lets the test read it.
"""

from __future__ import annotations

import glob
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from sync.hq import store
from tests.support.device import Device
from tests.support.hq import Server, enrolled_device, init_hq, start_server, stop_server
from tests.support.postgres import fresh_database

pytestmark = pytest.mark.postgres

# Synthetic people (the NIKs are well formed and belong to nobody).
IN_COPY = {"name": "SITI AMINAH PRIVASI", "nik": "3215015203900007"}
IN_INSERT = {"name": "BUDI SANTOSO RAHASIA", "nik": "3215011408850003"}
SECRETS = (IN_COPY["name"], IN_COPY["nik"], IN_INSERT["name"], IN_INSERT["nik"])

# PostgreSQL's log where Debian and most packages put it (no logging collector).
SERVER_LOGS = "/var/log/postgresql/postgresql-*.log"


def _tweak_schema(db_url: str) -> None:
    """Two constraints HQ does not have, each refusing one of the people above."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        # A domain on records.data: the staging table copies the column's type, so the COPY
        # itself fails, with the row's JSON in its CONTEXT line.
        conn.execute(
            "CREATE DOMAIN test_only_data AS jsonb "
            f"CHECK (VALUE->>'name' IS DISTINCT FROM '{IN_COPY['name']}')"
        )
        conn.execute("ALTER TABLE records ALTER COLUMN data TYPE test_only_data")
        # A table constraint: the INSERT … SELECT fails, with "Failing row contains (…)".
        conn.execute(
            "ALTER TABLE records ADD CONSTRAINT ck_test_only_name "
            f"CHECK (data->>'name' IS DISTINCT FROM '{IN_INSERT['name']}')"
        )


@pytest.fixture(scope="module")
def server(postgres_admin: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One HQ worker over a fresh PostgreSQL database with the test-only constraints."""
    with fresh_database(postgres_admin) as db_url:
        hq = init_hq(tmp_path_factory.mktemp("hq-log-privacy"), db_url)
        _tweak_schema(db_url)
        running = start_server(hq, workers=1)
        try:
            yield running
        finally:
            stop_server(running)


def _batch_with(device: Device, person: dict[str, str]) -> tuple[str, bytes]:
    visit = str(uuid.uuid4())
    item = device.applicant(visit)
    item["data"] = {**item["data"], **person}  # type: ignore[dict-item]
    header, sealed = device.cut(items=[item, *device.audit_entries(1)])
    return header.batch_id, sealed


def _server_log() -> Path | None:
    for path in sorted(glob.glob(SERVER_LOGS)):
        if os.access(path, os.R_OK):
            return Path(path)
    return None


def test_a_driver_error_leaves_no_personal_data_in_any_log(server: Server) -> None:
    pg_log = _server_log()
    pg_start = pg_log.stat().st_size if pg_log else 0
    device = enrolled_device(server.hq)
    answers = {}
    for person, constraint in ((IN_COPY, "test_only_data"), (IN_INSERT, "ck_test_only_name")):
        batch_id, sealed = _batch_with(device, person)
        answer = server.post(sealed)
        # The store's fault, not the device's: a 500 problem the device retries later, which
        # names the batch and the SQLSTATE and quotes nothing.
        assert answer.status_code == 500, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        problem = answer.json()
        assert problem["type"] == "/problems/store-failed"
        assert batch_id in problem["detail"] and "23514" in problem["detail"]
        assert not any(secret in answer.text for secret in SECRETS)
        answers[batch_id] = constraint
    assert server.hq.count(store.batches, store.batches.c.device_id == device.device_id) == 0

    stop_server(server)  # every line flushed
    log = server.log.read_text()
    for secret in SECRETS:
        assert secret not in log, f"{secret!r} in HQ's log:\n{log}"
    for batch_id, constraint in answers.items():
        [line] = [
            x
            for x in log.splitlines()
            if f"ERROR fieldkit.hq: could not store batch {batch_id}" in x
        ]
        assert "SQLSTATE 23514" in line and device.device_id in line, line
        assert constraint in line, line  # the constraint's name is the schema's, not data
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log

    if pg_log is None:
        pytest.skip(f"PostgreSQL's server log ({SERVER_LOGS}) is not readable here")
    with pg_log.open("rb") as handle:
        handle.seek(pg_start)
        written = handle.read().decode("utf-8", "replace")
    for secret in SECRETS:
        assert secret not in written, f"{secret!r} in PostgreSQL's log:\n{written}"
    # The errors themselves are there (this is the right log), without DETAIL or STATEMENT.
    assert "ck_test_only_name" in written, written
