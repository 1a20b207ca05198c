"""What every ``fieldkit-hq`` command shares: exit codes, failures, settings and small helpers.

The group reads :class:`fieldkit.settings.Settings` once (``ctx.obj``); a command that needs
them takes them with :data:`pass_settings` and hands them to the helpers here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from fieldkit import files
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


# A passphrase is at most a few hundred bytes; a file far larger is not one.
MAX_PASSPHRASE_BYTES = 4096
PASSPHRASE_FILE_ENV = "FIELDKIT_HQ_PASSPHRASE_FILE"
ENV_WARNING = (
    f"{keys.PASSPHRASE_ENV} is set: HQ's passphrase stays readable in this process's "
    "/proc/<pid>/environ for as long as it runs. For a service use --passphrase-file, "
    f"{PASSPHRASE_FILE_ENV} or the systemd credential fieldkit-hq-passphrase (docs/hq.md)."
)


def _strip_newline(text: str) -> str:
    # Only the line end a file or pipe adds: spaces at the passphrase's ends are part of it.
    return text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text


def passphrase_from_file(path: Path) -> str:
    """HQ's passphrase from ``path``: a regular file only its owner can read, at most 4 KiB.

    One line end at its end is dropped. A file group or others may read is refused: the
    passphrase in it was exposed, so its mode is for the operator to fix (and the passphrase
    perhaps to change), not for HQ to hide.
    """
    try:
        data = files.read_regular(path, MAX_PASSPHRASE_BYTES)
        mode = os.stat(path, follow_symlinks=False).st_mode
    except OSError as exc:
        reason = exc.message.en if isinstance(exc, files.UnsafeFile) else exc.strerror
        raise Failed(f"Cannot read HQ's passphrase file {path}: {reason}") from None
    if mode & 0o077:
        raise Failed(
            f"HQ's passphrase file {path} can be read by group or others (mode "
            f"{mode & 0o777:04o}); chmod 600 it (and consider changing the passphrase)."
        )
    return _passphrase_text(data, str(path))


def passphrase_from_fd(fd: int) -> str:
    """HQ's passphrase read from file descriptor ``fd`` to its end (at most 4 KiB), then closed."""
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= MAX_PASSPHRASE_BYTES and (chunk := os.read(fd, 1024)):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise Failed(f"Cannot read HQ's passphrase from descriptor {fd}: {exc.strerror}") from None
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
    data = b"".join(chunks)
    if len(data) > MAX_PASSPHRASE_BYTES:
        raise Failed(f"Descriptor {fd} holds more than {MAX_PASSPHRASE_BYTES} bytes.")
    return _passphrase_text(data, f"descriptor {fd}")


def _passphrase_text(data: bytes, where: str) -> str:
    try:
        secret = _strip_newline(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise Failed(f"HQ's passphrase in {where} is not UTF-8 text.") from None
    if not secret:
        raise Failed(f"HQ's passphrase in {where} is empty.")
    return secret


def _passphrase(
    settings: Settings,
    *,
    confirm: bool = False,
    file: Path | None = None,
    fd: int | None = None,
) -> str:
    """HQ's passphrase, from the first source given.

    ``fd``, else ``file`` or the ``hq_passphrase_file`` setting (a systemd credential
    included), else ``FIELDKIT_HQ_PASSPHRASE`` (tests and development: it stays in
    ``/proc/<pid>/environ``; :data:`ENV_WARNING`), else a prompt on a terminal.
    """
    if fd is not None:
        return passphrase_from_fd(fd)
    path = file or settings.hq_passphrase_file
    if path is not None:
        return passphrase_from_file(path)
    if settings.hq_passphrase:
        return settings.hq_passphrase
    if not sys.stdin.isatty():
        raise Failed(
            f"Set {PASSPHRASE_FILE_ENV} (or {keys.PASSPHRASE_ENV} for tests) or run on a "
            "terminal to type HQ's passphrase."
        )
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
