"""What every ``fieldkit-hq`` command shares: exit codes, failures, settings and small helpers.

The group reads :class:`fieldkit.settings.Settings` once (``ctx.obj``); a command that needs
them takes them with :data:`pass_settings` and hands them to the helpers here.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from fieldkit.settings import Settings
from sync.hq import keys, store

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3


class Failed(click.ClickException):
    """A failure reported on standard error with exit code 1."""

    exit_code = EXIT_FAILED

    def show(self, file: Any = None) -> None:
        """Print the message without click's "Error:" decoration in English only."""
        click.echo(f"fieldkit-hq: {self.format_message()}", err=True)


class Misconfigured(Failed):
    """A setting (in the settings file or the environment) HQ cannot use: exit code 2."""

    exit_code = EXIT_USAGE


pass_settings = click.make_pass_decorator(Settings)
"""Hands a command the settings the ``fieldkit-hq`` group read (its first argument)."""


def _passphrase(settings: Settings, *, confirm: bool = False) -> str:
    if settings.hq_passphrase:
        return settings.hq_passphrase
    if not sys.stdin.isatty():
        raise Failed(f"Set {keys.PASSPHRASE_ENV} or run on a terminal to type HQ's passphrase.")
    return str(
        click.prompt("HQ passphrase", hide_input=True, confirmation_prompt=confirm, err=True)
    )


def _require_init(home: Path) -> None:
    if not keys.keys_path(home).exists():
        raise keys.NotInitialised(
            f"No HQ in {home}. Run `fieldkit-hq init` (or set {keys.HOME_ENV})."
        )


def _engine(settings: Settings) -> sa.Engine:
    _require_init(settings.hq_home)
    return store.open_store(store.database_url(settings.hq_home, settings.hq_db))


def _print_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))


_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``24h``, ``7d``, ``2w`` or combinations such as ``1d12h``."""
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise click.BadParameter(f"{text!r} is not a duration such as 30m, 24h or 7d.")
    total = timedelta()
    for number, unit in parts:
        total += timedelta(**{_UNITS[unit]: int(number)})
    if total <= timedelta(0) or total > timedelta(days=90):
        raise click.BadParameter("choose a duration between 1 second and 90 days.")
    return total


def _ranges(numbers: list[int]) -> str:
    out: list[str] = []
    for n in numbers:
        if out and out[-1].rsplit("–", 1)[-1] == str(n - 1):
            out[-1] = out[-1].split("–")[0] + f"–{n}"
        else:
            out.append(str(n))
    return ", ".join(out)


def _read_json_file(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise click.BadParameter(f"{path} is not a readable UTF-8 JSON file ({exc}).") from None


def _print_findings(findings: list[tuple[int, Any]]) -> None:
    for number, finding in findings:
        where = f"#{number} " if number else ""
        label = "ERROR" if finding.is_error else "WARNING"
        click.echo(
            f"{label} {where}{finding.field}: [{finding.code}] {finding.message.en}", err=True
        )


def _invalid(findings: list[tuple[int, Any]], what: str) -> None:
    _print_findings(findings)
    click.echo(f"fieldkit-hq: {what} refused; nothing was published.", err=True)
    sys.exit(EXIT_USAGE)
