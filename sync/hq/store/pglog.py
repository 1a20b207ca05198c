"""What PostgreSQL's own server log keeps of HQ's failed statements: as little as HQ may ask.

On an error, PostgreSQL logs the message and, at the default ``log_error_verbosity``, its
``DETAIL`` and ``CONTEXT`` (``Failing row contains (…)``, the ``COPY`` line): the row's values,
an applicant's name and NIK among them, plus the statement (``log_min_error_statement``).
Both settings are the superuser's: HQ asks for ``terse`` and ``panic`` on every connection,
which PostgreSQL allows only to a superuser or a role granted ``SET`` on them (PostgreSQL 15:
``GRANT SET ON PARAMETER``), or finds them already set for its role or database. Otherwise it
warns once per process and the DBA must set them (docs/hq.md, "Logs").
``log_parameter_max_length_on_error`` anyone may set: 0 keeps bound values out of the log.
"""

from __future__ import annotations

from typing import Any

from sync.hq.logsafe import hq_logger

# (setting, the value HQ wants): the order matters only for the warning.
QUIET = (
    ("log_parameter_max_length_on_error", "0"),
    ("log_error_verbosity", "terse"),
    ("log_min_error_statement", "panic"),
)
_warned = False


def quiet_server_log(dbapi_connection: Any) -> list[str]:
    """Ask the server, for this connection, to log errors without values; the settings refused.

    ``dbapi_connection`` is a fresh psycopg connection (SQLAlchemy's ``connect`` event).
    """
    import psycopg

    global _warned
    refused = []
    for name, value in QUIET:
        try:
            with dbapi_connection.cursor() as cur:
                cur.execute(f"SHOW {name}")  # our constant names only, never input
                row = cur.fetchone()
                if row is None or str(row[0]).lower() != value:
                    cur.execute(f"SET {name} = {value}")
            dbapi_connection.commit()
        except psycopg.errors.InsufficientPrivilege:
            dbapi_connection.rollback()
            refused.append(name)
    if refused and not _warned:
        _warned = True
        hq_logger().warning(
            "PostgreSQL refused HQ's %s for its connections: the server's own log will keep the "
            "values of a failed statement (an applicant's data). Have the DBA set them for HQ's "
            "role (docs/hq.md, Logs).",
            ", ".join(refused),
        )
    return refused
