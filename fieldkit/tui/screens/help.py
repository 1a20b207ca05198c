"""F1: what each key does on the screen underneath, with the binding ids the keymap uses."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static

from fieldkit.tui.base import FieldModal


class HelpScreen(FieldModal):
    """The keys of one screen: key, what it does, its id for ``[keymap]``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1", "close", "back", id="back"),
    ]

    def __init__(self, under: Screen[object]) -> None:
        super().__init__()
        self._under = under

    def compose(self) -> ComposeResult:
        """The screen's purpose, then its keys."""
        with Vertical(classes="dialog", id="help"):
            yield Label(self.say("help.title"), classes="title")
            purpose = getattr(self._under, "HELP", "")
            if purpose:
                yield Static(self.say(purpose))
            yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            yield Static(self.say("help.close"), classes="note")

    def on_mount(self) -> None:
        """List every binding active on the screen underneath."""
        table = self.query_one(DataTable)
        table.add_columns("", "id", "")
        seen: set[str] = set()
        for active in self._under.active_bindings.values():
            binding = active.binding
            # The app's own keys have ids (the keymap's names); a text box's editing keys do not.
            if binding.id is None or binding.id in seen or not binding.description:
                continue
            seen.add(binding.id)
            table.add_row(self.app.get_key_display(binding), binding.id, binding.description)
        table.focus()

    def action_close(self) -> None:
        """Back to the screen."""
        self.dismiss()
