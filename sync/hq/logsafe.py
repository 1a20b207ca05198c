r"""What HQ may write in its log: client-controlled text escaped, database errors without values.

Two rules (docs/hq.md, "Logs"):

- Every value a client controls (a device id from a path or a header, a client address, a
  problem's detail quoting one) is escaped (:func:`escape`, applied to every text argument of
  a ``fieldkit.hq`` log call by :class:`EscapeArgs`), so it can never start a line of its own
  or hide behind terminal controls: a device id ``x\nINFO accepted …`` is logged as
  ``x\\nINFO accepted …`` on the line it belongs to.
- A database error is logged as :func:`db_error` describes it: its class, SQLSTATE and the
  names of the constraint, table and column, never its message. A driver's message carries the
  row it failed on (PostgreSQL's ``DETAIL: Failing row contains (…)`` and the ``CONTEXT`` line
  of a ``COPY``): an applicant's name and NIK.
"""

from __future__ import annotations

import logging
import traceback

# How much of one client-controlled value a log line keeps.
MAX_LOGGED_CHARS = 200
LOGGER = "fieldkit.hq"


class Verbatim(str):
    """Text of HQ's own making that may span lines (:func:`frames`): not escaped when logged."""

    __slots__ = ()


class EscapeArgs(logging.Filter):
    """Escapes every text argument of a log call (:func:`escape`) before any handler sees it.

    On the logger itself, so it holds whatever handler is configured (``serve``'s, or Python's
    last-resort handler under ``fieldkit-hq import``). Messages are HQ's own templates; every
    value in them is an argument.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Escape ``record.args`` in place; never drops a record."""
        if isinstance(record.args, tuple):
            record.args = tuple(
                escape(a, 1_000) if isinstance(a, str) and not isinstance(a, Verbatim) else a
                for a in record.args
            )
        return True


def hq_logger() -> logging.Logger:
    """The ``fieldkit.hq`` logger, with :class:`EscapeArgs` on it (once)."""
    logger = logging.getLogger(LOGGER)
    if not any(isinstance(f, EscapeArgs) for f in logger.filters):
        logger.addFilter(EscapeArgs())
    return logger


def escape(value: object, limit: int = MAX_LOGGED_CHARS) -> str:
    r"""``value`` as text fit for one log line: controls and backslashes escaped, cut to ``limit``.

    Printable characters (any script) stay as they are; ``\n``, ``\r``, ESC, DEL, the line and
    paragraph separators and every other non-printable character become ``\n``, ``\x1b``,
    ``\u2028`` and so on, as Python writes them; a backslash is doubled so an escape cannot be
    forged. ``None`` is ``-``.
    """
    if value is None:
        return "-"
    text = str(value)
    cut = len(text) > limit
    if cut:
        text = text[:limit]
    if not text.isprintable() or "\\" in text:
        text = "".join(_escaped(ch) for ch in text)
    return text + "…" if cut else text


def _escaped(ch: str) -> str:
    if ch == "\\":
        return "\\\\"
    if ch.isprintable():
        return ch
    return repr(ch)[1:-1]


def db_error(exc: BaseException) -> Verbatim:
    """A database error as it may be logged: no message, only what names the failure.

    ``IntegrityError SQLSTATE 23514 constraint ck_records_x table records`` for a PostgreSQL
    check violation; the class and SQLite's error name (``SQLITE_CONSTRAINT_CHECK``) for
    SQLite. Connection failures keep the first line of their message (which names the server,
    never a row) so the operator learns what is down.
    """
    orig = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's exception
    parts = [type(orig).__name__]
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        parts.append(f"SQLSTATE {escape(sqlstate, 5)}")
    diag = getattr(orig, "diag", None)
    for field, label in (
        ("constraint_name", "constraint"),
        ("table_name", "table"),
        ("column_name", "column"),
    ):
        name = getattr(diag, field, None) if diag is not None else None
        if name:
            parts.append(f"{label} {escape(name, 63)}")
    sqlite_name = getattr(orig, "sqlite_errorname", None)
    if sqlite_name:
        parts.append(escape(sqlite_name, 63))
    if _connection_failure(orig, sqlstate):
        first = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
        if first:
            parts.append(f"({escape(first)})")
    return Verbatim(" ".join(parts))


def _connection_failure(orig: BaseException, sqlstate: str | None) -> bool:
    """A failure to reach the server (class 08, or a driver error without a SQLSTATE)."""
    if sqlstate:
        return str(sqlstate).startswith("08")
    return type(orig).__name__ == "OperationalError" and not hasattr(orig, "sqlite_errorname")


def frames(exc: BaseException) -> Verbatim:
    """Where ``exc`` (and each exception it was raised from) happened, without any message.

    The traceback a log needs to find a bug, one ``file:line in function`` per frame, with the
    exception classes only: an exception's text may quote the input it failed on.
    """
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        lines.append(f"{type(current).__module__}.{type(current).__qualname__}")
        for frame in traceback.extract_tb(current.__traceback__):
            lines.append(f"  {frame.filename}:{frame.lineno} in {frame.name}")
        current = current.__cause__ or current.__context__
        if current is not None:
            lines.append("raised while handling or from:")
    return Verbatim("\n".join(lines))
