"""The applicant at the counter: prefilled, checked as typed, saved as a new version, decided.

Every change re-runs the application layer's rules on the form as it stands
(:func:`~fieldkit.service.counter.preview_update`, in a worker): errors under their field block
saving, warnings need their box ticked, and what still stands between the applicant and an
acceptance is listed. ``ctrl+s`` saves (one new version), ``F8`` saves and accepts, ``F9``
records another decision, ``F7`` is the supervisor's answer to a watchlist match. Leaving with
unsaved changes asks first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Checkbox, Footer, Input, Label, SelectionList, Static

from fieldkit.domain.applications import may_serve
from fieldkit.domain.findings import Finding
from fieldkit.domain.money import format_rupiah
from fieldkit.service import counter, visits
from fieldkit.service.counter import CounterView, Preview
from fieldkit.service.errors import InvalidInput, VaultError
from fieldkit.service.visits import Visit
from fieldkit.tui.base import FieldScreen, refusal_lines
from fieldkit.tui.screens import form
from fieldkit.tui.syncbar import SyncBar
from fieldkit.tui.widgets.documents import DocumentsList

_PAYMENT = ("billing_code", "ntpn")


@dataclass(frozen=True, slots=True)
class Loaded:
    """What the screen was opened on."""

    view: CounterView
    visit: Visit


def _by_field(findings: Sequence[Finding]) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        name = {"kind": "product", "years": "validity_years"}.get(finding.field, finding.field)
        name = name.removeprefix("payment.")
        grouped.setdefault(name, []).append(finding)
    return grouped


class ApplicantScreen(FieldScreen):
    """One applicant's counter work."""

    HELP = "applicant.documents"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "save", id="save"),
        Binding("f8", "accept", "accept", id="accept"),
        Binding("f9", "decide", "decide", id="decide"),
        Binding("f7", "resolve", "refer", id="refer", show=False),
        Binding("escape", "leave", "back", id="back"),
    ]
    COMMANDS_HERE = (("save", "key.save"), ("accept", "key.accept"), ("decide", "key.decide"))

    def __init__(self, applicant_id: str, *, restored: Mapping[str, object] | None = None) -> None:
        super().__init__()
        self.applicant_id = applicant_id
        self.loaded: Loaded | None = None
        self._restored = restored
        self._preview: Preview | None = None
        self._pending_acks: list[str] = []
        self._shown: tuple[object, ...] = ()

    # -- what the lock keeps ---------------------------------------------------------------------

    def form_state(self) -> dict[str, object]:
        """The form as it is on screen (for the sealed draft)."""
        return {
            "texts": self.texts(),
            "paid": self.query_one("#f-paid", Checkbox).value,
            "marks": dict(self.query_one(DocumentsList).marks),
            "acknowledge": list(self._acknowledged()),
        }

    def place(self) -> dict[str, object]:
        """The screen, its applicant and the form in progress."""
        state = self.form_state() if self.loaded is not None else None
        return {"screen": "applicant", "applicant_id": self.applicant_id, "form": state}

    # -- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Header lines, the documents, payment, the person's fields, notes, what is open."""
        with VerticalScroll(id="applicant"):
            yield Static(id="who", classes="title")
            yield Static(id="eligibility")
            yield Static(id="watchlist", classes="refer")
            yield Label(self.say("applicant.documents"))
            yield DocumentsList(self.lang, id="documents")
            yield SelectionList[str](id="warnings")
            for name in ("billing_code",):
                yield from self._field(name)
            yield Checkbox(self.say("field.paid"), id="f-paid")
            for name in ("ntpn", "biometrics_ref", *form.PERSON, "notes"):
                yield from self._field(name)
            yield Static(id="open")
            yield Static(id="applicant-message")
        yield SyncBar()
        yield Footer()

    def _field(self, name: str) -> ComposeResult:
        yield Label(self.say(f"field.{name}"), classes="field-label")
        yield Input(id=f"f-{name}", classes="field", compact=True)
        yield Static(id=f"h-{name}", classes="hint")

    def on_mount(self) -> None:
        """Load the applicant (a worker)."""
        self.query_one("#watchlist", Static).display = False
        self.query_one("#warnings", SelectionList).display = False
        self.load()

    @work(thread=True, exclusive=True, group="applicant", exit_on_error=False)
    def load(self) -> None:
        """Read the applicant and its visit (a worker)."""
        session = self.field_app.session
        if session is None:
            return
        view = counter.counter_view(session, self.applicant_id)
        visit = visits.get_visit(session, view.applicant.visit_id)
        self.app.call_from_thread(self._fill, Loaded(view, visit))

    # -- filling in ------------------------------------------------------------------------------

    def _fill(self, loaded: Loaded) -> None:
        self.loaded = loaded
        fields = loaded.view.applicant.fields
        booked = bool(fields.get("booking_code"))
        texts, marks = form.stored_texts(fields), form.stored_marks(fields)
        if loaded.view.applicant.state == "waiting":
            # First time at the counter: what the form can fill in for the officer to confirm.
            texts |= form.suggestions(fields, loaded.visit.on, booked=booked)
            marks |= form.suggested_marks(fields, booked=booked)
        paid = form.stored_paid(fields)
        acks: list[str] = []
        restored = self._restored
        if restored is not None:
            texts |= {k: str(v) for k, v in dict(restored.get("texts") or {}).items()}  # type: ignore[call-overload]
            marks = {str(k): str(v) for k, v in dict(restored.get("marks") or {}).items()}  # type: ignore[call-overload]
            paid = restored.get("paid") is True
            acks = [str(a) for a in restored.get("acknowledge") or []]  # type: ignore[union-attr]
            self.notify(self.say("applicant.restored"))
        with self.prevent(Input.Changed, Checkbox.Changed):
            for name in form.TEXT_FIELDS:
                self.query_one(f"#f-{name}", Input).value = texts.get(name, "")
            self.query_one("#f-paid", Checkbox).value = paid
        self.query_one(DocumentsList).show(loaded.view.checklist, marks)
        self._pending_acks = acks
        # What the form showed when it opened: suggestions alone are not worth a question.
        self._shown = (texts if restored is None else {}, marks, paid)
        self._header()
        self.query_one(DocumentsList).focus()
        self.check()

    def _header(self) -> None:
        assert self.loaded is not None
        fields = self.loaded.view.applicant.fields
        queue = fields.get("queue")
        label = ""
        if isinstance(queue, Mapping):
            label = f"{queue.get('series')}-{int(queue.get('number') or 0):03d}"  # type: ignore[call-overload]
        state = self.say(f"astate.{self.loaded.view.applicant.state}")
        self.query_one("#who", Static).update(
            f"{self.say('applicant.title', queue=label)} · {fields.get('name') or ''} · {state}"
        )
        watch = fields.get("watchlist")
        refer = (
            isinstance(watch, Mapping)
            and watch.get("possible_match") is True
            and watch.get("resolution") is None
        )
        banner = self.query_one("#watchlist", Static)
        banner.display = refer
        banner.update(self.say("applicant.refer") if refer else "")

    def texts(self) -> dict[str, str]:
        """Every text box of the form."""
        return {name: self.query_one(f"#f-{name}", Input).value for name in form.TEXT_FIELDS}

    def _acknowledged(self) -> list[str]:
        return [str(v) for v in self.query_one("#warnings", SelectionList).selected]

    def changes(self) -> dict[str, object]:
        """What the form holds that the stored version does not."""
        assert self.loaded is not None
        return form.changes(
            self.loaded.view.applicant.fields,
            self.texts(),
            self.query_one("#f-paid", Checkbox).value,
            self.query_one(DocumentsList).marks,
        )

    def dirty(self) -> bool:
        """Whether leaving now would lose something."""
        if self.loaded is None:
            return False
        held = self.loaded.view.applicant.fields.get("acknowledged")
        stored = {str(a.get("code")) for a in held or [] if isinstance(a, Mapping)}  # type: ignore[union-attr]
        now = (self.texts(), dict(self.query_one(DocumentsList).marks))
        now_paid = self.query_one("#f-paid", Checkbox).value
        untouched = (*now, now_paid) == self._shown
        return not untouched and (bool(self.changes()) or bool(set(self._acknowledged()) - stored))

    # -- checked as typed ------------------------------------------------------------------------

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(DocumentsList.Marked)
    @on(SelectionList.SelectedChanged)
    def _edited(self) -> None:
        if self.loaded is not None:
            self.check()

    def check(self) -> None:
        """The rules on the form as it stands, worked out in a worker (a newer check wins)."""
        if self.loaded is not None:
            self._check(self.changes(), self._acknowledged())

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def _check(self, changes: dict[str, object], acks: list[str]) -> None:
        session = self.field_app.session
        if session is None:
            return
        preview = counter.preview_update(session, self.applicant_id, changes, acknowledge=acks)
        self.app.call_from_thread(self._show_preview, preview)

    def _show_preview(self, preview: Preview) -> None:
        self._preview = preview
        blocking = _by_field(preview.refused)
        warnings = _by_field([f for f in preview.person if not f.is_error])
        for name in form.TEXT_FIELDS:
            lines = [f"✗ {f.text(self.lang)}" for f in blocking.get(name, [])]
            lines += [f"! {f.text(self.lang)}" for f in warnings.get(name, [])]
            hint = self.query_one(f"#h-{name}", Static)
            hint.update("\n".join(lines))
            hint.set_class(bool(blocking.get(name)), "-error")
        documents = self.query_one(DocumentsList)
        if preview.checklist is not None and [x.requirement for x in preview.checklist] != [
            x.requirement for x in documents.lines
        ]:
            # The type or the age typed in changed the checklist: the marks made stay.
            documents.show(preview.checklist, documents.marks)
        self._show_warnings([f for f in preview.person if not f.is_error])
        self._show_eligibility()
        self._show_open(preview)

    def _show_warnings(self, warnings: list[Finding]) -> None:
        box = self.query_one("#warnings", SelectionList)
        codes = [w.code for w in warnings]
        if codes == [str(o.value) for o in box._options]:  # same warnings: keep the ticks
            return
        assert self.loaded is not None
        held = self.loaded.view.applicant.fields.get("acknowledged")
        done = {str(a.get("code")) for a in held or [] if isinstance(a, Mapping)}  # type: ignore[union-attr]
        done |= set(self._pending_acks)
        with self.prevent(SelectionList.SelectedChanged):
            box.clear_options()
            for w in warnings:
                box.add_option(
                    (self.say("applicant.ack", text=w.text(self.lang)), w.code, w.code in done)
                )
        box.display = bool(warnings)

    def _show_eligibility(self) -> None:
        assert self.loaded is not None
        app_type = self.texts()["application_type"].strip().lower()
        lines: list[str] = []
        if app_type:
            served = may_serve(app_type, self.loaded.visit.kind)
            lines += [f"[b]{f.text(self.lang)}[/b]" for f in served.errors]
            if served.ok:
                lines.append(self.say("applicant.eligible"))
        fee = self._preview.fee if self._preview else None
        total = fee.get("total") if fee else None
        lines.append(
            self.say("applicant.fee", fee=format_rupiah(total))
            if isinstance(total, int)
            else self.say("applicant.no_fee")
        )
        self.query_one("#eligibility", Static).update("\n".join(lines))

    def _show_open(self, preview: Preview) -> None:
        if not preview.open:
            text = f"[b]{self.say('applicant.ready')}[/b]"
        else:
            text = "\n".join(
                [self.say("applicant.open"), *(f"- {f.text(self.lang)}" for f in preview.open)]
            )
        self.query_one("#open", Static).update(text)

    # -- saving and deciding ---------------------------------------------------------------------

    def action_save(self) -> None:
        """Save the form as a new version (a worker)."""
        if self.loaded is not None:
            self.save(self.changes(), self._acknowledged(), None)

    def action_accept(self) -> None:
        """Save, then accept: refused with what is still missing."""
        if self.loaded is not None:
            self.save(self.changes(), self._acknowledged(), {"kind": "accepted"})

    def action_decide(self) -> None:
        """Another decision: documents pending, rejected, referred."""
        from fieldkit.tui.screens.decision import DecisionDialog

        if self.loaded is None:
            return
        marks = self.query_one(DocumentsList)
        missing = [
            line.states[0][0].value
            for line in marks.lines
            if not any(
                marks.marks.get(d.value) in ("seen", "not_applicable") for d, _ in line.states
            )
        ]

        def chosen(decision: object) -> None:
            if isinstance(decision, dict):
                self.save(self.changes(), self._acknowledged(), decision)

        self.app.push_screen(DecisionDialog(missing, self._office_only()), chosen)

    def _office_only(self) -> str | None:
        """The words to read out when this visit may not serve the type typed in, else None."""
        assert self.loaded is not None
        app_type = self.texts()["application_type"].strip().lower()
        served = may_serve(app_type, self.loaded.visit.kind) if app_type else None
        if served is None or served.ok:
            return None
        return " ".join(f.text(self.lang) for f in served.errors)

    @work(thread=True, exclusive=True, group="save", exit_on_error=False)
    def save(
        self,
        changes: dict[str, object],
        acknowledge: list[str],
        decision: dict[str, object] | None,
        leave: bool = False,
    ) -> None:
        """Write the changes (if any), then the decision (if one), in a worker.

        ``leave``: then back to check-in.
        """
        session = self.field_app.session
        if session is None:
            return
        held = self.loaded.view.applicant.fields.get("acknowledged") if self.loaded else None
        stored = {str(a.get("code")) for a in held or [] if isinstance(a, Mapping)}  # type: ignore[union-attr]
        new_acks = [a for a in acknowledge if a not in stored]
        try:
            saved = None
            if changes or new_acks:
                try:
                    saved = counter.update_applicant(
                        session, self.applicant_id, changes, acknowledge=new_acks
                    )
                except InvalidInput as exc:
                    # A refusal or referral is about the application as presented (a lost
                    # passport typed in is the reason for it): it is recorded on the stored
                    # version, and the officer is told the edits were not kept.
                    if decision is None or decision.get("kind") == "accepted":
                        raise
                    self.app.call_from_thread(self._refused, exc)
            if decision is not None:
                kind = str(decision.pop("kind"))
                saved = counter.decide(session, self.applicant_id, kind, **decision)  # type: ignore[arg-type]
        except VaultError as exc:
            self.app.call_from_thread(self._refused, exc)
            return
        self.field_app.nudge_sync()
        if leave:
            self.app.call_from_thread(self.app.pop_screen)
            return
        if saved is not None:
            self.app.call_from_thread(self._saved, saved.version, saved.state)
        self.app.call_from_thread(self.load)

    def _refused(self, exc: VaultError) -> None:
        lines = refusal_lines(exc, self.lang)
        self.query_one("#applicant-message", Static).update("\n".join(lines))
        self.notify(exc.text(self.lang), severity="error")

    def _saved(self, version: int, state: str) -> None:
        self._restored = None
        text = self.say("applicant.saved", version=version)
        if state in ("accepted", "pending_documents", "rejected", "referred"):
            text = self.say("applicant.decided", kind=self.say(f"decision.{state}"))
        self.query_one("#applicant-message", Static).update(text)
        self.notify(text)

    # -- the watchlist and leaving ---------------------------------------------------------------

    def action_resolve(self) -> None:
        """A supervisor answers a possible watchlist match."""
        from fieldkit.tui.screens.decision import ResolveDialog

        session = self.field_app.session
        if session is None or session.role != "supervisor":
            self.notify(self.say("resolve.supervisor_only"), severity="warning")
            return

        def answered(answer: object) -> None:
            if isinstance(answer, tuple):
                self.resolve(*answer)

        self.app.push_screen(ResolveDialog(), answered)

    @work(thread=True, exclusive=True, group="save", exit_on_error=False)
    def resolve(self, outcome: str, reason: str) -> None:
        """Record the supervisor's answer (a worker)."""
        session = self.field_app.session
        if session is None:
            return
        try:
            counter.resolve_watchlist(session, self.applicant_id, outcome, reason)
        except VaultError as exc:
            self.app.call_from_thread(self._refused, exc)
            return
        self.field_app.nudge_sync()
        self.app.call_from_thread(self.load)

    def action_leave(self) -> None:
        """Back to check-in; unsaved changes are asked about first."""
        from fieldkit.tui.screens.confirm import SaveFirst

        if not self.dirty():
            self.app.pop_screen()
            return

        def answered(choice: object) -> None:
            if choice == "save":
                self.save(self.changes(), self._acknowledged(), None, leave=True)
            elif choice == "discard":
                self.app.pop_screen()

        self.app.push_screen(SaveFirst(), answered)
