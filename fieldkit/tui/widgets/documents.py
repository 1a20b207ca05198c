"""The documents checklist: one key marks a line and moves on to the next.

Space: seen (on a line with alternatives, each press moves the mark to the next alternative:
birth certificate, then marriage certificate, diploma…); ``x``: missing; ``n``: not applicable
(only a conditional line may be). The marks are kept here until the form is saved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message as TextualMessage
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from fieldkit.domain.decision import ChecklistLine
from fieldkit.settings import Lang

SEEN, MISSING, NOT_APPLICABLE = "seen", "missing", "not_applicable"
_MARK = {SEEN: "✓", MISSING: "✗", NOT_APPLICABLE: "–", None: " "}


class DocumentsList(OptionList):
    """The checklist lines of the applicant's type and age, with the officer's marks."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "seen", "seen", id="doc_seen", show=False),
        Binding("x", "missing", "missing", id="doc_missing", show=False),
        Binding("n", "not_applicable", "n/a", id="doc_not_applicable", show=False),
    ]

    class Marked(TextualMessage):
        """The officer changed a mark."""

        def __init__(self, documents: DocumentsList) -> None:
            super().__init__()
            self.documents = documents

        @property
        def control(self) -> DocumentsList:
            """The checklist that changed (for ``@on(..., selector)``)."""
            return self.documents

    def __init__(self, lang: Lang, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.lang = lang
        self.lines: tuple[ChecklistLine, ...] = ()
        self.marks: dict[str, str] = {}

    def show(self, lines: Sequence[ChecklistLine] | None, marks: Mapping[str, str]) -> None:
        """Show ``lines`` with ``marks`` ({document: state}) over what they held."""
        self.lines = tuple(lines or ())
        self.marks = dict(marks)
        self._draw()
        # Start at the first line the officer still has to mark.
        unmarked = [i for i, line in enumerate(self.lines) if self._state(line)[0] is None]
        if unmarked:
            self.highlighted = unmarked[0]

    def _state(self, line: ChecklistLine) -> tuple[str | None, int]:
        """The line's mark and which alternative it is on."""
        for index, (document, _) in enumerate(line.states):
            state = self.marks.get(document.value)
            if state == SEEN:
                return SEEN, index
        first = line.states[0][0].value
        return self.marks.get(first), 0

    def _draw(self) -> None:
        highlighted = self.highlighted
        self.clear_options()
        for line in self.lines:
            state, index = self._state(line)
            label = line.requirement.label(self.lang)
            if state == SEEN and len(line.states) > 1:
                label = line.states[index][0].label.text(self.lang)
            self.add_option(Option(f"[{_MARK[state]}] {label}"))
        if self.lines:
            self.highlighted = min(highlighted or 0, len(self.lines) - 1)

    def _line(self) -> ChecklistLine | None:
        if self.highlighted is None or not self.lines:
            return None
        return self.lines[self.highlighted]

    def _set(self, line: ChecklistLine, state: str | None, index: int = 0) -> None:
        for position, (document, _) in enumerate(line.states):
            if state == SEEN and position == index:
                self.marks[document.value] = SEEN
            elif state in (SEEN, None):
                self.marks.pop(document.value, None)
            else:
                self.marks[document.value] = state
        self._draw()
        self.post_message(self.Marked(self))

    def _advance(self) -> None:
        if self.highlighted is not None and self.highlighted < len(self.lines) - 1:
            self.highlighted += 1

    def action_seen(self) -> None:
        """Seen; again: the next alternative; after the last: unmarked."""
        line = self._line()
        if line is None:
            return
        state, index = self._state(line)
        if state != SEEN:
            self._set(line, SEEN, 0)
            self._advance()
        elif index + 1 < len(line.states):
            self._set(line, SEEN, index + 1)
        else:
            self._set(line, None)

    def action_missing(self) -> None:
        """Not brought."""
        line = self._line()
        if line is not None:
            self._set(line, MISSING)
            self._advance()

    def action_not_applicable(self) -> None:
        """Does not apply (a conditional line only; the rules refuse it elsewhere)."""
        line = self._line()
        if line is not None and line.requirement.condition is not None:
            self._set(line, NOT_APPLICABLE)
            self._advance()
