"""What the field-app benchmarks share: a vault with a big roster, and hooks on the running app.

Not a benchmark itself. Everything is written under the benchmark's temporary directory:

- :func:`roster_vault` makes a vault (officer ``bench01``, cheap test KDF: unlocking is not
  measured) with an office visit whose roster is ``entries`` distinct synthetic people,
  imported through the real importer from a booking export (as ``bench.checkin_lookup`` does),
  optionally opened; the vault is locked and closed, ready for the app to unlock;
- :class:`Paints` stamps every frame the app's compositor hands to ``App._display`` (the one
  place a screen's update reaches the terminal; headless, it is computed and not written);
- :class:`Ticker` is a ``set_interval`` timer on the app that stamps each tick (and may ask a
  widget to repaint, as a spinner would): the gaps between ticks are how late the UI thread
  answers, which is what an officer feels as a frozen screen;
- :class:`GcPauses` records every garbage collection (``gc.callbacks``) with its duration;
- :func:`gaps` turns stamps inside a window into gap statistics;
- :func:`unlock_app` types the officer id and passphrase on the unlock screen
  (``tests.support.field_app.unlock``) and waits for the visits screen.

The hooks are attributes set on the running app's objects from the benchmark: no product code
changes.
"""

from __future__ import annotations

import asyncio
import bisect
import gc
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import _common as c
from bench.checkin_lookup import distinct_people, write_bookings
from fieldkit.domain.synth import SyntheticApplicant
from fieldkit.service import visits
from fieldkit.service.roster import import_roster
from fieldkit.service.session import OfficerSession
from fieldkit.settings import Settings
from fieldkit.vault.session import UnlockedVault

clock = time.perf_counter


@dataclass
class FieldVault:
    """A vault home with one visit and its roster."""

    home: Path
    visit_id: str
    people: list[SyntheticApplicant]
    settings: Settings
    import_seconds: float


def roster_vault(
    home: Path,
    entries: int,
    seed: int,
    *,
    open_visit: bool = True,
    before_lock: Callable[[UnlockedVault], None] | None = None,
) -> FieldVault:
    """A new vault in ``home``: an office visit with ``entries`` booked synthetic people.

    ``before_lock`` runs on the unlocked vault last (e.g. to enroll it with an HQ).
    """
    people = distinct_people(entries, seed)
    session = c.new_vault(home)
    try:
        desk = OfficerSession(session)
        visit_id = c.new_visit(session)
        csv_path = home.parent / f"{home.name}-bookings.csv"
        write_bookings(csv_path, people)
        t0 = clock()
        imported = import_roster(desk, visit_id, csv_path)
        took = clock() - t0
        if imported.imported != entries:
            raise RuntimeError(f"roster import rejected rows: {imported.rejected[:3]}")
        if open_visit:
            visits.open_visit(desk, visit_id)
        if before_lock is not None:
            before_lock(session)
        session.lock()
    finally:
        session.vault.close()
    settings = Settings(home=home, insecure_test_kdf=True, lang="en")
    return FieldVault(home, visit_id, people, settings, took)


class Paints:
    """Stamps (``perf_counter``) of every frame the app's screens hand to ``App._display``."""

    def __init__(self, app: Any) -> None:
        self.times: list[float] = []
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None and not app._batch_count:
                self.times.append(clock())

        app._display = display

    def first_after(self, t: float) -> float | None:
        """The first frame at or after ``t`` (None: none yet)."""
        i = bisect.bisect_left(self.times, t)
        return self.times[i] if i < len(self.times) else None


class Ticker:
    """A timer on the app every ``interval`` seconds: stamps each tick; may repaint a widget."""

    def __init__(self, app: Any, interval: float, repaint: Callable[[], Any] | None) -> None:
        self.interval = interval
        self.times: list[float] = []

        def tick() -> None:
            self.times.append(clock())
            if repaint is not None:
                repaint().refresh()

        self.timer = app.set_interval(interval, tick, name="bench-ticker")

    def stop(self) -> None:
        """Stop ticking."""
        self.timer.stop()


class GcPauses:
    """Every garbage collection while active: (start stamp, seconds, generation), any thread."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, float, int]] = []
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = clock()
        else:
            self.pauses.append((self._started, clock() - self._started, info["generation"]))

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def summary(self, start: float = 0.0, end: float = float("inf")) -> dict[str, float]:
        """:func:`gc_summary` of the collections seen."""
        return gc_summary(self.pauses, start, end)


def gc_summary(
    pauses: Sequence[tuple[float, float, int]], start: float = 0.0, end: float = float("inf")
) -> dict[str, float]:
    """Collections that started in ``[start, end]``: count, and the longest, by generation."""
    inside = [(took, gen) for at, took, gen in pauses if start <= at <= end]
    out: dict[str, float] = {"count": float(len(inside))}
    for gen in (0, 1, 2):
        times = [took for took, g in inside if g == gen]
        out[f"gen{gen}_count"] = float(len(times))
        out[f"gen{gen}_max_ms"] = max(times) * 1000 if times else 0.0
        out[f"gen{gen}_total_ms"] = sum(times) * 1000
    return out


def gaps(stamps: Sequence[float], start: float, end: float) -> list[float]:
    """Seconds between consecutive stamps in ``[start, end]``, the window's edges counted.

    The edges make a freeze at the very start or end of the window show: the first gap runs
    from ``start`` to the first stamp, the last from the last stamp to ``end``.
    """
    inside = [s for s in stamps if start <= s <= end]
    points = [start, *inside, end]
    return [b - a for a, b in itertools.pairwise(points)]


def gap_summary(stamps: Sequence[float], start: float, end: float) -> dict[str, float]:
    """:func:`bench._common.summary_ms` of the gaps, and how many stamps fell inside."""
    found = gaps(stamps, start, end)
    return c.summary_ms(found) | {"stamps": float(len(found) - 1), "window_ms": (end - start) * 1e3}


async def wait_until(
    condition: Callable[[], object], timeout: float, what: str, step: float = 0.001
) -> None:
    """Poll ``condition`` with plain ``asyncio.sleep`` (``pilot.pause`` would force a repaint)."""
    deadline = clock() + timeout
    while not condition():
        if clock() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(step)


async def unlock_app(pilot: Any) -> None:
    """Unlock as the benchmark's officer and wait for the visits screen (its rows loaded)."""
    from fieldkit.tui.screens.visits import VisitsScreen
    from tests.support.field_app import settle, unlock

    await unlock(pilot, c.OFFICER_ID, c.PASSPHRASE)
    await wait_until(lambda: isinstance(pilot.app.screen, VisitsScreen), 30, "the visits screen")
    screen = pilot.app.screen
    await wait_until(lambda: bool(screen._rows), 30, "the visits to load")
    await settle(pilot)


if __name__ == "__main__":  # not a benchmark: --help (or no argument) describes the module
    import argparse

    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    print(__doc__)
