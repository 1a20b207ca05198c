"""Visits: today's first, with its counts; open it, pack the kit, go to check-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from fieldkit.domain.summary import VisitSummary
from fieldkit.service import closing, status, visits
from fieldkit.service.visits import Visit
from fieldkit.tui.base import FieldScreen
from fieldkit.tui.syncbar import SyncBar
from fieldkit.tui.words import WORDS

_SUMMED = ("open", "closed")
SITE_WIDTH = 20


@dataclass(frozen=True, slots=True)
class VisitRow:
    """A visit with the counts the list shows (None: not counted, e.g. a planned visit)."""

    visit: Visit
    summary: VisitSummary | None
    synced: int


def order(rows: list[Visit], today: date) -> list[Visit]:
    """Today's visits first (open before planned), then the coming ones, then the past."""

    def key(v: Visit) -> tuple[int, int, str]:
        when = 0 if v.on == today else 1 if v.on > today else 2
        distance = abs((v.on - today).days)
        return (when, distance, "0" if v.state == "open" else "1")

    return sorted(rows, key=key)


class VisitsScreen(FieldScreen):
    """The officer's visits: choose one to work on."""

    HELP = "visits.title"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "open_visit", id="open_visit"),
        Binding("o", "start", "start_visit", id="start_visit"),
        Binding("k", "kit", "kit", id="kit"),
        Binding("e", "end", "end_visit", id="end_visit"),
        Binding("f2", "app.language", "language", id="language"),
    ]
    COMMANDS_HERE = (("start", "key.start_visit"), ("kit", "key.kit"), ("end", "key.end_visit"))

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[VisitRow] = []

    def place(self) -> dict[str, object]:
        """The screen, for the draft a lock keeps."""
        return {"screen": "visits"}

    def compose(self) -> ComposeResult:
        """The table of visits and the highlighted one's details."""
        yield DataTable(id="visits", cursor_type="row", zebra_stripes=True)
        yield Static(id="visit-detail")
        yield SyncBar(id="syncbar")
        yield Footer()

    def on_mount(self) -> None:
        """Columns in the officer's language; the visits load in a worker."""
        table = self.query_one(DataTable)
        for key in ("site", "date", "state", "expected", "arrived", "decided"):
            table.add_column(self.say(f"col.{key}"), key=key)
        table.add_column(self.say("col.pending"), key="pending")
        table.add_column(self.say("col.synced"), key="synced")
        table.focus()
        self.load()

    def on_screen_resume(self) -> None:
        """Counts change while the officer is on other screens."""
        if self._rows:
            self.load()

    @work(thread=True, exclusive=True, group="visits", exit_on_error=False)
    def load(self) -> None:
        """Read the visits and count the open and closed ones (a worker)."""
        session = self.field_app.session
        if session is None:
            return
        listed = order(visits.list_visits(session), date.today())
        synced = status.synced_applicants(session)
        rows = [
            VisitRow(
                v,
                closing.visit_summary(session, v.id) if v.state in _SUMMED else None,
                synced.get(v.id, 0),
            )
            for v in listed
        ]
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[VisitRow]) -> None:
        self._rows = rows
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for row in rows:
            v, s = row.visit, row.summary
            decided = sum(s.decisions.values()) if s else None
            table.add_row(
                # The site is cut here (the detail line below has it whole), so the counts
                # up to "sent" fit in 80 columns.
                v.site if len(v.site) <= SITE_WIDTH else v.site[: SITE_WIDTH - 1] + "…",
                v.on.isoformat(),
                self.say(f"state.{v.state}") if f"state.{v.state}" in WORDS else v.state,
                *(
                    str(n) if n is not None else "—"
                    for n in (
                        s.expected if s else None,
                        s.arrived + s.walk_ins if s else None,
                        decided,
                        len(s.undecided) if s else None,
                        row.synced,
                    )
                ),
                key=v.id,
            )
        if rows:
            table.move_cursor(row=min(max(keep, 0), len(rows) - 1))
        else:
            self.query_one("#visit-detail", Static).update(self.say("visits.none"))

    @on(DataTable.RowHighlighted)
    def _detail(self, event: DataTable.RowHighlighted) -> None:
        row = self._selected()
        if row is None:
            return
        v = row.visit
        session = self.say(f"session.{v.session.value}")
        lines = [f"{self.say(f'kind.{v.kind.value}')} · {v.site} · {v.on} · {session}"]
        if v.coordinator_name:
            lines.append(
                f"{self.say('col.coordinator')}: {v.coordinator_name} {v.coordinator_phone or ''}"
            )
        if v.withdrawal is not None:
            lines.append(v.withdrawal.message(v.id).text(self.lang))
        self.query_one("#visit-detail", Static).update("\n".join(lines))

    def _selected(self) -> VisitRow | None:
        table = self.query_one(DataTable)
        if not self._rows or table.cursor_row < 0 or table.cursor_row >= len(self._rows):
            return None
        return self._rows[table.cursor_row]

    @on(DataTable.RowSelected)
    def _selected_row(self) -> None:
        self.action_choose()

    def action_choose(self) -> None:
        """Check-in at the highlighted visit (it must be open)."""
        from fieldkit.tui.screens.checkin import CheckinScreen

        row = self._selected()
        if row is None:
            return
        if row.visit.state != "open":
            key = self.app.get_key_display(self._bindings.key_to_bindings["o"][0])
            self.notify(self.say("visits.not_open", keys=key), severity="warning")
            return
        self.app.push_screen(CheckinScreen(row.visit.id))

    def action_start(self) -> None:
        """Open the highlighted visit on site."""
        row = self._selected()
        if row is not None:
            self._open(row.visit.id)

    @work(thread=True, exclusive=True, group="visit-open", exit_on_error=False)
    def _open(self, visit_id: str) -> None:
        session = self.field_app.session
        if session is None:
            return
        visits.open_visit(session, visit_id)
        self.field_app.nudge_sync()
        self.app.call_from_thread(self.notify, self.say("visits.opened"))
        self.app.call_from_thread(self.load)

    def action_kit(self) -> None:
        """The kit checklist of the highlighted visit."""
        from fieldkit.tui.screens.kit import KitScreen

        row = self._selected()
        if row is not None:
            self.app.push_screen(KitScreen(row.visit.id))

    def action_end(self) -> None:
        """End of the highlighted visit: the summary and the supervisor's approval."""
        from fieldkit.tui.screens.closing import ClosingScreen

        row = self._selected()
        if row is not None:
            self.app.push_screen(ClosingScreen(row.visit.id))
