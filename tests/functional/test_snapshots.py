"""Every main screen of the field app at 80x24, in Bahasa Indonesia and in English.

Each snapshot is an SVG under ``__snapshots__/test_snapshots/``, named after the screen and
the language. A change to a screen fails its snapshot: look at the report (``snapshot_report.html``
in the folder pytest ran from), and when the new screen is right, accept it with

    .venv/bin/python -m pytest tests/functional/test_snapshots.py --snapshot-update

The app runs on a vault with an open visit (SMAN 1 Karawang, 2026-12-01) and three booked
synthetic people. What would otherwise differ between two runs (the cursor's blink, the sync
worker's timing, the sync line's ages, toasts) is held still by :mod:`tests.support.snapshots`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from fieldkit.settings import Settings
from fieldkit.tui.screens.applicant import ApplicantScreen
from fieldkit.tui.screens.checkin import CheckinScreen
from fieldkit.tui.screens.closing import ClosingScreen
from fieldkit.tui.screens.decision import DecisionDialog
from fieldkit.tui.screens.help import HelpScreen
from fieldkit.tui.screens.kit import KitScreen
from fieldkit.tui.screens.setup import SetupScreen
from fieldkit.tui.screens.unlock import UnlockScreen
from fieldkit.tui.screens.visits import VisitsScreen
from fieldkit.tui.screens.walkin import WalkInDialog
from tests.support.field_app import field_vault, settle
from tests.support.snapshots import frozen_clock, snapshot_app, steady, until
from tests.support.vault import SUP, SUP_PW, people

pytestmark = pytest.mark.usefixtures("cheap_kdf")

SIZE = (80, 24)
CROWD = people(3, 1)
CODE = CROWD[0]["booking_code"]

Drive = Callable[[Pilot[Any]], Awaitable[None]]


async def press(pilot: Pilot[Any], *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


async def fill(pilot: Pilot[Any], text: str) -> None:
    """Put ``text`` in the focused box at once (``pilot.press`` takes ~65 ms a key)."""
    box = pilot.app.focused
    assert isinstance(box, Input), box
    box.value = text
    box.cursor_position = len(text)
    await settle(pilot)


async def at_visits(pilot: Pilot[Any]) -> None:
    """Unlock as ``sup1``: the id, Tab, the passphrase, Enter."""
    await fill(pilot, SUP)
    await pilot.press("tab")
    await fill(pilot, SUP_PW)
    await press(pilot, "enter")
    assert isinstance(pilot.app.screen, VisitsScreen)
    # Toasts are drawn by the screen on top when they come, and a screen pushed later over
    # it would leave an old one showing underneath: the test-KDF warning goes now.
    pilot.app.clear_notifications()


async def at_checkin(pilot: Pilot[Any]) -> None:
    await at_visits(pilot)
    await press(pilot, "enter")
    assert isinstance(pilot.app.screen, CheckinScreen)


async def after_arrival(pilot: Pilot[Any]) -> None:
    """Check-in, a booking code and Enter (as a scanner types it): queue number A-001."""
    await at_checkin(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CheckinScreen)
    await fill(pilot, CODE)
    await press(pilot, "enter")
    await until(pilot, lambda: screen.last_arrival is not None, "the arrival's queue number")


async def serving(pilot: Pilot[Any]) -> None:
    """The applicant who just checked in, at the counter (F6)."""
    await after_arrival(pilot)
    await press(pilot, "f6")
    screen = pilot.app.screen
    assert isinstance(screen, ApplicantScreen)
    await until(pilot, lambda: screen.loaded is not None, "the applicant's form")


async def deciding(pilot: Pilot[Any]) -> None:
    await serving(pilot)
    await press(pilot, "f9")


async def closing(pilot: Pilot[Any]) -> None:
    """End of visit after one arrival: back from check-in to the visits, then ``e``."""
    await after_arrival(pilot)
    await press(pilot, "escape")
    assert isinstance(pilot.app.screen, VisitsScreen)
    await press(pilot, "e")


async def kit(pilot: Pilot[Any]) -> None:
    await at_visits(pilot)
    await press(pilot, "k")


async def walk_in(pilot: Pilot[Any]) -> None:
    await at_checkin(pilot)
    await press(pilot, "f4")


async def help_on_checkin(pilot: Pilot[Any]) -> None:
    await at_checkin(pilot)
    await press(pilot, "f1")


async def nothing(pilot: Pilot[Any]) -> None:
    await settle(pilot)


# The screen, how the officer gets there, and what is on top when the snapshot is taken.
SCREENS: dict[str, tuple[Drive, type]] = {
    "unlock": (nothing, UnlockScreen),
    "setup": (nothing, SetupScreen),
    "visits": (at_visits, VisitsScreen),
    "kit": (kit, KitScreen),
    "checkin": (after_arrival, CheckinScreen),
    "walkin": (walk_in, WalkInDialog),
    "applicant": (serving, ApplicantScreen),
    "decision": (deciding, DecisionDialog),
    "closing": (closing, ClosingScreen),
    "help": (help_on_checkin, HelpScreen),
}


def cases() -> list[Any]:
    return [
        pytest.param(name, lang, id=f"{name}-{lang}") for name in SCREENS for lang in ("id", "en")
    ]


def settings_for(name: str, lang: str, tmp_path: Path) -> Settings:
    """A laptop without a vault for the setup screen; otherwise the field vault."""
    if name == "setup":
        return Settings(home=tmp_path / "empty", insecure_test_kdf=True, lang=lang)  # type: ignore[arg-type]
    settings, _day = field_vault(tmp_path, CROWD, lang=lang)
    return settings


@pytest.mark.parametrize(("name", "lang"), cases())
def test_screen(
    name: str, lang: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare: Any
) -> None:
    drive, shown = SCREENS[name]
    settings = settings_for(name, lang, tmp_path)
    frozen_clock(monkeypatch)
    app = snapshot_app(settings)
    problems: list[BaseException] = []

    async def run_before(pilot: Pilot[Any]) -> None:
        try:
            await drive(pilot)
            await steady(pilot)
            assert isinstance(pilot.app.screen, shown), type(pilot.app.screen).__name__
        except BaseException as exc:
            problems.append(exc)
            raise

    matched = snap_compare(app, terminal_size=SIZE, run_before=run_before)
    # The screenshot is taken even when getting there failed: say why rather than "mismatch".
    if problems:
        raise problems[0]
    assert matched
