"""Unlock: officer id and passphrase; a lockout's wait counted down on screen."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Footer, Input, Label, Static

from fieldkit.service import session as officer_session
from fieldkit.service.errors import UnlockThrottled, VaultError
from fieldkit.service.session import OfficerSession
from fieldkit.tui.base import FieldScreen


class UnlockScreen(FieldScreen):
    """Who is at the laptop, and their passphrase."""

    HELP = "unlock.hint"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "submit", id="submit", show=False),
    ]

    def __init__(self, officer_id: str | None = None, *, after_auto_lock: bool = False) -> None:
        super().__init__()
        self._officer_id = officer_id
        self._after_auto_lock = after_auto_lock
        self._wait = 0

    def compose(self) -> ComposeResult:
        """The two fields and a line for what happened."""
        with Vertical(id="unlock", classes="dialog"):
            yield Label(self.say("unlock.title"), classes="title")
            if self._after_auto_lock:
                yield Static(self.say("unlock.locked_note"), classes="note")
            yield Label(self.say("unlock.officer"))
            officer = self._officer_id or self.field_app.settings.officer or ""
            yield Input(value=officer, id="officer")
            yield Label(self.say("unlock.passphrase"))
            yield Input(password=True, id="passphrase")
            yield Static(self.say("unlock.hint"), id="unlock-message")
        yield Footer()

    def on_mount(self) -> None:
        """Focus where the officer types next."""
        officer = self.query_one("#officer", Input)
        self.query_one("#passphrase" if officer.value else "#officer", Input).focus()

    @on(Input.Submitted, "#officer")
    def _officer_done(self) -> None:
        self.query_one("#passphrase", Input).focus()

    @on(Input.Submitted, "#passphrase")
    def action_submit(self) -> None:
        """Unlock with what was typed (in a worker: key derivation takes about a second)."""
        if self._wait > 0:
            return
        officer = self.query_one("#officer", Input).value.strip()
        passphrase = self.query_one("#passphrase", Input).value
        if not officer:
            self._tell(self.say("unlock.no_officer"))
            self.query_one("#officer", Input).focus()
            return
        self._tell(self.say("unlock.working"))
        self.unlock(officer, passphrase)

    @work(thread=True, exclusive=True, group="unlock", exit_on_error=False)
    def unlock(self, officer: str, passphrase: str) -> None:
        """Open the vault as ``officer`` (a worker thread)."""
        try:
            session = officer_session.unlock(self.field_app.settings, officer, lambda: passphrase)
        except UnlockThrottled as exc:
            self.app.call_from_thread(self._throttled, exc)
            return
        except VaultError as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._unlocked, session)

    def _tell(self, text: str) -> None:
        self.query_one("#unlock-message", Static).update(text)

    def _failed(self, exc: VaultError) -> None:
        passphrase = self.query_one("#passphrase", Input)
        passphrase.value = ""
        passphrase.focus()
        self._tell(exc.text(self.lang))
        self.set_class(True, "-failed")

    def _throttled(self, exc: UnlockThrottled) -> None:
        self._wait = max(1, round(exc.wait_seconds))
        self.query_one("#passphrase", Input).value = ""
        self._count_down()
        self.set_interval(1.0, self._count_down, repeat=self._wait)

    def _count_down(self) -> None:
        if self._wait <= 0:
            self._tell(self.say("unlock.hint"))
            return
        self._tell(self.say("unlock.wait", seconds=self._wait))
        self._wait -= 1
        if self._wait == 0:
            self.set_timer(1.0, lambda: self._tell(self.say("unlock.hint")))

    def _unlocked(self, session: OfficerSession) -> None:
        self.dismiss()
        self.field_app.on_unlocked(session)
