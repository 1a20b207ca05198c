"""The programs in ``tests/support`` that tests run in a child process, and how to start them.

A program is run by its path (so the child's working directory, which some tests point at an
empty directory that must stay empty, is not on its import path) with the repository root on
``PYTHONPATH`` (so it imports ``tests.support`` wherever it runs).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

SUPPORT = Path(__file__).resolve().parent
ROOT = SUPPORT.parents[1]


def program(name: str, *args: str) -> list[str]:
    """The command line that runs ``tests/support/<name>.py`` with ``args``."""
    return [sys.executable, str(SUPPORT / f"{name}.py"), *args]


def program_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``env`` (this process's environment by default) with the repository root on PYTHONPATH."""
    base = dict(os.environ if env is None else env)
    paths = [str(ROOT), *filter(None, base.get("PYTHONPATH", "").split(os.pathsep))]
    base["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return base
