"""First run on a laptop without a vault: the first supervisor, then enrollment if HQ answers."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Input, Label, Static

from fieldkit.domain.passphrase import passphrase_problem
from fieldkit.service import session as officer_session
from fieldkit.service import sync as service_sync
from fieldkit.service.errors import VaultError
from fieldkit.tui.base import FieldScreen

_FIELDS = ("officer", "name", "passphrase", "confirm", "hq_url", "code")


class SetupScreen(FieldScreen):
    """The supervisor who creates the vault; the passphrase rule explained as it is typed."""

    HELP = "setup.intro"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "submit", id="submit"),
    ]

    def compose(self) -> ComposeResult:
        """The form."""
        with VerticalScroll(id="setup", classes="dialog"):
            yield Label(self.say("setup.title"), classes="title")
            yield Static(self.say("setup.intro"))
            for name in _FIELDS:
                if name == "hq_url":
                    yield Static(self.say("setup.hq_hint"), classes="note")
                yield Label(self.say(f"setup.{name}"))
                yield Input(
                    id=f"s-{name}", password=name in ("passphrase", "confirm"), compact=True
                )
                if name == "passphrase":
                    yield Static(self.say("setup.rule"), id="rule", classes="hint")
            yield Static(id="setup-message")
        yield Footer()

    def on_mount(self) -> None:
        """Start at the id."""
        self.query_one("#s-officer", Input).focus()

    def _value(self, name: str) -> str:
        return self.query_one(f"#s-{name}", Input).value

    @on(Input.Changed, "#s-passphrase")
    def _rule(self) -> None:
        problem = passphrase_problem(
            self._value("passphrase"), officer_id=self._value("officer"), name=self._value("name")
        )
        rule = self.query_one("#rule", Static)
        rule.update(problem.text(self.lang) if problem else "✓ " + self.say("setup.rule"))
        rule.set_class(problem is not None, "-error")

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == "s-code":
            self.action_submit()
        else:
            self.focus_next()

    def action_submit(self) -> None:
        """Create the vault (and enroll) in a worker."""
        officer, name = self._value("officer").strip(), self._value("name").strip()
        passphrase = self._value("passphrase")
        if not officer or not name or not passphrase:
            self._tell(self.say("setup.missing"))
            return
        if passphrase != self._value("confirm"):
            self._tell(self.say("setup.mismatch"))
            return
        self._tell(self.say("setup.working"))
        self.create(officer, name, passphrase, self._value("hq_url").strip(), self._value("code"))

    @work(thread=True, exclusive=True, group="setup", exit_on_error=False)
    def create(self, officer: str, name: str, passphrase: str, hq_url: str, code: str) -> None:
        """Create the vault, then enroll when an HQ address and code are given (a worker)."""
        settings = self.field_app.settings
        try:
            session = officer_session.create_vault(settings, officer, name, passphrase)
        except VaultError as exc:
            self.app.call_from_thread(self._tell, exc.text(self.lang))
            return
        if hq_url and code.strip():
            try:
                enrolled = service_sync.enroll(
                    session, hq_url, code.strip(), allow_http=False, ca_bundle=settings.hq_ca_bundle
                )
                self.app.call_from_thread(
                    self.notify, self.say("setup.enrolled", url=enrolled.hq_url)
                )
            except VaultError as exc:
                self.app.call_from_thread(self.notify, exc.text(self.lang), severity="error")
        self.app.call_from_thread(self._done, session)

    def _tell(self, text: str) -> None:
        self.query_one("#setup-message", Static).update(text)

    def _done(self, session: officer_session.OfficerSession) -> None:
        self.dismiss()
        self.field_app.on_unlocked(session)
