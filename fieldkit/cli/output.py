"""How CLI commands report: the chosen language, findings, JSON, errors and exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, NoReturn, TypeVar

import click

from fieldkit.domain.findings import Checked, Finding, Lang
from fieldkit.settings import Settings, load_settings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_INTEGRITY = 3

LANG_ENV = "FIELDKIT_LANG"
JSON_HELP = "Print the result as JSON."
# Set in the context's shared ``meta`` by ``--json``: errors are then reported as JSON too.
JSON_META = "fieldkit.json"

F = TypeVar("F", bound=Callable[..., object])


@dataclass(frozen=True)
class Cli:
    """What every command knows: the settings (read once) and the language it talks in."""

    settings: Settings

    @property
    def lang(self) -> Lang:
        """The language of messages."""
        return self.settings.lang

    def say(self, id: str, en: str) -> str:
        """Pick the sentence for the chosen language."""
        return en if self.lang == "en" else id


def make_cli(lang: str | None) -> Cli:
    """Read the settings once; ``--lang`` (when given) wins over ``FIELDKIT_LANG``."""
    settings = load_settings()
    if lang is not None:
        settings = replace(settings, lang=lang)  # type: ignore[arg-type]
    return Cli(settings)


def cli() -> Cli:
    """The running command's :class:`Cli` (made once by the ``fieldkit`` group)."""
    ctx = click.get_current_context()
    found = ctx.find_object(Cli)
    if found is None:  # a command invoked on its own, outside the group (tests)
        found = make_cli(None)
        ctx.find_root().obj = found
    return found


def _remember_json(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.meta[JSON_META] = True
    return value


def json_option(func: F) -> F:
    """``--json``: print the result, and any error, as JSON on standard output."""
    return click.option("--json", "as_json", is_flag=True, help=JSON_HELP, callback=_remember_json)(
        func
    )  # type: ignore[return-value]


def wants_json(ctx: click.Context) -> bool:
    """True when the command line asked for JSON (``--json``)."""
    return bool(ctx.meta.get(JSON_META))


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


def error_json(
    kind: str,
    message: str,
    exit_code: int,
    findings: Iterable[tuple[int, Finding]],
    lang: Lang,
    code: str | None = None,
) -> dict[str, object]:
    """An error as ``--json`` prints it: ``{"ok": false, "error": {…}}``.

    ``code`` is the stable dotted code of a counter rule's refusal (``visit.undecided``), for
    scripts that tell one refusal from another.
    """
    return {
        "ok": False,
        "error": {
            "kind": kind,
            **({"code": code} if code is not None else {}),
            "message": message,
            "exit_code": exit_code,
            "findings": [
                {**({"item": number} if number else {}), **finding.as_dict(lang)}
                for number, finding in findings
            ],
        },
    }


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
    lang = cli().lang
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


def print_warnings(warnings: Iterable[object]) -> None:
    """Print what the officer must be told (e.g. about the unlock) to standard error."""
    lang = cli().lang
    for warning in warnings:
        click.echo(warning.text(lang), err=True)  # type: ignore[attr-defined]


class ProgressBar:
    """A progress bar on standard error for long work; its length grows if the total does.

    Shown only when ``enabled`` and the total reaches ``min_total`` (below it the work is quick
    and a bar would only flicker). Pass it as the ``progress(done, total)`` callback.
    """

    def __init__(self, label: str, *, enabled: bool = True, min_total: int = 1) -> None:
        self.label = label
        self.enabled = enabled
        self.min_total = min_total
        self.bar: Any = None
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        """Advance the bar to ``done`` of ``total``."""
        if not self.enabled or total < self.min_total:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.length = max(self.bar.length, total)
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        """Finish the bar's line (safe to call twice)."""
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
