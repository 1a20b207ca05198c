"""Reading cell values: stripped text, dates written the Indonesian way, bare words."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

from fieldkit.domain.dates import parse_iso_date

_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_DAY_FIRST = re.compile(r"([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4})")
_ISO_WITH_MIDNIGHT = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?")


def cell(cells: Sequence[object], index: int) -> object:
    """The cell's value, stripped when text; None when absent or blank."""
    if index >= len(cells):
        return None
    value = cells[index]
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def as_text(value: object) -> str:
    """A non-blank cell's value (see :func:`cell`) as text.

    Whole-number floats and midnight datetimes (what XLSX number and date cells hold) lose
    their ``.0`` or their time.
    """
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    return str(value).strip()


def parse_date(value: object) -> date | None:
    """The date in a date cell or in text written day first or ISO; None if there is none.

    Text is ``dd/mm/yyyy``, ``dd-mm-yyyy``, ``dd.mm.yyyy`` or ``yyyy-mm-dd`` (a midnight time
    may follow); a day that does not exist is None too.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    found = _DAY_FIRST.fullmatch(text)
    if found:
        try:
            return date(int(found[3]), int(found[2]), int(found[1]))
        except ValueError:
            return None
    found = _ISO_WITH_MIDNIGHT.fullmatch(text)
    return parse_iso_date(found[1]) if found else None


def word(text: str) -> str:
    """Lower-case words with single spaces, no punctuation, nothing in parentheses.

    ``Tgl. Lahir (dd/mm/yyyy)`` is ``tgl lahir``.
    """
    return _NOT_WORD.sub(" ", _PARENTHESES.sub(" ", text.lower())).strip()
