"""Check-in: one search box for a scanned booking code, a NIK or part of a name.

Results come as the officer types (the best matches only, from the in-memory name index);
Enter on a booking code or NIK checks the person in at once; a name search lists matches to
choose from. Submitted searches are handled one after another by a single worker, in the order
they were typed, so two scans in a burst are two arrivals with consecutive numbers.
"""

from __future__ import annotations

import gc
import queue
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits, Footer, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from fieldkit.service import checkin
from fieldkit.service.checkin import Arrival, RosterMatch
from fieldkit.service.errors import VaultError
from fieldkit.tui.base import FieldScreen
from fieldkit.tui.syncbar import SyncBar
from fieldkit.tui.widgets.scan import ScanInput
from fieldkit.tui.words import WORDS

MATCHES = 10
_STOP = "\x00stop"


class CheckinScreen(FieldScreen):
    """Arrivals at an open visit: search, check in, the queue number to read out."""

    HELP = "checkin.search"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f6", "serve", "serve", id="serve"),
        Binding("f4", "walk_in", "walk_in", id="walk_in"),
        Binding("f3", "queue", "queue", id="queue"),
        Binding("escape", "back", "back", id="back"),
    ]
    COMMANDS_HERE = (("walk_in", "key.walk_in"), ("queue", "key.queue"), ("serve", "key.serve"))

    def __init__(self, visit_id: str) -> None:
        super().__init__()
        self.visit_id = visit_id
        self.last_arrival: Arrival | None = None
        self._matches: list[RosterMatch] = []
        self._submitted: queue.Queue[str] = queue.Queue()

    def place(self) -> dict[str, object]:
        """The screen and its visit, for the draft a lock keeps."""
        return {"screen": "checkin", "visit_id": self.visit_id}

    def compose(self) -> ComposeResult:
        """The search box, the matches, and the last arrival's number."""
        with Horizontal(id="checkin"):
            with Vertical(id="checkin-left"):
                yield ScanInput(placeholder=self.say("checkin.search"), id="search")
                yield OptionList(id="matches")
                yield Static(id="checkin-message")
            with Vertical(id="arrival"):
                yield Static(self.say("checkin.queue"), id="arrival-title")
                yield Digits("", id="arrival-number")
                yield Static(id="arrival-who")
        yield SyncBar()
        yield Footer()

    def on_mount(self) -> None:
        """Focus the search box; build the name index and start the check-in worker."""
        self.query_one("#search", ScanInput).focus()
        self._tell(self.say("checkin.indexing"))
        self.prepare()
        self.arrivals()

    def on_unmount(self) -> None:
        """Stop the check-in worker."""
        self._submitted.put(_STOP)

    def _tell(self, text: str) -> None:
        self.query_one("#checkin-message", Static).update(text)

    @work(thread=True, exclusive=True, group="index", exit_on_error=False)
    def prepare(self) -> None:
        """Build the visit's name index (a worker: a 20,000-entry roster takes a second)."""
        session = self.field_app.session
        if session is None:
            return
        count = checkin.prepare_index(session, self.visit_id)
        # The index is an object per entry and a tuple per word, kept all day: left to the
        # collector, every full collection walks them again (50-70 ms at 20,000 entries,
        # the slowest keypresses measured). Frozen, the collector leaves them alone; they
        # are still freed by reference counting when the session ends.
        gc.freeze()
        self.app.call_from_thread(self._tell, self.say("checkin.ready", count=count))

    # -- as the officer types --------------------------------------------------------------------

    @on(ScanInput.Changed, "#search")
    def _typed(self, event: ScanInput.Changed) -> None:
        text = event.value.strip()
        if len(text) < 2:
            self._show_matches(text, [])
            return
        self.search(text)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def search(self, text: str) -> None:
        """The best matches for what is typed so far (a worker; a newer search wins)."""
        session = self.field_app.session
        if session is None:
            return
        try:
            found = checkin.find_arrival(session, self.visit_id, text, limit=MATCHES)
        except VaultError as exc:
            self.app.call_from_thread(self._tell, exc.text(self.lang))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_matches, text, found)

    def _show_matches(self, text: str, found: list[RosterMatch]) -> None:
        if text != self.query_one("#search", ScanInput).value.strip() and text:
            return  # the officer typed on meanwhile: a newer search is coming
        self._matches = found
        options = self.query_one("#matches", OptionList)
        options.clear_options()
        options.add_options([self._option(m) for m in found])  # one redraw, not one per match
        if found:
            options.highlighted = 0
            self._tell(self.say("checkin.more") if len(found) == MATCHES else "")
        elif text:
            self._tell(self.say("checkin.none", query=text))

    def _option(self, match: RosterMatch) -> Option:
        code = self.say("checkin.booked", code=match.booking_code) if match.booking_code else ""
        state = (
            self.say(f"roster.{match.state}") if f"roster.{match.state}" in WORDS else match.state
        )
        return Option(f"{match.name}  {match.birth_date or ''}  {code}  {state}", id=match.entry_id)

    # -- checking in -----------------------------------------------------------------------------

    @on(ScanInput.Submitted, "#search")
    def _submitted_search(self, event: ScanInput.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.action_serve()
            return
        self._submitted.put(text)

    @on(OptionList.OptionSelected, "#matches")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self._submitted.put(f"\x00entry:{event.option.id}")
            self.query_one("#search", ScanInput).focus()

    @work(thread=True, group="arrivals", exit_on_error=False)
    def arrivals(self) -> None:
        """Check in what was submitted, one at a time, in order (a worker for the screen's life)."""
        worker = get_current_worker()
        while not worker.is_cancelled:
            try:
                item = self._submitted.get(timeout=0.5)
            except queue.Empty:
                continue
            if item == _STOP:
                return
            session = self.field_app.session
            if session is None:
                return
            try:
                self._arrive(item)
            except VaultError as exc:
                self.app.call_from_thread(self._refused, exc)

    def _arrive(self, item: str) -> None:
        session = self.field_app.session
        assert session is not None
        if item.startswith("\x00entry:"):
            entry_id = item.removeprefix("\x00entry:")
        else:
            found = checkin.find_arrival(session, self.visit_id, item, limit=MATCHES)
            exact = [m for m in found if m.matched_by != "name"]
            if len(exact) != 1:
                self.app.call_from_thread(self._choose_from, item, found)
                return
            entry_id = exact[0].entry_id
        arrival = checkin.check_in(session, self.visit_id, entry_id)
        self.field_app.nudge_sync()
        self.app.call_from_thread(self.show_arrival, arrival)

    def _choose_from(self, text: str, found: list[RosterMatch]) -> None:
        self._show_matches("", found)
        if found:
            self.query_one("#matches", OptionList).focus()
        else:
            self._tell(self.say("checkin.none", query=text))

    def _refused(self, exc: VaultError) -> None:
        self._tell(exc.text(self.lang))
        self.app.bell()

    def show_arrival(self, arrival: Arrival) -> None:
        """The queue number, large, and what to tell the officer."""
        self.last_arrival = arrival
        self.query_one("#arrival-number", Digits).update(arrival.queue_label)
        lines = [arrival.message.text(self.lang)]
        if arrival.refer_to_supervisor:
            lines.insert(0, f"[b reverse] {self.say('checkin.refer')} [/]")
        key = self.app.get_key_display(self._bindings.key_to_bindings["f6"][0])
        lines.append(self.say("checkin.serve_hint", keys=f"Enter/{key}"))
        self.query_one("#arrival-who", Static).update("\n".join(lines))
        self.set_class(arrival.refer_to_supervisor, "-refer")
        self._show_matches("", [])
        self._tell("")

    # -- the rest of the screen ------------------------------------------------------------------

    def action_serve(self) -> None:
        """Serve the last arrival at the counter."""
        from fieldkit.tui.screens.applicant import ApplicantScreen

        if self.last_arrival is not None:
            self.app.push_screen(ApplicantScreen(self.last_arrival.applicant_id))

    def action_walk_in(self) -> None:
        """Let someone in without a booking (priority groups; Simpatik quota)."""
        from fieldkit.tui.screens.walkin import WalkInDialog

        def done(arrival: object) -> None:
            if isinstance(arrival, Arrival):
                self.show_arrival(arrival)

        self.app.push_screen(WalkInDialog(self.visit_id), done)

    def action_queue(self) -> None:
        """The queue: who waits and who is at a counter; Enter serves one."""
        from fieldkit.tui.screens.queue import QueueDialog

        def chosen(applicant_id: object) -> None:
            from fieldkit.tui.screens.applicant import ApplicantScreen

            if isinstance(applicant_id, str):
                self.app.push_screen(ApplicantScreen(applicant_id))

        self.app.push_screen(QueueDialog(self.visit_id), chosen)

    def action_back(self) -> None:
        """Back to the visits."""
        self.app.pop_screen()
