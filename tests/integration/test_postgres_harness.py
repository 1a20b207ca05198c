"""The PostgreSQL harness that the HQ store tests build on: a real server, a fresh database."""

import pytest

pytestmark = pytest.mark.postgres


def test_each_test_gets_its_own_empty_database_that_is_dropped(postgres_admin, postgres_url):
    import psycopg

    name = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()[0]
        assert tables == 0
        conn.execute("CREATE TABLE receipt (batch_id uuid PRIMARY KEY, seq bigint NOT NULL)")
        conn.execute(
            "INSERT INTO receipt VALUES ('00000000-0000-0000-0000-000000000001', 1) "
            "ON CONFLICT DO NOTHING"
        )
        assert conn.execute("SELECT seq FROM receipt").fetchall() == [(1,)]
    listed = postgres_admin.execute(
        "SELECT count(*) FROM pg_database WHERE datname = %s", (name,)
    ).fetchone()[0]
    assert listed == 1
