"""An open vault file: its connections, its clear metadata, and what anyone may read.

Threading rule: a vault may be used from several threads at once. Each thread gets its own
SQLite connection to the file (opened on first use with the same settings), so threads
coordinate exactly as separate processes do: through SQLite's WAL locking, one writer at a
time (``BEGIN IMMEDIATE`` waits up to 30 s), readers never blocked and never seeing another
thread's uncommitted transaction. Connections of threads that have ended are closed the next
time any thread asks for its connection, and all of them by :meth:`VaultFile.close`.

File modes: the folder is 0700 and every file in it 0600, SQLite's ``-wal`` and ``-shm``
included (:func:`fieldkit.vault.db.secure_files`).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from fieldkit.domain.findings import Message
from fieldkit.vault import audit, db, outbox


class VaultFile:
    """The vault file, open. Reading counts and verifying the audit chain need no passphrase."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conns: dict[int, tuple[threading.Thread, sqlite3.Connection]] = {
            threading.get_ident(): (threading.current_thread(), conn)
        }
        # What opening the file changed on disk (a loose folder or file made private), for the
        # officer to be told once (fieldkit.vault.db.secure_files).
        self.notices: tuple[Message, ...] = getattr(conn, "notices", ())
        self.meta: dict[str, str] = {}
        self.reload_meta()
        self.vault_id: str = self.meta["vault_id"]
        self.device_id: str = self.meta["device_id"]

    @property
    def conn(self) -> sqlite3.Connection:
        """The calling thread's connection to the vault file (see the threading rule above)."""
        ident = threading.get_ident()
        held = self._conns.get(ident)
        if held is not None and held[0] is threading.current_thread():
            return held[1]
        with self._lock:
            self._close_finished_threads()
            conn = db.connect(self.path)
            self._conns[ident] = (threading.current_thread(), conn)
        return conn

    def _close_finished_threads(self) -> None:
        for ident, (thread, conn) in list(self._conns.items()):
            if not thread.is_alive():
                # A dead thread's connection is closed from here: nothing else will use it.
                conn.close()
                del self._conns[ident]

    def close(self) -> None:
        """Close every connection (the file stays as it is)."""
        with self._lock:
            for _, conn in self._conns.values():
                conn.close()
            self._conns.clear()

    def reload_meta(self) -> None:
        """Re-read the meta table after a change."""
        self.meta = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    def counts(self) -> list[tuple[str | None, str, str, int]]:
        """Record counts by visit, kind and state (metadata, no personal data)."""
        return self.conn.execute(
            "SELECT visit_id, kind, state, COUNT(*) FROM records "
            "GROUP BY visit_id, kind, state ORDER BY visit_id, kind, state"
        ).fetchall()

    def outbox_depth(self) -> int:
        """Record versions in the outbox (batched or not; see syncstate for what is waiting)."""
        return outbox.depth(self.conn)

    def verify_audit(self) -> audit.AuditVerdict:
        """Verify the whole audit chain."""
        return audit.verify(self.conn, self.vault_id)

    def integrity_check(self) -> str:
        """SQLite's own structural check ('ok' when sound)."""
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0]
