"""The visit's queue: who waits and who is at a counter; Enter serves the highlighted one."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Label, Static

from fieldkit.service import checkin
from fieldkit.service.checkin import QueueItem
from fieldkit.tui.base import FieldModal


class QueueDialog(FieldModal):
    """Dismissed with the applicant id chosen, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "back", id="back")]

    def __init__(self, visit_id: str) -> None:
        super().__init__()
        self.visit_id = visit_id
        self._items: list[QueueItem] = []

    def compose(self) -> ComposeResult:
        """The queue table."""
        with Vertical(classes="dialog", id="queue"):
            yield Label(self.say("queue.title"), classes="title")
            yield DataTable(cursor_type="row", id="queue-table")
            yield Static(id="queue-message")

    def on_mount(self) -> None:
        """Load the queue (a view of names: audited by the application layer)."""
        table = self.query_one(DataTable)
        table.add_columns("#", self.say("field.name"), self.say("col.state"), "")
        table.focus()
        self.load()

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def load(self) -> None:
        """Read the queue (a worker)."""
        session = self.field_app.session
        if session is not None:
            items = checkin.queue_view(session, self.visit_id)
            self.app.call_from_thread(self._show, items)

    def _show(self, items: list[QueueItem]) -> None:
        self._items = items
        table = self.query_one(DataTable)
        for item in items:
            flag = self.say("checkin.refer") if item.refer_to_supervisor else ""
            state = self.say(f"astate.{item.state}")
            table.add_row(item.label, item.name, state, flag, key=item.applicant_id)
        if not items:
            self.query_one("#queue-message", Static).update(self.say("queue.empty"))

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        self.dismiss(event.row_key.value)

    def action_cancel(self) -> None:
        """Back without choosing."""
        self.dismiss(None)
