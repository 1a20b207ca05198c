"""The field app as snapshot tests draw it: the same screens, nothing on them that moves.

    app = snapshot_app(settings)
    assert snap_compare(app, run_before=drive)  # drive ends with ``await steady(pilot)``

What would differ between two runs of the same screen, and what is done about it:

- The cursor of a text box blinks every half second: :func:`steady` stops every blink timer
  (``Input.cursor_blink = False`` leaves the cursor drawn, so a focused box still shows it).
- Animations (scrolling, toasts sliding): the app runs with ``animation_level = "none"``.
- The sync line is redrawn by the sync worker's thread whenever it looks at the outbox, so a
  screenshot could come before or after its first look: :func:`steady` has it look now and
  waits until the line counts what the vault holds (read from the vault file's clear outbox
  columns).
- Its ages ("tertua baru saja") are now minus a record's time: :func:`frozen_clock` stops the
  sync line's clock at the moment the fixture finished writing, so the oldest record is always
  "just now" however long the machine takes.
- Toasts (the test-KDF warning after unlocking, "visit opened") stay for a few seconds and
  then leave, so whether a screenshot has them depends on the machine's speed: :func:`steady`
  clears them (a test clears them too before it pushes a screen over the one they came on,
  which would keep drawing them); what a toast says is not what these snapshots are about.
- A widget may still be drawing what a worker just gave it (a table sizing its columns):
  :func:`at_rest` waits until two screenshots a moment apart are the same.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from fieldkit.settings import Settings
from fieldkit.tui import syncbar
from fieldkit.tui.app import FieldApp, make_app
from fieldkit.vault import syncstate
from fieldkit.vault.home import vault_path
from tests.support.field_app import settle

# Long enough that no auto-lock comes during a snapshot, however slow the machine.
NO_AUTO_LOCK = 24 * 3600.0
WAIT = 10.0


def snapshot_app(settings: Settings) -> FieldApp:
    """The field app on ``settings`` as ``fieldkit`` builds it, without animations or auto-lock."""
    app = make_app(settings, idle_seconds=NO_AUTO_LOCK)
    app.animation_level = "none"
    return app


class _StoppedClock(datetime):
    """``datetime`` whose ``now`` is :attr:`at` (the sync line reads the time only that way)."""

    at: datetime = datetime(2026, 12, 1, tzinfo=UTC)

    @classmethod
    def now(cls, tz: Any = None) -> _StoppedClock:  # type: ignore[override]
        moment = cls.at if tz is None else cls.at.astimezone(tz)
        return cls.fromtimestamp(moment.timestamp(), tz=moment.tzinfo)


def frozen_clock(monkeypatch: pytest.MonkeyPatch, at: datetime | None = None) -> datetime:
    """Stop the sync line's clock at ``at`` (default: now, just after the fixture wrote)."""
    moment = at or datetime.now(UTC)
    clock = type("StoppedClock", (_StoppedClock,), {"at": moment})
    monkeypatch.setattr(syncbar, "datetime", clock)
    return moment


def waiting_in(home: Path) -> int:
    """How many record versions wait for HQ, read from the vault file (clear columns only)."""
    conn = sqlite3.connect(vault_path(home))
    try:
        status = syncstate.outbox_status(conn)
    finally:
        conn.close()
    return status.waiting


async def until(pilot: Pilot[Any], ready: Any, what: str, seconds: float = WAIT) -> None:
    """Let the app run until ``ready()`` holds (workers in threads report through the loop)."""
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"the app did not get there in {seconds:.0f} s: {what}")
        await pilot.pause(0.02)


async def steady(pilot: Pilot[Any]) -> None:
    """Bring the screen to rest: workers done, sync line caught up, no blink, no toast."""
    app = pilot.app
    assert isinstance(app, FieldApp)
    await settle(pilot)
    if app.session is not None:
        expected = waiting_in(app.settings.home)
        # The sync worker looks now, as it would at its next poll: not every write nudges it
        # (the kit checklist made on first use does not), and a poll is 15 s away.
        app.nudge_sync()
        await until(
            pilot,
            lambda: app.sync_view.waiting == expected,
            f"the sync line counting {expected} waiting (it shows {app.sync_view.waiting})",
        )
    for screen in app.screen_stack:
        for box in screen.query(Input):
            box.cursor_blink = False
    app.clear_notifications()
    await at_rest(pilot)


async def at_rest(pilot: Pilot[Any], seconds: float = WAIT) -> None:
    """Wait until two screenshots a moment apart agree.

    Some widgets finish drawing on an idle moment of their own after the worker that fed
    them is done (a ``DataTable`` sizes its columns to new rows then); on a busy machine that
    moment can come after the screenshot, which then shows the columns cut to their headers.
    """
    app = pilot.app
    deadline = time.monotonic() + seconds
    await settle(pilot)
    before = app.export_screenshot()
    while True:
        await pilot.pause(0.05)
        await settle(pilot)
        now = app.export_screenshot()
        if now == before:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the screen kept changing for {seconds:.0f} s")
        before = now
