"""A whole day in the field app, driven through Textual's Pilot and checked in the vault.

Unlock → the visit → a scanned booking code → a complete applicant accepted → an applicant
with missing documents → a priority walk-in → a lost passport refused with the explanation →
a watchlist referral → auto-lock in the middle of a form and back → end of visit approved by
the supervisor. Every step is asserted in the vault afterwards, not only on screen. Synthetic
people only; the test KDF keeps unlocking cheap.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from fieldkit.tui.app import make_app
from fieldkit.tui.screens.applicant import ApplicantScreen
from fieldkit.tui.screens.checkin import CheckinScreen
from fieldkit.tui.screens.unlock import UnlockScreen
from fieldkit.tui.screens.visits import VisitsScreen
from fieldkit.tui.widgets.documents import DocumentsList
from fieldkit.vault.home import vault_path
from sync.wire.reference import WatchlistParams
from tests.support.counter_day import DAY
from tests.support.field_app import applicants_in, burst, field_vault, settle, unlock, visit_state
from tests.support.reference import put_watchlist
from tests.support.vault import SUP_PW, people

pytestmark = pytest.mark.usefixtures("cheap_kdf")

COST = WatchlistParams(memory_kib=8, iterations=1, lanes=1, bits=20)
BILLING = "820261201000123"
NTPN = "0A1B2C3D4E5F6G7H"


async def scan(pilot: Any, code: str) -> None:
    """A barcode scanner types the code and Enter."""
    burst(pilot.app, code + "\r")
    await settle(pilot)
    await pilot.pause(0.2)
    await settle(pilot)


async def serve_last(pilot: Any) -> ApplicantScreen:
    """Enter on the empty search box serves the last arrival."""
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ApplicantScreen)
    return screen


async def complete(pilot: Any) -> int:
    """Mark the originals seen, record the payment and biometrics; return the keys pressed."""
    documents = pilot.app.screen.query_one(DocumentsList)
    start = documents.highlighted or 0
    # Each line still to mark: seen (space), or not applicable (n) for a conditional one.
    keys = [
        "n" if line.requirement.condition is not None else "space"
        for line in documents.lines[start:]
    ]
    keys += ["tab"]  # to the billing code
    await pilot.press(*keys)
    burst(pilot.app, BILLING)
    await pilot.press("tab", "space", "tab")  # paid, then the NTPN
    burst(pilot.app, NTPN)
    await pilot.press("tab")  # the biometrics reference
    burst(pilot.app, "BIO-0001")
    await settle(pilot)
    return len(keys) + 4


def test_a_whole_day(tmp_path: Path) -> None:
    crowd = people(6, 11)
    settings, day = field_vault(tmp_path, crowd)
    put_watchlist(day.home, DAY, COST, [crowd[3]["nik"]])

    async def scenario() -> None:
        app = make_app(settings)
        async with app.run_test(size=(80, 24)) as pilot:
            assert isinstance(app.screen, UnlockScreen)
            await unlock(pilot)
            assert isinstance(app.screen, VisitsScreen)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, CheckinScreen)

            # A scanned booking code, served and accepted.
            await scan(pilot, crowd[0]["booking_code"])
            assert app.screen.last_arrival is not None
            assert app.screen.last_arrival.queue_label == "A-001"
            form = await serve_last(pilot)
            await complete(pilot)
            await pilot.press("f8")
            await settle(pilot)
            stored = applicants_in(day.home, day.visit_id)[crowd[0]["name"]]
            assert stored.state == "accepted", (
                form.query_one("#applicant-message").render(),
                form.query_one("#open").render(),
                [n.message for n in app._notifications],
            )
            assert stored.data["payment"]["ntpn"] == NTPN
            assert stored.data["decision"]["by"] == "sup1"
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, CheckinScreen)

            # Missing documents: the KTP was not brought; the decision waits for it.
            await scan(pilot, crowd[1]["booking_code"])
            await serve_last(pilot)
            documents = app.screen.query_one(DocumentsList)
            not_brought = documents.lines[documents.highlighted].states[0][0].value
            await pilot.press("x")
            await pilot.press("f9")
            await settle(pilot)
            await pilot.press("ctrl+s")  # documents pending is the first kind
            await settle(pilot)
            stored = applicants_in(day.home, day.visit_id)[crowd[1]["name"]]
            assert stored.state == "pending_documents"
            assert not_brought in stored.data["decision"]["documents"]
            await pilot.press("escape")
            await settle(pilot)

            # A priority walk-in: 70 years old, no booking.
            await pilot.press("f4")
            await settle(pilot)
            await pilot.press(*"SITI AMINAH", "enter", *"1956-03-04", "enter", "enter")
            await pilot.press("tab", *"lansia, datang dengan cucu", "enter")
            await settle(pilot)
            assert app.screen.last_arrival is not None
            assert app.screen.last_arrival.queue_label == "P-001"
            stored = applicants_in(day.home, day.visit_id)["SITI AMINAH"]
            assert stored.data["walk_in"]["group"] == "elderly"
            form = await serve_last(pilot)
            form.query_one("#f-application_type").focus()
            await pilot.press(*"new")
            await settle(pilot)
            await pilot.press("f9")
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert applicants_in(day.home, day.visit_id)["SITI AMINAH"].state == (
                "pending_documents"
            ), app.screen.query_one("#applicant-message").render()
            await pilot.press("escape")
            await settle(pilot)

            # A lost passport: not served on a visit, refused with the words to read out.
            await scan(pilot, crowd[2]["booking_code"])
            form = await serve_last(pilot)
            kind = form.query_one("#f-application_type")
            kind.focus()
            kind.value = ""
            await pilot.press(*"lost")
            await settle(pilot)
            explanation = str(form.query_one("#eligibility").render())
            assert "Kantor Imigrasi" in explanation, explanation
            await pilot.press("f9")
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            stored = applicants_in(day.home, day.visit_id)[crowd[2]["name"]]
            assert stored.state == "rejected"
            assert stored.data["decision"]["reason"] == "not_eligible_mobile"
            assert "Kantor Imigrasi" in stored.data["decision"]["text"]
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, CheckinScreen)

            # A watchlist hit: "refer to supervisor"; the supervisor confirms, it is referred.
            await scan(pilot, crowd[3]["booking_code"])
            assert app.screen.last_arrival.refer_to_supervisor
            assert app.screen.has_class("-refer")
            form = await serve_last(pilot)
            assert form.query_one("#watchlist").display
            await pilot.press("f7")
            await settle(pilot)
            await pilot.press("enter", "down", "enter", "tab", *"cocok dengan data cekal", "enter")
            await settle(pilot)
            stored = applicants_in(day.home, day.visit_id)[crowd[3]["name"]]
            assert stored.data["watchlist"]["resolution"]["outcome"] == "confirmed"
            await pilot.press("f9")
            await settle(pilot)
            await pilot.press("enter", "down", "down", "enter", "tab", *"kantor pusat", "enter")
            await settle(pilot)
            assert applicants_in(day.home, day.visit_id)[crowd[3]["name"]].state == "referred"
            await pilot.press("escape")
            await settle(pilot)

            # Auto-lock in the middle of a form: sealed on disk, back after unlock.
            await scan(pilot, crowd[4]["booking_code"])
            form = await serve_last(pilot)
            form.query_one("#f-notes").focus()
            await pilot.press(*"bawa fotokopi akta")
            app.idle_seconds = 0.5
            for _ in range(40):
                await pilot.pause(0.1)
                if isinstance(app.screen, UnlockScreen):
                    break
            assert isinstance(app.screen, UnlockScreen)
            await settle(pilot)
            await pilot.pause(0.3)
            for path in vault_path(day.home).parent.iterdir():
                if path.is_file():
                    assert b"fotokopi akta" not in path.read_bytes(), path
            app.idle_seconds = 3600
            await pilot.press(*SUP_PW, "enter")  # the officer id is kept
            await settle(pilot)
            await pilot.pause(0.3)
            await settle(pilot)
            assert isinstance(app.screen, ApplicantScreen), (
                app.screen.query_one("#unlock-message").render(),
                app.screen.query_one("#officer").value,
            )
            assert app.screen.query_one("#f-notes").value == "bawa fotokopi akta"
            await complete(pilot)
            await pilot.press("f8")
            await settle(pilot)
            stored = applicants_in(day.home, day.visit_id)[crowd[4]["name"]]
            assert stored.state == "accepted"
            assert stored.data["notes"] == "bawa fotokopi akta"
            await pilot.press("escape")
            await settle(pilot)

            # End of visit: the supervisor approves with their own passphrase.
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, VisitsScreen)
            await pilot.press("e")
            await settle(pilot)
            await pilot.press("enter", *SUP_PW, "enter")
            await settle(pilot)
            assert visit_state(day.home, day.visit_id) == "closed", app.screen.query_one(
                "#closing-message"
            ).render()

    asyncio.run(scenario())
