"""The kit checklist before departure: tick each item as it goes in the car."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from fieldkit.service import kit
from fieldkit.service.kit import KitChecklist
from fieldkit.tui.base import FieldScreen
from fieldkit.tui.syncbar import SyncBar


class KitScreen(FieldScreen):
    """One visit's kit: space ticks or unticks the highlighted item."""

    HELP = "kit.title"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "tick", "tick", id="tick"),
        Binding("escape", "app.pop_screen", "back", id="back"),
    ]

    def __init__(self, visit_id: str) -> None:
        super().__init__()
        self.visit_id = visit_id
        self._kit: KitChecklist | None = None

    def compose(self) -> ComposeResult:
        """The items and how many are ticked."""
        yield Static(self.say("kit.title"), classes="title")
        yield OptionList(id="kit-items")
        yield Static(id="kit-state")
        yield SyncBar()
        yield Footer()

    def on_mount(self) -> None:
        """Load the checklist (made on first use)."""
        self.query_one(OptionList).focus()
        self.load()

    @work(thread=True, exclusive=True, group="kit", exit_on_error=False)
    def load(self, tick: str | None = None, untick: str | None = None) -> None:
        """Read the kit, or tick/untick one item first (a worker)."""
        session = self.field_app.session
        if session is None:
            return
        path = self.field_app.settings.kit_file
        if tick or untick:
            checked = kit.tick_items(
                session,
                self.visit_id,
                tick=[tick] if tick else [],
                untick=[untick] if untick else [],
                kit_file=path,
            )
            self.field_app.nudge_sync()
        else:
            checked = kit.kit_checklist(session, self.visit_id, kit_file=path)
            if checked.version == 1:
                self.field_app.nudge_sync()  # made just now: one more record waits for HQ
        self.app.call_from_thread(self._show, checked)

    def _show(self, checklist: KitChecklist) -> None:
        self._kit = checklist
        items = self.query_one(OptionList)
        highlighted = items.highlighted
        items.clear_options()
        for line in checklist.lines:
            mark = "[x]" if line.ticked else "[ ]"
            items.add_option(Option(f"{mark} {line.item.label.text(self.lang)}", id=line.item.id))
        if highlighted is not None and checklist.lines:
            items.highlighted = min(highlighted, len(checklist.lines) - 1)
        done = sum(1 for line in checklist.lines if line.ticked)
        text = (
            self.say("kit.packed")
            if checklist.packed
            else self.say("kit.packing", done=done, total=len(checklist.lines))
        )
        self.query_one("#kit-state", Static).update(text)

    def action_tick(self) -> None:
        """Tick the highlighted item, or untick it."""
        items = self.query_one(OptionList)
        if self._kit is None or items.highlighted is None:
            return
        line = self._kit.lines[items.highlighted]
        if line.ticked:
            self.load(untick=line.item.id)
        else:
            self.load(tick=line.item.id)
