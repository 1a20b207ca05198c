"""The field app under test: a vault with an open visit, and helpers to drive the app.

    settings, day = field_vault(tmp_path, people(5, 1))
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        ...
        await settle(pilot)

:func:`settle` waits for the app's short workers (loading, searching, saving) but not for the
ones that live as long as a screen or the session (sync, the check-in queue), which
``app.workers.wait_for_complete()`` would wait for forever.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.worker import WorkerState

from fieldkit.settings import Settings
from fieldkit.vault.kinds import APPLICANT as APPLICANT_KIND
from fieldkit.vault.kinds import VISIT as VISIT_KIND
from tests.support.counter_day import open_visit_with_roster, roster_rows
from tests.support.vault import SUP, SUP_PW, reopen

LONG_LIVED = frozenset({"sync", "arrivals"})


@dataclass(frozen=True)
class FieldDay:
    """The vault's open visit and who is on its roster."""

    home: Path
    visit_id: str
    entry_ids: list[str]
    people: list[dict[str, Any]]


def field_vault(
    tmp: Path, people: Sequence[Mapping[str, Any]], *, lang: str = "id", **visit: Any
) -> tuple[Settings, FieldDay]:
    """A test vault (supervisor ``sup1``) with an open visit whose roster holds ``people``."""
    home = tmp / "home"
    session, visit_id, entry_ids = open_visit_with_roster(
        home, roster_rows(people, booked=True), **visit
    )
    session.lock()
    session.vault.close()
    settings = Settings(home=home, insecure_test_kdf=True, lang=lang)  # type: ignore[arg-type]
    return settings, FieldDay(home, visit_id, entry_ids, [dict(p) for p in people])


async def settle(pilot: Pilot[Any], rounds: int = 200) -> None:
    """Let the app finish what the last keys started (short workers and screen updates)."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        busy = [
            w
            for w in app.workers
            if w.group not in LONG_LIVED and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
        ]
        if not busy:
            await pilot.pause()
            return
        await app.workers.wait_for_complete(busy)
    raise AssertionError("the app kept starting workers")


async def unlock(pilot: Pilot[Any], officer: str = SUP, passphrase: str = SUP_PW) -> None:
    """Type the officer id and passphrase at the unlock screen."""
    await pilot.press(*officer, "tab", *passphrase, "enter")
    await settle(pilot)


def burst(app: Any, text: str) -> None:
    """Type ``text`` as a keyboard wedge does: every key handed to the terminal driver at once.

    The bytes go through Textual's own xterm parser and the driver's ``process_message`` from
    another thread, as the Linux driver's input thread does, so every key is queued before the
    app handles the first (``pilot.press`` would wait for each key to be processed).
    """
    from textual._xterm_parser import XTermParser

    def feed() -> None:
        for event in XTermParser().feed(text):
            app._driver.process_message(event)

    thread = threading.Thread(target=feed)
    thread.start()
    thread.join()


def applicants_in(home: Path, visit_id: str) -> dict[str, Any]:
    """The visit's applicants in the vault, latest versions by name (read as ``sup1``)."""
    vault = reopen(home)
    try:
        return {str(r.data.get("name")): r for r in vault.latest(APPLICANT_KIND, visit_id)}
    finally:
        vault.lock()
        vault.vault.close()


def visit_state(home: Path, visit_id: str) -> str:
    """The visit's state in the vault."""
    vault = reopen(home)
    try:
        return vault.read(VISIT_KIND, visit_id).state
    finally:
        vault.lock()
        vault.vault.close()
