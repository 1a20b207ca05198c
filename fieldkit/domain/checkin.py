"""Check-in: finding an arrival by part of a name, and whether a roster entry may arrive now.

:class:`NameIndex` is built once from a visit's roster (names as decrypted after unlock) and
answers each keystroke from memory: word prefixes by binary search over a sorted list of the
folded words, else a substring of the folded full name. :func:`check_arrival` says whether an
entry may be checked in at this visit (not twice, not on another day); :func:`priority_group`
says whether a booked arrival takes the priority queue series.
"""

from __future__ import annotations

import heapq
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from fieldkit.domain.counter import RosterState, WalkInGroup
from fieldkit.domain.dates import age_on
from fieldkit.domain.findings import Finding, error, warning

# Apostrophes vanish (NUR'AINI is found by "nuraini"); other punctuation separates words.
_DROPPED = str.maketrans("", "", "'\u2019`\u02bc")

ELDERLY_AGE = 60
UNDER_FIVE_AGE = 5


def fold(text: str) -> str:
    """``text`` as names are compared: accents stripped (NFKD), case folded, single spaces.

    ``"  Siti   Nur'Aini Désirée "`` → ``"siti nuraini desiree"``. Punctuation other than an
    apostrophe becomes a space, so hyphenated and dotted names split into words.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = bare.casefold().translate(_DROPPED)
    return " ".join("".join(c if c.isalnum() else " " for c in bare).split())


@dataclass(frozen=True, slots=True)
class IndexedEntry:
    """What the name index holds of one roster entry (read-only after the build)."""

    entry_id: str
    name: str
    booking_code: str | None
    nik: str | None


class NameIndex:
    """Roster entries by name, built once per visit; every lookup runs in memory.

    Built from ``(entry_id, name, booking_code, nik)`` tuples. :meth:`lookup` ranks: the folded
    full name equal to the query, then names starting with it, then entries one of whose words
    starts with the query's first word (earlier words first) and whose other words start with
    the query's other words, then names containing the query anywhere; ties by name.
    """

    def __init__(self, entries: Iterable[tuple[str, str | None, str | None, str | None]]) -> None:
        self.entries: list[IndexedEntry] = []
        self.folded: list[str] = []
        self.by_id: dict[str, int] = {}
        words: list[tuple[str, int, int]] = []
        for entry_id, name, code, nik in entries:
            position = len(self.entries)
            self.entries.append(IndexedEntry(entry_id, name or "", code, nik))
            folded = fold(name or "")
            self.folded.append(folded)
            self.by_id[entry_id] = position
            words.extend((word, position, place) for place, word in enumerate(folded.split()))
        words.sort()
        # Parallel lists: bisect on the words alone, then rank by (word position, name, entry).
        self._words = [w for w, _, _ in words]
        self._keys = [(place, self.folded[p], p) for _, p, place in words]

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self.by_id

    def entry(self, entry_id: str) -> IndexedEntry | None:
        """The indexed entry with this id, or None."""
        position = self.by_id.get(entry_id)
        return self.entries[position] if position is not None else None

    def _prefixed(self, prefix: str) -> list[tuple[int, str, int]]:
        """``(word position, folded name, entry)`` of every word starting with ``prefix``."""
        start = bisect_left(self._words, prefix)
        end = bisect_left(self._words, prefix + _AFTER_EVERY_LETTER, start)
        return self._keys[start:end]

    def lookup(self, query: str, limit: int = 10) -> list[IndexedEntry]:
        """The best ``limit`` entries for a part of a name (case- and accent-insensitive)."""
        q = fold(query)
        if not q or limit <= 0:
            return []
        first, *rest = q.split()
        found = self._prefixed(first)
        if rest:
            # Several words: each must start a word of the name; names starting so come first.
            found = [
                (0 if name.startswith(q) else 1, place, name, p)
                for place, name, p in found
                if _words_match(name.split(), rest)
            ]
        else:
            # One word: by (word position, name) the name equal to the query comes first, then
            # the names starting with it, then later words.
            found = [(0, place, name, p) for place, name, p in found]  # type: ignore[misc]
        picked: list[int] = []
        for *_, position in _smallest(found, limit):
            if position not in picked:
                picked.append(position)
        if len(picked) < limit and len(q) >= 3:
            # A part inside a word ("wati" in "SRIWATI"): a scan of the folded names in memory.
            inside = heapq.nsmallest(
                limit - len(picked),
                ((name, p) for p, name in enumerate(self.folded) if q in name and p not in picked),
            )
            picked += [p for _, p in inside]
        return [self.entries[position] for position in picked[:limit]]


_AFTER_EVERY_LETTER = "\U0010ffff"


def _smallest(keys: list[tuple[int, int, str, int]], limit: int) -> list[tuple[int, int, str, int]]:
    """The smallest keys, enough to hold ``limit`` distinct entries (a name may match twice)."""
    top = heapq.nsmallest(2 * limit, keys)
    if len({k[3] for k in top}) >= limit or len(top) == len(keys):
        return top
    return sorted(keys)


def _words_match(name_words: list[str], query_words: list[str]) -> bool:
    """True when every query word after the first starts some word of the name."""
    return all(any(w.startswith(q) for w in name_words) for q in query_words)


def priority_group(birth_date: date | None, on: date) -> WalkInGroup | None:
    """The priority group someone belongs to by age on the day (60 or over, under 5), or None.

    A booked arrival in one of them takes the priority series (``P``) of the queue.
    """
    if birth_date is None:
        return None
    age = age_on(birth_date, on)
    if age >= ELDERLY_AGE:
        return WalkInGroup.ELDERLY
    if age < UNDER_FIVE_AGE:
        return WalkInGroup.UNDER_FIVE
    return None


def check_arrival(
    entry_state: str,
    booking_date: date | None,
    booking_session: str | None,
    visit_date: date,
    visit_session: str,
    *,
    arrived_at: str | None = None,
    queue_label: str | None = None,
) -> tuple[Finding, ...]:
    """Whether a roster entry may be checked in at this visit; errors refuse, warnings inform.

    Refused: an entry already checked in (``checkin.already_arrived``, with when and its
    queue number), marked a no-show (``checkin.no_show``) or withdrawn by HQ
    (``checkin.withdrawn``), and a booking for another day (``checkin.other_date``). A booking
    for the other session of the same day is a warning (``checkin.other_session``): the import
    accepted it into this visit with a warning, and the team may still serve the person.
    An entry without a booking (a coordinator's list) has no date or session to check.
    """
    if entry_state == RosterState.ARRIVED:
        at = arrived_at or "-"
        number = queue_label or "-"
        return (
            error(
                "checkin.already_arrived",
                "entry",
                f"Sudah check-in pada {at} dengan nomor antrean {number}; tidak dicatat lagi.",
                f"Already checked in at {at} with queue number {number}; not recorded again.",
            ),
        )
    if entry_state == RosterState.NO_SHOW:
        return (
            error(
                "checkin.no_show",
                "entry",
                "Pemohon ini sudah dicatat tidak hadir saat kunjungan ditutup.",
                "This person was marked a no-show when the visit was closed.",
            ),
        )
    if entry_state == RosterState.WITHDRAWN:
        return (
            error(
                "checkin.withdrawn",
                "entry",
                "Entri daftar ini ditarik oleh HQ; tidak dapat check-in.",
                "HQ withdrew this roster entry; it cannot be checked in.",
            ),
        )
    findings: list[Finding] = []
    if booking_date is not None and booking_date != visit_date:
        findings.append(
            error(
                "checkin.other_date",
                "booking_date",
                f"Booking ini untuk tanggal {booking_date.isoformat()}, bukan hari ini "
                f"({visit_date.isoformat()}). Minta pemohon datang pada tanggal bookingnya.",
                f"This booking is for {booking_date.isoformat()}, not today "
                f"({visit_date.isoformat()}). Ask the applicant to come on the booked day.",
            )
        )
    elif booking_session is not None and booking_session != visit_session:
        findings.append(
            warning(
                "checkin.other_session",
                "session",
                f"Booking ini untuk sesi {booking_session}, kunjungan ini sesi {visit_session}.",
                f"This booking is for the {booking_session} session; this visit is "
                f"{visit_session}.",
            )
        )
    return tuple(findings)
