"""The field app syncs in the background with a real HQ (``fieldkit-hq serve`` on 127.0.0.1).

The sync line must say online, count what waits and drop to nothing once HQ acknowledged it;
an arrival checked in on screen is delivered without the officer doing anything; F5 sends at
once. "Sent" is what HQ's receipts acknowledged, and HQ holds it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from fieldkit.service.status import sync_status
from fieldkit.settings import Settings
from fieldkit.tui.app import make_app
from sync.device.client import SyncClient
from tests.support.field_app import burst, field_vault, settle, unlock
from tests.support.hq import Server
from tests.support.vault import people, reopen

pytestmark = pytest.mark.usefixtures("cheap_kdf")


async def until(pilot: Any, condition: Any, seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.1)):
        if condition():
            return
        await pilot.pause(0.1)
    raise AssertionError(f"not reached in {seconds} s: {pilot.app.sync_view}")


def test_records_reach_hq_in_the_background(tmp_path: Path, hq_server: Server) -> None:
    crowd = people(4, 31)
    settings, day = field_vault(tmp_path, crowd)
    vault = reopen(day.home)
    SyncClient(hq_server.url, vault).enroll(hq_server.enroll_code())
    device_id = vault.vault.device_id
    vault.lock()
    vault.vault.close()

    async def scenario() -> None:
        app = make_app(settings)
        async with app.run_test(size=(80, 24)) as pilot:
            await unlock(pilot)
            await until(pilot, lambda: app.sync_view.enrolled and app.sync_view.online)
            await until(pilot, lambda: app.sync_view.waiting == 0 and app.sync_view.last_acked_at)
            assert not app.sync_view.problems
            held = len(hq_server.hq.records(device_id))
            assert held > 0
            await pilot.press("enter")
            await settle(pilot)
            burst(app, crowd[0]["booking_code"] + "\r")
            await until(pilot, lambda: len(hq_server.hq.records(device_id)) > held)
            await until(pilot, lambda: app.sync_view.waiting == 0)
            line = str(app.screen.query_one("SyncBar").render())
            assert "daring" in line and "menunggu" not in line, line
            await pilot.press("f5")
            await settle(pilot)
            await until(pilot, lambda: app.sync_view.running is None)
            assert not app.sync_view.problems

    asyncio.run(scenario())
    names = {r[3].get("name") for r in hq_server.hq.records(device_id) if r[0] == "applicant"}
    assert crowd[0]["name"] in names


def test_setup_enrolls_the_new_laptop_when_hq_answers(tmp_path: Path, hq_server: Server) -> None:
    settings = Settings(home=tmp_path / "home", insecure_test_kdf=True)
    code = hq_server.enroll_code()

    async def scenario() -> None:
        app = make_app(settings)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = app.screen
            for name, value in (
                ("officer", "sup7"),
                ("name", "Wulan Sari"),
                ("passphrase", "gunung salak hujan sore"),
                ("confirm", "gunung salak hujan sore"),
                ("hq_url", hq_server.url),
                ("code", code),
            ):
                screen.query_one(f"#s-{name}").value = value
            await pilot.press("ctrl+s")
            await settle(pilot)
            await until(pilot, lambda: app.sync_view.enrolled and app.sync_view.online)

    asyncio.run(scenario())
    status = sync_status(settings)
    assert status.enrollment is not None and status.enrollment.hq_url == hq_server.url
