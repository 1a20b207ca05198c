"""How CLI commands report: the chosen language, findings, JSON and exit codes."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import click

from fieldkit.domain.findings import LANGS, Checked, Finding, Lang

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_INTEGRITY = 3

LANG_ENV = "FIELDKIT_LANG"


@dataclass(frozen=True)
class Settings:
    """What every command needs to know about how to talk to its user."""

    lang: Lang

    def say(self, id: str, en: str) -> str:
        """Pick the sentence for the chosen language."""
        return en if self.lang == "en" else id


def lang_from_env() -> Lang:
    """Return FIELDKIT_LANG when it names a supported language, else Indonesian."""
    value = os.environ.get(LANG_ENV, "id").strip().lower()
    return value if value in LANGS else "id"  # type: ignore[return-value]


def settings() -> Settings:
    """Return the settings of the running command (see the ``fieldkit`` group)."""
    ctx = click.get_current_context()
    found = ctx.find_object(Settings)
    return found if found is not None else Settings(lang_from_env())


def print_findings(findings: Iterable[Finding], lang: Lang) -> None:
    """Print each finding on its own line, errors before warnings, to standard error."""
    ordered = sorted(findings, key=lambda f: not f.is_error)
    for finding in ordered:
        label = {
            ("id", True): "KESALAHAN",
            ("id", False): "PERINGATAN",
            ("en", True): "ERROR",
            ("en", False): "WARNING",
        }[(lang, finding.is_error)]
        click.echo(f"{label} [{finding.code}] {finding.text(lang)}", err=True)


def print_numbered_findings(findings: Iterable[tuple[int, Finding]], lang: Lang) -> None:
    """Print findings that belong to numbered items (rows, JSON Lines): ``#3 nik: …``."""
    for number, finding in findings:
        where = f"#{number} " if number else ""
        click.echo(f"  {where}{finding.field}: [{finding.code}] {finding.text(lang)}", err=True)


def finish(
    checked: Checked[Any],
    *,
    as_json: bool,
    value_json: Mapping[str, Any] | None,
    lines: Iterable[tuple[str, str]] = (),
    title: str = "",
) -> NoReturn:
    """Report a rule's outcome and exit: 0 when valid (warnings allowed), 2 when invalid.

    ``value_json`` is the JSON form of the parsed value; ``lines`` are (label, value) pairs for
    people; ``title`` heads the human report.
    """
    lang = settings().lang
    if as_json:
        document = {
            "valid": checked.ok,
            "value": value_json if checked.ok else None,
            "findings": [f.as_dict(lang) for f in checked.findings],
        }
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        if checked.ok:
            click.echo(title)
            for label, value in lines:
                click.echo(f"  {label}: {value}")
        print_findings(checked.findings, lang)
    sys.exit(EXIT_OK if checked.ok else EXIT_INVALID)


def print_json(document: object) -> None:
    """Print a JSON document (UTF-8, indented) to standard output."""
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))
