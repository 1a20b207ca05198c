"""The decisions other than acceptance, and the supervisor's answer to a watchlist match."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Label, Select

from fieldkit.domain.decision import REJECTION_REASONS
from fieldkit.tui.base import FieldModal

KINDS = ("pending_documents", "rejected", "referred")
NOT_ELIGIBLE = "not_eligible_mobile"


class DecisionDialog(FieldModal):
    """Dismissed with ``{kind, reason, text, missing}`` for :func:`counter.decide`, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel", id="cancel"),
        Binding("ctrl+s", "submit", "submit", id="submit"),
    ]

    def __init__(self, missing: list[str], explanation: str | None = None) -> None:
        super().__init__()
        self.missing = missing
        self.explanation = explanation

    def compose(self) -> ComposeResult:
        """The kind, a reason (rejections: from the list), the words to read out."""
        with Vertical(classes="dialog", id="decision"):
            yield Label(self.say("decision.title"), classes="title")
            yield Select(
                [(self.say(f"decision.{k}"), k) for k in KINDS], allow_blank=False, id="kind"
            )
            yield Label(self.say("decision.reason"), id="reason-label")
            yield Select(
                [(label.text(self.lang), code) for code, label in REJECTION_REASONS],
                allow_blank=False,
                id="reason",
            )
            yield Input(id="reason-text", placeholder=self.say("decision.reason"))
            yield Label(self.say("decision.text"))
            yield Input(id="text")

    def on_mount(self) -> None:
        """Start at the kind; an application this visit may not serve starts as its rejection."""
        if self.explanation:
            self.query_one("#kind", Select).value = "rejected"
            self.query_one("#reason", Select).value = NOT_ELIGIBLE
            self.query_one("#text", Input).value = self.explanation
        self.query_one("#kind", Select).focus()
        self._kind_changed()

    @on(Select.Changed, "#kind")
    def _kind_changed(self) -> None:
        kind = self.query_one("#kind", Select).value
        self.query_one("#reason", Select).display = kind == "rejected"
        self.query_one("#reason-label", Label).display = kind in ("rejected", "referred")
        self.query_one("#reason-text", Input).display = kind == "referred"

    @on(Input.Submitted)
    def action_submit(self) -> None:
        """The decision as chosen."""
        kind = str(self.query_one("#kind", Select).value)
        text = self.query_one("#text", Input).value.strip() or None
        decision: dict[str, object] = {"kind": kind}
        if kind == "rejected":
            decision |= {"reason": str(self.query_one("#reason", Select).value), "text": text}
        elif kind == "referred":
            decision |= {"reason": self.query_one("#reason-text", Input).value, "text": text}
        else:
            decision |= {"missing": self.missing}
        self.dismiss(decision)

    def action_cancel(self) -> None:
        """No decision."""
        self.dismiss(None)


class ResolveDialog(FieldModal):
    """Dismissed with ``(outcome, reason)`` or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel", id="cancel")]

    def compose(self) -> ComposeResult:
        """Cleared or confirmed, and why."""
        with Vertical(classes="dialog", id="resolve"):
            yield Label(self.say("resolve.title"), classes="title")
            yield Select(
                [(self.say(f"resolve.{o}"), o) for o in ("cleared", "confirmed")],
                allow_blank=False,
                id="outcome",
            )
            yield Label(self.say("decision.reason"))
            yield Input(id="resolve-reason")

    def on_mount(self) -> None:
        """Start at the outcome."""
        self.query_one("#outcome", Select).focus()

    @on(Input.Submitted)
    def _submit(self) -> None:
        outcome = str(self.query_one("#outcome", Select).value)
        self.dismiss((outcome, self.query_one("#resolve-reason", Input).value))

    def action_cancel(self) -> None:
        """No answer."""
        self.dismiss(None)
