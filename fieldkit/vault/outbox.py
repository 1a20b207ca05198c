"""The outbox: every committed record version gets the next gapless per-device number.

Numbers are assigned inside the writing transaction (``BEGIN IMMEDIATE`` holds the write lock),
so a rolled-back action leaves no hole and two actions never share a number.
"""

from __future__ import annotations

import sqlite3


def next_seq(conn: sqlite3.Connection) -> int:
    """The number the next outbox entry will get."""
    return conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox").fetchone()[0]


def append_many(conn: sqlite3.Connection, versions: list[tuple[str, str, int]], at: str) -> int:
    """Queue record versions ``(kind, id, version)``; return the last number given."""
    first = next_seq(conn)
    conn.executemany(
        "INSERT INTO outbox (seq, kind, id, version, at) VALUES (?, ?, ?, ?, ?)",
        [(first + i, kind, rid, version, at) for i, (kind, rid, version) in enumerate(versions)],
    )
    return first + len(versions) - 1


def depth(conn: sqlite3.Connection) -> int:
    """How many record versions are queued."""
    return conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]


def gaps(conn: sqlite3.Connection) -> list[int]:
    """Sequence numbers missing between 1 and the highest one (empty when gapless)."""
    present = [row[0] for row in conn.execute("SELECT seq FROM outbox ORDER BY seq")]
    missing: list[int] = []
    expected = 1
    for seq in present:
        missing.extend(range(expected, seq))
        expected = seq + 1
    return missing
