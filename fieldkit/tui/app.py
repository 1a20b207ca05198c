"""The field app: unlock, the day's screens, auto-lock, sync in the background.

:func:`make_app` builds it from the settings (tests and the demo use it too). The app holds the
:class:`~fieldkit.service.session.OfficerSession` while unlocked; on a lock (``ctrl+l`` or
idle time) it takes the form on screen, seals it in the vault as the officer's draft
(:mod:`fieldkit.service.drafts`), forgets the keys and shows the unlock screen; the same
officer's unlock brings the screens and the form back. Sync runs in one thread worker
(:meth:`FieldApp.sync_loop`) that reports through :attr:`FieldApp.sync_view`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, ClassVar

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.message import Message as TextualMessage
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from fieldkit.domain.findings import Message
from fieldkit.service import drafts, status
from fieldkit.service import session as officer_session
from fieldkit.service.errors import VaultError
from fieldkit.service.progress import Cancel
from fieldkit.service.session import OfficerSession
from fieldkit.settings import Lang, Settings
from fieldkit.tui.base import translate_bindings
from fieldkit.tui.prefs import DARK, LIGHT, Preferences, load_prefs, save_prefs
from fieldkit.tui.syncbar import SyncView
from fieldkit.tui.words import say

# How often the sync worker looks at the outbox when nothing woke it (seconds).
SYNC_POLL = 15.0
IDLE_CHECK = 1.0


class FieldApp(App[None]):
    """The officer's app for a day at a visit site."""

    CSS_PATH = "app.tcss"
    TITLE = "fieldkit"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "help", id="help"),
        Binding("f5", "sync_now", "sync", id="sync_now"),
        Binding("ctrl+l", "lock", "lock", id="lock"),
        # Textual's footer shows the palette's key on its own: show=False avoids it twice.
        Binding(
            "ctrl+p",
            "command_palette",
            "commands",
            id="command_palette",
            priority=True,
            show=False,
        ),
        Binding("ctrl+q", "quit", "quit", id="quit", priority=True, show=False),
        # Moving between fields is decided as each key arrives (priority), not after the key
        # has passed through the field: otherwise, in a burst (a scanner that ends its code
        # with Tab, keys pasted or sent by a script), the keys after a Tab would still land
        # in the field it left.
        Binding("tab", "focus_next", show=False, priority=True),
        Binding("shift+tab", "focus_previous", show=False, priority=True),
    ]

    sync_view: reactive[SyncView] = reactive(SyncView, always_update=True)

    def __init__(
        self,
        settings: Settings,
        prefs: Preferences,
        *,
        idle_seconds: float | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.prefs = prefs
        self.session: OfficerSession | None = None
        self.idle_seconds = (
            idle_seconds if idle_seconds is not None else settings.lock_after_minutes * 60.0
        )
        self._last_input = time.monotonic()
        self._online = False
        self._wakeup = threading.Event()
        self._force_sync = False
        self._sync_cancel = Cancel()
        self._sync_worker: Worker[None] | None = None
        self.theme = prefs.theme
        self.set_keymap(dict(settings.keymap))
        translate_bindings(self, prefs.lang)

    @property
    def lang(self) -> Lang:
        """The language every string on screen is in."""
        return self.prefs.lang

    def say(self, key: str, **values: object) -> str:
        """The app's words in the officer's language."""
        return say(self.lang, key, **values)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Locking and syncing are offered only while someone is unlocked."""
        return not (action in ("lock", "sync_now") and self.session is None)

    # -- start ---------------------------------------------------------------------------------

    def on_mount(self) -> None:
        """Unlock, or set up the laptop when it has no vault yet."""
        from fieldkit.tui.screens.setup import SetupScreen
        from fieldkit.tui.screens.unlock import UnlockScreen

        self.title = self.say("app.title")
        if officer_session.vault_exists(self.settings):
            self.push_screen(UnlockScreen())
        else:
            self.push_screen(SetupScreen())
        self.set_interval(IDLE_CHECK, self._check_idle)

    def on_unmount(self) -> None:
        """Quitting: stop the sync worker now rather than after its next wait."""
        self._sync_cancel.cancel()
        self._wakeup.set()
        if self._sync_worker is not None:
            self._sync_worker.cancel()
        if self.session is not None:
            # The keys are forgotten (and the lock audited) as at any lock.
            self.session.lock()
            self.session = None

    def on_unlocked(self, session: OfficerSession) -> None:
        """The officer unlocked: show their day (and the form the lock kept), start syncing."""
        from fieldkit.tui.screens.places import restore

        self.session = session
        self._last_input = time.monotonic()
        for warning in session.warnings:
            self.notify(warning.text(self.lang), severity="warning", timeout=10)
        self._sync_cancel = Cancel()
        self._sync_worker = self.sync_loop(session)
        self.refresh_bindings()
        restore(self, session)

    # -- locking -------------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        """Any key or click counts as the officer being there."""
        if isinstance(event, events.Key | events.MouseDown):
            self._last_input = time.monotonic()
        await super().on_event(event)

    def _check_idle(self) -> None:
        if self.session is not None and time.monotonic() - self._last_input >= self.idle_seconds:
            self.action_lock(auto=True)

    def action_lock(self, auto: bool = False) -> None:
        """Lock now: keep the screens and form as a sealed draft, forget the keys."""
        from fieldkit.tui.screens.places import current_places
        from fieldkit.tui.screens.unlock import UnlockScreen

        session = self.session
        if session is None:
            return
        self.session = None
        draft = current_places(self)
        # Nothing personal stays on screen while the keys are being forgotten.
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(UnlockScreen(officer_id=session.officer_id, after_auto_lock=auto))
        self.refresh_bindings()
        self._lock_session(session, draft)

    @work(thread=True, exclusive=True, group="lock", exit_on_error=False)
    def _lock_session(self, session: OfficerSession, draft: dict[str, object]) -> None:
        self._stop_sync()
        try:
            drafts.keep_draft(session, draft)
        finally:
            session.lock()

    # -- sync ----------------------------------------------------------------------------------

    def nudge_sync(self) -> None:
        """Something new waits for HQ: let the sync worker look now."""
        self._wakeup.set()

    def action_sync_now(self) -> None:
        """Sync now, whatever the connectivity monitor last said."""
        self._force_sync = True
        self._wakeup.set()

    def _stop_sync(self) -> None:
        worker = self._sync_worker
        self._sync_cancel.cancel()
        self._wakeup.set()
        if worker is not None:
            worker.cancel()
            deadline = time.monotonic() + 30
            while worker.state in (WorkerState.PENDING, WorkerState.RUNNING):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.02)

    class SyncChanged(TextualMessage):
        """The sync worker learned something (posted from its thread; it never waits)."""

        def __init__(self, changes: dict[str, Any]) -> None:
            super().__init__()
            self.changes = changes

    def _publish(self, **changes: Any) -> None:
        self.post_message(self.SyncChanged(changes))

    def on_field_app_sync_changed(self, message: SyncChanged) -> None:
        """Show what the sync worker said."""
        self.sync_view = replace(self.sync_view, **message.changes)

    def _connectivity(self, online: bool) -> None:
        self._online = online
        self._publish(online=online)
        if online:
            self._wakeup.set()

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def sync_loop(self, session: OfficerSession) -> None:
        """Deliver what waits whenever HQ answers; report on :attr:`sync_view`."""
        # Imported here: the sync client (and requests) is not needed before an unlock, and
        # importing it at start-up cost the unlock screen tens of milliseconds.
        from fieldkit.service import sync as service_sync

        worker = get_current_worker()
        cancel = self._sync_cancel
        monitor = None
        try:
            overview = status.sync_overview(session)
            if overview.enrolled and not overview.revoked:
                monitor = service_sync.connectivity_monitor(
                    session, self._connectivity, ca_bundle=self.settings.hq_ca_bundle
                )
            while not worker.is_cancelled and not cancel.cancelled:
                # Cleared before looking, so a nudge that comes while we look is not lost.
                self._wakeup.clear()
                overview = status.sync_overview(session)
                self._publish(
                    enrolled=overview.enrolled,
                    waiting=overview.waiting,
                    oldest_waiting_at=overview.oldest_waiting_at,
                    last_acked_at=overview.last_acked_at,
                    revoked=overview.revoked,
                )
                wanted = self._force_sync or (self._online and overview.waiting > 0)
                if overview.enrolled and not overview.revoked and wanted:
                    self._force_sync = False
                    self._deliver(session, cancel)
                    continue
                self._wakeup.wait(SYNC_POLL)
        finally:
            if monitor is not None:
                monitor.stop()

    def _deliver(self, session: OfficerSession, cancel: Cancel) -> None:
        from fieldkit.service import sync as service_sync

        def progress(done: int, total: int) -> None:
            self._publish(running=(done, total))

        self._publish(running=(0, 0))
        try:
            report = service_sync.sync(
                session,
                once=True,
                progress=progress,
                cancel=cancel,
                wake=self._wakeup,
                ca_bundle=self.settings.hq_ca_bundle,
            )
        except VaultError as exc:
            self._publish(running=None, problems=(exc.message,))
            self._wakeup.wait(SYNC_POLL)
            return
        problems: list[Message] = [r.message for r in report.refused]
        problems += [m for m in (report.untrusted, report.network) if m is not None]
        self._publish(running=None, problems=tuple(problems), online=report.network is None)
        if report.network is not None:
            self._online = False
            self._wakeup.wait(SYNC_POLL)

    # -- errors from workers -------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """One place for what a worker could not do: said in the officer's words."""
        if event.state is not WorkerState.ERROR or event.worker.error is None:
            return
        error = event.worker.error
        if isinstance(error, VaultError):
            self.notify(error.text(self.lang), severity="error", timeout=10)
        else:
            self.notify(
                self.say("error.worker", text=type(error).__name__), severity="error", timeout=10
            )

    # -- conventions: help, palette, language, theme ---------------------------------------------

    def action_help(self) -> None:
        """F1: what each key does on this screen."""
        from fieldkit.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_command_palette(self) -> None:
        """The command palette, its placeholder in the officer's language."""
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(
                CommandPalette(placeholder=self.say("palette.placeholder"), id="--command-palette")
            )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette's commands: the main actions and Textual's own, in the officer's words."""

        def command(key: str, callback: Callable[[], object]) -> SystemCommand:
            return SystemCommand(self.say(key), self.say(f"{key}.help"), callback)

        if self.session is not None:
            yield command("system.sync", self.action_sync_now)
            yield command("system.lock", self.action_lock)
            yield command("system.visits", self.action_visits)
        for name, title in getattr(screen, "COMMANDS_HERE", ()):
            yield SystemCommand(self.say(title), self.say(title), getattr(screen, f"action_{name}"))
        yield command("system.language", self.action_language)
        yield command("system.theme", self.action_toggle_theme)
        yield command("system.keys", self.action_help)
        yield command("system.quit", self.action_quit)

    def action_visits(self) -> None:
        """Back to the list of visits."""
        from fieldkit.tui.screens.visits import VisitsScreen

        while len(self.screen_stack) > 2 and not isinstance(self.screen, VisitsScreen):
            self.pop_screen()

    def action_toggle_theme(self) -> None:
        """Light or dark (remembered)."""
        self.prefs = self.prefs.with_theme(LIGHT if self.theme == DARK else DARK)
        self.theme = self.prefs.theme
        save_prefs(self.settings, self.prefs)

    def action_language(self) -> None:
        """Bahasa Indonesia or English (remembered): every screen is built again in it.

        The screens are rebuilt from their places (as after a lock), so a form in progress
        keeps what was typed.
        """
        from fieldkit.tui.screens.places import current_places, push_places
        from fieldkit.tui.screens.unlock import UnlockScreen

        self.prefs = self.prefs.with_lang("en" if self.lang == "id" else "id")
        save_prefs(self.settings, self.prefs)
        self.title = self.say("app.title")
        translate_bindings(self, self.lang)
        places = current_places(self)
        while len(self.screen_stack) > 1:
            self.pop_screen()
        if self.session is None:
            self.push_screen(UnlockScreen())
        else:
            push_places(self, places)
        self.sync_view = self.sync_view


def make_app(settings: Settings, *, idle_seconds: float | None = None) -> FieldApp:
    """The field app on ``settings`` (the remembered language and theme applied)."""
    return FieldApp(settings, load_prefs(settings), idle_seconds=idle_seconds)
