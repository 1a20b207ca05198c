"""What the field app remembers between runs: the language and the theme the officer chose.

Kept in ``app.toml`` beside the vault (``FIELDKIT_HOME``): two words, no personal data. The
language chosen here wins over the ``lang`` setting; a file that cannot be read is ignored
(the defaults are used), since it only holds preferences.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from fieldkit.settings import Lang, Settings

PREFS_FILE = "app.toml"
DARK, LIGHT = "textual-dark", "textual-light"


@dataclass(frozen=True, slots=True)
class Preferences:
    """The officer's choices in the app."""

    lang: Lang = "id"
    """Language of every string the app shows."""
    theme: str = DARK
    """``textual-dark`` or ``textual-light``."""

    def with_lang(self, lang: Lang) -> Preferences:
        """These preferences in another language."""
        return replace(self, lang=lang)

    def with_theme(self, theme: str) -> Preferences:
        """These preferences with another theme."""
        return replace(self, theme=theme if theme in (DARK, LIGHT) else DARK)


def prefs_path(settings: Settings) -> Path:
    """Where the preferences live: beside the vault."""
    return settings.home / PREFS_FILE


def load_prefs(settings: Settings) -> Preferences:
    """The remembered preferences, else the settings' language and the dark theme."""
    try:
        document = tomllib.loads(prefs_path(settings).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        document = {}
    lang = document.get("lang", settings.lang)
    theme = document.get("theme", DARK)
    return Preferences(
        lang="en" if lang == "en" else "id",
        theme=theme if theme in (DARK, LIGHT) else DARK,
    )


def save_prefs(settings: Settings, prefs: Preferences) -> None:
    """Remember ``prefs`` (the folder is made private if it has to be created)."""
    path = prefs_path(settings)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Both values are plain words, and a JSON string is a valid TOML basic string.
    text = f"lang = {json.dumps(prefs.lang)}\ntheme = {json.dumps(prefs.theme)}\n"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
