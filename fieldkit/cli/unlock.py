"""How vault commands unlock the vault as an officer.

The officer comes from ``--officer`` or ``FIELDKIT_OFFICER``; the passphrase from an
interactive prompt, or ``FIELDKIT_PASSPHRASE`` for automation (both read once into the
settings). The vault lives in ``FIELDKIT_HOME`` (default: the platform's user data directory).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from fieldkit.cli.output import cli, print_warnings
from fieldkit.service import session as officer_session
from fieldkit.service.session import OfficerSession

OFFICER_ENV = "FIELDKIT_OFFICER"

F = TypeVar("F", bound=Callable[..., object])


def default_officer() -> str | None:
    """The officer from the settings (``FIELDKIT_OFFICER`` or the configuration file)."""
    return cli().settings.officer


def officer_option(func: F) -> F:
    """The ``--officer`` option every unlocking command takes."""
    return click.option(
        "--officer",
        "officer_id",
        default=default_officer,
        required=True,
        help=f"Officer id that unlocks the vault (or {OFFICER_ENV}).",
    )(func)  # type: ignore[return-value]


def read_passphrase(
    prompt_id: str, prompt_en: str, *, given: str | None, confirm: bool = False
) -> str:
    """The passphrase ``given`` by the settings (from the environment), else a hidden prompt."""
    if given:
        return given
    return click.prompt(
        cli().say(prompt_id, prompt_en), hide_input=True, confirmation_prompt=confirm
    )


def open_session(officer_id: str) -> OfficerSession:
    """Unlock the vault as ``officer_id``; a revoked officer is refused before the prompt."""
    c = cli()
    session = officer_session.unlock(
        c.settings,
        officer_id,
        lambda: read_passphrase("Kata sandi", "Passphrase", given=c.settings.passphrase),
    )
    print_warnings(session.warnings)
    return session
