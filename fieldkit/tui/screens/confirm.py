"""Leaving a form with unsaved changes: save, discard, or stay."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label

from fieldkit.tui.base import FieldModal


class SaveFirst(FieldModal):
    """Dismissed with ``"save"``, ``"discard"`` or None (stay)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "stay", "cancel", id="cancel")]

    def compose(self) -> ComposeResult:
        """The question and three buttons."""
        with Vertical(classes="dialog", id="save-first"):
            yield Label(self.say("applicant.unsaved"), classes="title")
            with Horizontal(classes="buttons"):
                yield Button(self.say("key.save"), id="save", variant="primary")
                yield Button(self.say("confirm.discard"), id="discard", variant="error")
                yield Button(self.say("key.cancel"), id="stay")

    def on_mount(self) -> None:
        """Saving is the safe default."""
        self.query_one("#save", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "stay" else event.button.id)

    def action_stay(self) -> None:
        """Back to the form."""
        self.dismiss(None)
