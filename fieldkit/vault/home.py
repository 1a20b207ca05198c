"""Where the vault lives: ``FIELDKIT_HOME``, or the platform's user data directory."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

HOME_ENV = "FIELDKIT_HOME"
VAULT_FILE = "vault.db"


def vault_home() -> Path:
    """Return the directory that holds the vault (not created here)."""
    configured = os.environ.get(HOME_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_data_dir("fieldkit", appauthor=False))


def vault_path(home: Path | None = None) -> Path:
    """Return the path of the vault's SQLite file."""
    return (home or vault_home()) / VAULT_FILE
