"""The vault's file in its folder (the folder is ``Settings.home``, see fieldkit.settings)."""

from __future__ import annotations

from pathlib import Path

VAULT_FILE = "vault.db"


def vault_path(home: Path) -> Path:
    """Return the path of the vault's SQLite file in ``home``."""
    return home / VAULT_FILE
