"""Proposed HQ changes, patched into benchmark processes only, so their effect can be measured.

Not a benchmark and not product code: ``bench.sync_ingest_concurrency --proposed copy`` and
``bench.sync_e2e --proposed nodelay`` run HQ as ``uvicorn bench.sync_proposals:app_from_env
--factory`` (the same app ``fieldkit-hq serve`` builds, with the same environment) with the
named changes applied in every worker, beside the unchanged ``fieldkit-hq serve``. The changes
themselves are written out in docs/BENCHMARKS.md ("Sync", hot spots).

(The first proposal measured here, ``lookup`` — held record versions looked up by the primary
key's prefix — is now in ``sync.hq.ingest._insert_records`` itself.)
- ``copy``: on PostgreSQL, the many-row inserts of records and audit entries go through
  ``COPY`` into a temporary table (``ON COMMIT DELETE ROWS``) and one ``INSERT … SELECT … ON
  CONFLICT DO NOTHING``, instead of psycopg's ``executemany`` (one Bind/Execute per row).
- ``nodelay``: uvicorn's h11 protocol with ``TCP_NODELAY`` set on each accepted connection;
  ``--workers N`` > 1 loses it (uvicorn binds the listening socket with ``proto=0``, see
  github.com/Kludex/uvicorn/issues/3149) and every response on a kept-alive connection then
  waits ≈40 ms for the client's delayed ACK.
"""

from __future__ import annotations

import contextlib
import os
import socket
from typing import Any

import sqlalchemy as sa
from uvicorn.protocols.http.h11_impl import H11Protocol

PROPOSED_ENV = "FIELDKIT_BENCH_PROPOSED"
CHOICES = ("copy", "nodelay")


def insert_many(conn: Any, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """``INSERT … ON CONFLICT DO NOTHING`` of many rows: COPY on PostgreSQL, else executemany."""
    from sync.hq import store

    if conn.dialect.name != "postgresql":
        conn.execute(store.insert(conn, table).on_conflict_do_nothing(), rows)
        return
    from psycopg.types.json import Jsonb

    columns = [c.name for c in table.columns]
    json_columns = {c.name for c in table.columns if isinstance(c.type, sa.JSON)}
    names = ", ".join(columns)
    staging = f"{table.name}_in"
    with conn.connection.driver_connection.cursor() as cur:
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {table.name}) ON COMMIT DELETE ROWS"
        )
        with cur.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [Jsonb(row[c]) if c in json_columns else row.get(c) for c in columns]
                )
        cur.execute(
            f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} "
            "ON CONFLICT DO NOTHING"
        )


class _CopyingConnection:
    """A connection whose many-row inserts into records and audit_entries use insert_many."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, statement: Any, parameters: Any = None) -> Any:
        from sync.hq import store

        table = getattr(statement, "table", None)
        if isinstance(parameters, list) and table in (store.records, store.audit_entries):
            return insert_many(self._conn, table, parameters)
        if parameters is None:
            return self._conn.execute(statement)
        return self._conn.execute(statement, parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with TCP_NODELAY on every accepted connection."""

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def apply(names: list[str]) -> None:
    """Patch the named proposals into this process."""
    from sync.hq import ingest

    if "copy" in names:
        records, audit = ingest._insert_records, ingest._insert_audit

        def copying_records(conn: Any, header: Any, items: list[Any]) -> None:
            records(_CopyingConnection(conn), header, items)  # type: ignore[arg-type]

        def copying_audit(conn: Any, header: Any, vault_id: str, items: list[Any]) -> Any:
            return audit(_CopyingConnection(conn), header, vault_id, items)  # type: ignore[arg-type]

        ingest._insert_records = copying_records  # type: ignore[assignment]
        ingest._insert_audit = copying_audit  # type: ignore[assignment]


def app_from_env() -> Any:
    """HQ's app factory, with the proposals named in ``FIELDKIT_BENCH_PROPOSED`` applied."""
    from sync.hq import app

    apply([n for n in os.environ.get(PROPOSED_ENV, "").split(",") if n])
    return app.app_from_env()


if __name__ == "__main__":  # not a benchmark: --help (or no argument) describes the module
    import argparse

    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    print(__doc__)
