"""The field app's conventions: language everywhere, F1 help, palette, keymap, themes, no loss.

Each test drives the real app (``App.run_test``) over a real vault; what the officer would see
is read off the screen, and what would be stored is read from the vault or the files.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from textual.command import CommandPalette
from textual.widgets import DataTable, Input

from fieldkit.cli import main
from fieldkit.settings import Settings
from fieldkit.tui.app import make_app
from fieldkit.tui.prefs import load_prefs
from fieldkit.tui.screens.applicant import ApplicantScreen
from fieldkit.tui.screens.checkin import CheckinScreen
from fieldkit.tui.screens.confirm import SaveFirst
from fieldkit.tui.screens.help import HelpScreen
from fieldkit.tui.screens.setup import SetupScreen
from fieldkit.tui.screens.visits import VisitsScreen
from fieldkit.tui.words import WORDS
from tests.support.field_app import applicants_in, burst, field_vault, settle, unlock
from tests.support.vault import people

pytestmark = pytest.mark.usefixtures("cheap_kdf")


def footer_words(app: Any) -> set[str]:
    """The descriptions of the bindings the footer shows now."""
    return {
        active.binding.description
        for active in app.screen.active_bindings.values()
        if active.binding.show and active.binding.description
    }


def run(settings: Settings, scenario: Any, **options: Any) -> None:
    async def go() -> None:
        app = make_app(settings, **options)
        async with app.run_test(size=(80, 24)) as pilot:
            await scenario(app, pilot)

    asyncio.run(go())


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_string_the_officer_sees_is_in_the_chosen_language(tmp_path: Path, lang: str) -> None:
    settings, _ = field_vault(tmp_path, people(3, 2), lang=lang)
    other = "en" if lang == "id" else "id"

    async def scenario(app: Any, pilot: Any) -> None:
        await unlock(pilot)
        shown = footer_words(app)
        assert WORDS["key.kit"].text(lang) in shown
        assert WORDS["key.kit"].text(other) not in shown
        # The footer draws the palette's key on its own, with this binding's words.
        palette_key = app.screen.active_bindings["ctrl+p"].binding
        assert palette_key.description == WORDS["key.command_palette"].text(lang)
        table = app.screen.query_one(DataTable)
        first = next(iter(table.columns.values()))
        assert str(first.label) == WORDS["col.site"].text(lang)
        await pilot.press("ctrl+p")
        await settle(pilot)
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        placeholder = palette.query_one(Input).placeholder
        assert placeholder == WORDS["palette.placeholder"].text(lang)
        titles = [c.title for c in app.get_system_commands(app.screen_stack[-2])]
        assert WORDS["system.quit"].text(lang) in titles
        assert WORDS["system.theme"].text(lang) in titles
        assert "Quit" not in titles or lang == "en"
        await pilot.press("escape")
        await settle(pilot)

    run(settings, scenario)


def test_every_word_is_in_both_languages() -> None:
    for key, message in WORDS.items():
        assert message.id.strip() and message.en.strip(), key


def test_the_language_is_switched_on_screen_and_remembered(tmp_path: Path) -> None:
    settings, _ = field_vault(tmp_path, people(2, 3))

    async def scenario(app: Any, pilot: Any) -> None:
        await unlock(pilot)
        assert WORDS["key.kit"].id in footer_words(app)
        await pilot.press("f2")
        await settle(pilot)
        assert WORDS["key.kit"].en in footer_words(app)
        table = app.screen.query_one(DataTable)
        assert str(next(iter(table.columns.values())).label) == "Site"

    run(settings, scenario)
    assert load_prefs(settings).lang == "en"


def test_f1_lists_this_screens_keys_with_their_ids(tmp_path: Path) -> None:
    settings, _ = field_vault(tmp_path, people(2, 4))

    async def scenario(app: Any, pilot: Any) -> None:
        await unlock(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CheckinScreen)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        ids = {str(row[1]) for row in rows}
        assert {"walk_in", "queue", "serve", "lock", "sync_now", "help"} <= ids
        assert any(str(row[2]) == WORDS["key.walk_in"].id for row in rows)
        assert "Scroll Up" not in {str(row[2]) for row in rows}, "a text box's keys are not listed"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CheckinScreen)

    run(settings, scenario)


def test_keys_are_remapped_from_the_config(tmp_path: Path) -> None:
    settings, _ = field_vault(tmp_path, people(2, 5))
    settings = replace(settings, keymap={"kit": "ctrl+k"})

    async def scenario(app: Any, pilot: Any) -> None:
        await unlock(pilot)
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, VisitsScreen), "the old key no longer opens the kit"
        await pilot.press("ctrl+k")
        await settle(pilot)
        assert type(app.screen).__name__ == "KitScreen"

    run(settings, scenario)


def test_the_theme_toggles_and_is_remembered(tmp_path: Path) -> None:
    settings, _ = field_vault(tmp_path, people(2, 6))

    async def scenario(app: Any, pilot: Any) -> None:
        await unlock(pilot)
        before = app.theme
        app.action_toggle_theme()
        assert app.theme != before

    run(settings, scenario)
    assert load_prefs(settings).theme == "textual-light"


def test_leaving_a_form_with_unsaved_changes_asks_first(tmp_path: Path) -> None:
    crowd = people(2, 7)
    settings, day = field_vault(tmp_path, crowd)

    async def scenario(app: Any, pilot: Any) -> None:
        await unlock(pilot)
        await pilot.press("enter")
        await settle(pilot)
        burst(app, crowd[0]["booking_code"] + "\r")
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ApplicantScreen)
        form.query_one("#f-notes").focus()
        await pilot.press(*"menunggu orang tua")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SaveFirst)
        await pilot.press("enter")  # save is the default
        await settle(pilot)
        assert isinstance(app.screen, CheckinScreen)

    run(settings, scenario)
    stored = applicants_in(day.home, day.visit_id)[crowd[0]["name"]]
    assert stored.data["notes"] == "menunggu orang tua"


def test_a_laptop_without_a_vault_opens_setup(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "new-home", insecure_test_kdf=True)

    async def scenario(app: Any, pilot: Any) -> None:
        assert isinstance(app.screen, SetupScreen)
        await pilot.press(*"sup9", "enter", *"Wulan Sari", "enter")
        await pilot.press(*"pendek", "enter")
        await settle(pilot)
        rule = str(app.screen.query_one("#rule").render())
        assert "12" in rule, rule
        app.screen.query_one("#s-passphrase").value = ""
        app.screen.query_one("#s-passphrase").focus()
        await pilot.press(*"gunung salak hujan sore", "enter", *"gunung salak hujan sore")
        await pilot.press("enter", "enter", "enter")  # no HQ address, no code
        await settle(pilot)
        await pilot.pause(0.3)
        await settle(pilot)
        assert isinstance(app.screen, VisitsScreen)
        assert app.session is not None and app.session.officer_id == "sup9"

    run(settings, scenario)
    assert (tmp_path / "new-home").exists()


def test_fieldkit_without_a_terminal_prints_its_help() -> None:
    result = CliRunner().invoke(main, [])
    assert result.exit_code == 0
    assert "field app" in result.output


def test_an_altered_draft_is_reported_and_the_day_goes_on(tmp_path: Path) -> None:
    settings, day = field_vault(tmp_path, people(2, 8))

    async def scenario(app: Any, pilot: Any) -> None:
        await unlock(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        [draft] = (day.home / "drafts").glob("*.draft")
        raw = bytearray(draft.read_bytes())
        raw[-1] ^= 1
        draft.write_bytes(bytes(raw))
        await pilot.press(*"kopi tubruk pagi hari", "enter")
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        assert isinstance(app.screen, VisitsScreen)
        assert any("draft" in n.message for n in app._notifications)
        assert not list((day.home / "drafts").glob("*.draft"))

    run(settings, scenario)


def test_the_lockout_wait_is_counted_down_then_unlocking_works(tmp_path: Path) -> None:
    settings, _ = field_vault(tmp_path, people(2, 9))

    async def scenario(app: Any, pilot: Any) -> None:
        said: list[str] = []
        for _ in range(8):
            await pilot.press(*"sup1", "tab", *"teh manis sore hari", "enter")
            await settle(pilot)
            said.append(str(app.screen.query_one("#unlock-message").render()))
            if "detik" in said[-1]:
                break
            app.screen.query_one("#officer").value = ""
            app.screen.query_one("#officer").focus()
        assert "detik" in said[-1], said
        for _ in range(100):  # the wait runs out (a few seconds at most)
            await pilot.pause(0.1)
            if "detik" not in str(app.screen.query_one("#unlock-message").render()):
                break
        await pilot.pause(1.5)
        app.screen.query_one("#passphrase").focus()
        await pilot.press(*"kopi tubruk pagi hari", "enter")
        await settle(pilot)
        assert isinstance(app.screen, VisitsScreen)

    run(settings, scenario)
