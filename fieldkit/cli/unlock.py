"""How vault commands find the vault and unlock it.

The officer comes from ``--officer`` or ``FIELDKIT_OFFICER``; the passphrase from an
interactive prompt, or ``FIELDKIT_PASSPHRASE`` for automation. The vault lives in
``FIELDKIT_HOME`` (default: the platform's user data directory).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

import click

from fieldkit.cli.output import settings
from fieldkit.vault import syncstate
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.vault import Vault

PASSPHRASE_ENV = "FIELDKIT_PASSPHRASE"
OFFICER_ENV = "FIELDKIT_OFFICER"

F = TypeVar("F", bound=Callable[..., object])


def officer_option(func: F) -> F:
    """The ``--officer`` option every unlocking command takes."""
    return click.option(
        "--officer",
        "officer_id",
        envvar=OFFICER_ENV,
        required=True,
        help=f"Officer id that unlocks the vault (or {OFFICER_ENV}).",
    )(func)  # type: ignore[return-value]


def read_passphrase(
    prompt_id: str, prompt_en: str, *, env: str = PASSPHRASE_ENV, confirm: bool = False
) -> str:
    """The passphrase from ``env`` if set, else from a hidden prompt."""
    from_env = os.environ.get(env)
    if from_env:
        return from_env
    return click.prompt(
        settings().say(prompt_id, prompt_en), hide_input=True, confirmation_prompt=confirm
    )


def open_session(officer_id: str) -> UnlockedVault:
    """Open the vault and unlock it as ``officer_id``."""
    vault = Vault.open()
    # An officer HQ revoked is refused before a passphrase is even asked for.
    syncstate.refuse_revoked_officer(vault, officer_id)
    passphrase = read_passphrase("Kata sandi", "Passphrase")
    return vault.unlock(officer_id, passphrase)
