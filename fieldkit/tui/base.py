"""What every screen of the field app shares: its words in the chosen language, translated keys."""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol, cast

from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen

from fieldkit.domain.findings import Finding
from fieldkit.service.errors import InvalidInput, VaultError
from fieldkit.service.session import OfficerSession
from fieldkit.settings import Lang, Settings
from fieldkit.tui.words import WORDS, say


class FieldHost(Protocol):
    """What the screens use of the app (:class:`fieldkit.tui.app.FieldApp`).

    A protocol rather than an import: the app imports the screens, so the screens must not
    import the app.
    """

    settings: Settings
    session: OfficerSession | None
    idle_seconds: float

    @property
    def lang(self) -> Lang:
        """The language every string on screen is in."""

    def nudge_sync(self) -> None:
        """Something new waits for HQ."""

    def on_unlocked(self, session: OfficerSession) -> None:
        """The officer unlocked (or set the laptop up)."""


def translate_bindings(node: DOMNode, lang: Lang) -> None:
    """Give ``node``'s bindings their descriptions in ``lang`` (``key.<binding id>``).

    Textual keeps a node's bindings in ``_bindings`` (copied from the class at creation); the
    footer, the help screen and the keymap all read them there, so translating them in place
    makes every one of them speak the officer's language.
    """
    table = node._bindings.key_to_bindings
    for key, bindings in table.items():
        table[key] = [
            replace(b, description=say(lang, f"key.{b.id}"))
            if b.id is not None and f"key.{b.id}" in WORDS
            else b
            for b in bindings
        ]


def refusal_lines(exc: VaultError, lang: Lang) -> list[str]:
    """An application-layer error in the officer's words: the message, then each finding."""
    lines = [exc.text(lang)]
    if isinstance(exc, InvalidInput):
        for item in exc.findings:
            finding = item[1] if isinstance(item, tuple) else item
            if isinstance(finding, Finding):
                lines.append(f"- {finding.text(lang)}")
    return lines


class Words:
    """Mixed into screens: ``self.say(key)`` in the app's language."""

    @property
    def field_app(self) -> FieldHost:
        """The app, as the screens use it."""
        return cast(FieldHost, cast(DOMNode, self).app)

    @property
    def lang(self) -> Lang:
        """The language the officer chose."""
        return self.field_app.lang

    def say(self, key: str, **values: object) -> str:
        """The words under ``key`` in the officer's language."""
        return say(self.lang, key, **values)


class FieldScreen(Words, Screen[None]):
    """A screen of the field app (its key descriptions translated when it mounts)."""

    HELP: str = ""
    """Key into :data:`~fieldkit.tui.words.WORDS` of what this screen is for (F1 shows it)."""

    def on_mount(self) -> None:
        """Translate this screen's keys."""
        translate_bindings(self, self.lang)


class FieldModal(Words, ModalScreen[object]):
    """A dialog of the field app (its key descriptions translated when it mounts)."""

    def on_mount(self) -> None:
        """Translate this dialog's keys."""
        translate_bindings(self, self.lang)
