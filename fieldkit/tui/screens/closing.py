"""End of visit: the day's summary, then the supervisor approves with their own passphrase."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Footer, Input, Label, Static

from fieldkit.domain.money import format_rupiah
from fieldkit.domain.summary import VisitSummary
from fieldkit.service import closing
from fieldkit.service.errors import VaultError
from fieldkit.settings import Lang
from fieldkit.tui.base import FieldScreen
from fieldkit.tui.syncbar import SyncBar
from fieldkit.tui.words import say


def summary_text(summary: VisitSummary, lang: Lang) -> list[str]:
    """The summary's lines in the officer's words."""
    lines = [
        say(
            lang,
            "summary.line",
            expected=summary.expected,
            arrived=summary.arrived,
            walk_ins=summary.walk_ins,
            still=summary.still_expected,
            decided=sum(summary.decisions.values()),
            undecided=len(summary.undecided),
        ),
        "  ".join(
            f"{say(lang, f'decision.{k}')}: {n}" for k, n in sorted(summary.decisions.items())
        ),
        say(
            lang,
            "summary.fees",
            expected=format_rupiah(summary.fees_expected),
            paid=format_rupiah(summary.fees_paid),
        ),
    ]
    if summary.missing_documents:
        lines.append(say(lang, "summary.missing", count=len(summary.missing_documents)))
    return lines


class ClosingScreen(FieldScreen):
    """The summary and the supervisor's approval; approval closes the visit and queues it."""

    HELP = "closing.title"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "back", id="back"),
    ]

    def __init__(self, visit_id: str) -> None:
        super().__init__()
        self.visit_id = visit_id

    def place(self) -> dict[str, object]:
        """A lock returns to the visits list, not to this screen."""
        return {"screen": "visits"}

    def compose(self) -> ComposeResult:
        """Summary, approver, passphrase."""
        with Vertical(id="closing"):
            yield Label(self.say("closing.title"), classes="title")
            yield Static(id="summary")
            yield Label(self.say("closing.supervisor"))
            supervisor = self.field_app.session
            default = (
                supervisor.officer_id if supervisor and supervisor.role == "supervisor" else ""
            )
            yield Input(value=default, id="supervisor")
            yield Label(self.say("closing.passphrase"))
            yield Input(password=True, id="supervisor-passphrase")
            yield Static(id="closing-message")
        yield SyncBar()
        yield Footer()

    def on_mount(self) -> None:
        """Load the summary."""
        self.query_one("#supervisor", Input).focus()
        self.load()

    @work(thread=True, exclusive=True, group="summary", exit_on_error=False)
    def load(self) -> None:
        """Count the day (a worker)."""
        session = self.field_app.session
        if session is not None:
            summary = closing.visit_summary(session, self.visit_id)
            self.app.call_from_thread(self._show, summary)

    def _show(self, summary: VisitSummary) -> None:
        self.query_one("#summary", Static).update("\n".join(summary_text(summary, self.lang)))

    @on(Input.Submitted, "#supervisor")
    def _to_passphrase(self) -> None:
        self.query_one("#supervisor-passphrase", Input).focus()

    @on(Input.Submitted, "#supervisor-passphrase")
    def _approve(self) -> None:
        supervisor = self.query_one("#supervisor", Input).value.strip()
        passphrase = self.query_one("#supervisor-passphrase", Input).value
        self.query_one("#supervisor-passphrase", Input).value = ""
        self.approve(supervisor, passphrase)

    @work(thread=True, exclusive=True, group="approve", exit_on_error=False)
    def approve(self, supervisor: str, passphrase: str) -> None:
        """Close the visit on the supervisor's approval (a worker)."""
        session = self.field_app.session
        if session is None:
            return
        try:
            summary = closing.approve_close(
                session,
                self.visit_id,
                supervisor,
                lambda: passphrase,
                allow_test_kdf=self.field_app.settings.insecure_test_kdf,
            )
        except VaultError as exc:
            self.app.call_from_thread(self._tell, exc.text(self.lang))
            return
        self.field_app.nudge_sync()
        self.app.call_from_thread(self._closed, summary)

    def _tell(self, text: str) -> None:
        self.query_one("#closing-message", Static).update(text)

    def _closed(self, summary: VisitSummary) -> None:
        self._show(summary)
        self._tell(self.say("closing.closed"))
        self.notify(self.say("closing.closed"))
