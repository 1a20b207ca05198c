"""The counter at the keyboard: a scanner's burst, and the keys from a scan to "accepted".

The burst goes through Textual's xterm parser into the driver from another thread, as a USB
keyboard wedge's keys arrive (``tests.support.field_app.burst``), not key by key through
Pilot. The count is of keys the officer presses; what a scanner types (the booking code, the
SIMPONI billing code, the NTPN, the biometrics station's reference, all printed as barcodes)
is counted apart.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from fieldkit.tui.app import make_app
from fieldkit.tui.screens.applicant import ApplicantScreen
from fieldkit.tui.screens.checkin import CheckinScreen
from fieldkit.tui.widgets.documents import DocumentsList
from tests.support.field_app import applicants_in, burst, field_vault, settle, unlock
from tests.support.vault import people

pytestmark = pytest.mark.usefixtures("cheap_kdf")

MAX_KEYS = 25


async def at_checkin(pilot: Any) -> CheckinScreen:
    await unlock(pilot)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CheckinScreen)
    return screen


def test_two_scans_in_one_burst_are_two_arrivals(tmp_path: Path) -> None:
    crowd = people(4, 21)
    settings, day = field_vault(tmp_path, crowd)

    async def scenario() -> None:
        app = make_app(settings)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await at_checkin(pilot)
            first, second = crowd[1]["booking_code"], crowd[2]["booking_code"]
            burst(app, f"{first}\r{second}\r")
            for _ in range(50):
                await settle(pilot)
                if screen.last_arrival is not None and screen.last_arrival.number == 2:
                    break
                await pilot.pause(0.1)
            assert screen.query_one("#search").value == "", (
                screen.query_one("#search").value,
                screen.query_one("#checkin-message").render(),
            )
            assert screen.last_arrival is not None, (
                screen.query_one("#checkin-message").render(),
                [n.message for n in app._notifications],
                screen._submitted.qsize(),
                [(w.group, w.state.name) for w in app.workers],
            )

    asyncio.run(scenario())
    arrived = applicants_in(day.home, day.visit_id)
    assert set(arrived) == {crowd[1]["name"], crowd[2]["name"]}
    numbers = sorted(r.data["queue"]["number"] for r in arrived.values())
    assert numbers == [1, 2]
    assert arrived[crowd[1]["name"]].data["queue"]["number"] == 1, "in the order scanned"


def test_scan_to_accepted_takes_at_most_25_keys(tmp_path: Path) -> None:
    crowd = [p for p in people(12, 5) if p["application_type"] in ("new", "expired")][:1]
    settings, day = field_vault(tmp_path, crowd)
    pressed: list[str] = []
    scanned: list[str] = []

    async def press(pilot: Any, *keys: str) -> None:
        pressed.extend(keys)
        await pilot.press(*keys)
        await settle(pilot)

    async def scan(pilot: Any, text: str) -> None:
        scanned.append(text)
        burst(pilot.app, text)
        await settle(pilot)

    async def scenario() -> None:
        app = make_app(settings)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await at_checkin(pilot)
            await scan(pilot, crowd[0]["booking_code"] + "\r")
            await pilot.pause(0.2)
            await settle(pilot)
            assert screen.last_arrival is not None
            await press(pilot, "enter")  # serve
            form = app.screen
            assert isinstance(form, ApplicantScreen)
            documents = form.query_one(DocumentsList)
            for line in documents.lines[documents.highlighted or 0 :]:
                await press(pilot, "n" if line.requirement.condition is not None else "space")
            await press(pilot, "tab")
            await scan(pilot, "820261201000777")
            await press(pilot, "tab", "space", "tab")
            await scan(pilot, "9Z8Y7X6W5V4U3T2S")
            await press(pilot, "tab")
            await scan(pilot, "BIO-0777")
            await press(pilot, "f8")

    asyncio.run(scenario())
    stored = applicants_in(day.home, day.visit_id)[crowd[0]["name"]]
    assert stored.state == "accepted"
    print(f"keys pressed: {len(pressed)} {pressed}; scanned: {len(scanned)} codes")
    assert len(pressed) <= MAX_KEYS, pressed


def test_keys_after_a_tab_in_one_burst_land_in_the_next_field(tmp_path: Path) -> None:
    settings, _ = field_vault(tmp_path, people(2, 22))

    async def scenario() -> None:
        app = make_app(settings)
        async with app.run_test(size=(80, 24)) as pilot:
            burst(app, "sup1\tkopi tubruk pagi hari\r")
            await settle(pilot)
            await pilot.pause(0.3)
            await settle(pilot)
            assert app.session is not None, app.screen.query_one("#unlock-message").render()

    asyncio.run(scenario())
