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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.worker import WorkerState

from fieldkit.settings import Settings
from tests.support.counter_day import open_visit_with_roster, roster_rows
from tests.support.vault import SUP, SUP_PW

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
