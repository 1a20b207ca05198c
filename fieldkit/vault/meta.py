"""The vault's ``meta`` table: small named values (ids, pinned keys, states) beside the records."""

from __future__ import annotations

import json
import sqlite3


def meta_value(conn: sqlite3.Connection, key: str) -> object | None:
    """The raw value stored under ``key``, or None."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def meta_json(conn: sqlite3.Connection, key: str) -> object | None:
    """A JSON value stored under ``key``, or None."""
    raw = meta_value(conn, key)
    return json.loads(raw) if raw is not None else None


def put_meta(conn: sqlite3.Connection, key: str, value: object) -> None:
    """Store ``value`` under ``key``, in the caller's transaction."""
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
