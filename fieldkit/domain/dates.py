"""Date arithmetic the rules share: ages, and reading dates people type."""

from __future__ import annotations

import re
from datetime import date

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def age_on(birth_date: date, on: date) -> int:
    """Return the age in whole years on ``on`` (a person born on 29 February ages on 1 March)."""
    had_birthday = (on.month, on.day) >= (birth_date.month, birth_date.day)
    return on.year - birth_date.year - (0 if had_birthday else 1)


def parse_iso_date(raw: object) -> date | None:
    """Return the date written as ``YYYY-MM-DD``, or None when ``raw`` is not such a date."""
    # fromisoformat alone would also accept week dates such as 2024-W01-1.
    if not isinstance(raw, str) or not _ISO_DATE.fullmatch(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None
