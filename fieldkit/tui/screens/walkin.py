"""A walk-in without a booking: a priority group with its reason, or the Simpatik quota."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Label, Select, Static

from fieldkit.domain.counter import WalkInGroup
from fieldkit.service import checkin
from fieldkit.service.errors import VaultError
from fieldkit.tui.base import FieldModal, refusal_lines


class WalkInDialog(FieldModal):
    """Who walked in and why they may be served; dismissed with the :class:`Arrival`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel", id="cancel"),
        Binding("ctrl+s", "submit", "submit", id="submit"),
    ]

    def __init__(self, visit_id: str) -> None:
        super().__init__()
        self.visit_id = visit_id

    def compose(self) -> ComposeResult:
        """Name, birth date, NIK, group and reason."""
        with Vertical(classes="dialog", id="walkin"):
            yield Label(self.say("walkin.title"), classes="title")
            for key in ("name", "birth_date", "nik"):
                yield Label(self.say(f"walkin.{key}"))
                yield Input(id=f"walkin-{key}", compact=True)
            yield Label(self.say("walkin.group"))
            yield Select(
                [(self.say(f"group.{g.value}"), g.value) for g in WalkInGroup],
                allow_blank=False,
                id="walkin-group",
            )
            yield Label(self.say("walkin.reason"))
            yield Input(id="walkin-reason", compact=True)
            yield Static(self.say("walkin.keys"), classes="note")
            yield Static(id="walkin-message")

    def on_mount(self) -> None:
        """Start at the name."""
        self.query_one("#walkin-name", Input).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == "walkin-reason":
            self.action_submit()
        else:
            self.focus_next()

    def action_submit(self) -> None:
        """Let them in (a worker)."""
        person = {
            key: self.query_one(f"#walkin-{key}", Input).value.strip() or None
            for key in ("name", "birth_date", "nik")
        }
        group = str(self.query_one("#walkin-group", Select).value)
        reason = self.query_one("#walkin-reason", Input).value
        self.let_in(person, group, reason)

    @work(thread=True, exclusive=True, group="walkin", exit_on_error=False)
    def let_in(self, person: dict[str, object], group: str, reason: str) -> None:
        """Check the walk-in in (a worker)."""
        session = self.field_app.session
        if session is None:
            return
        try:
            arrival = checkin.walk_in(session, self.visit_id, person, group=group, reason=reason)
        except VaultError as exc:
            self.app.call_from_thread(self._refused, exc)
            return
        self.field_app.nudge_sync()
        self.app.call_from_thread(self.dismiss, arrival)

    def _refused(self, exc: VaultError) -> None:
        lines = refusal_lines(exc, self.lang)
        self.query_one("#walkin-message", Static).update("\n".join(lines))

    def action_cancel(self) -> None:
        """Nobody let in."""
        self.dismiss(None)
