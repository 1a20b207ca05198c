"""The ``fieldkit-hq`` console script: the HQ command, or a clear word when the extra is missing.

A field laptop installs fieldkit without the ``hq`` extra (FastAPI, uvicorn, SQLAlchemy,
Alembic, psycopg); running ``fieldkit-hq`` there says what to install instead of a traceback.
"""

from __future__ import annotations

import sys

HQ_PACKAGES = frozenset({"fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "psycopg"})
EXIT_FAILED = 1


def main() -> None:
    """Run ``fieldkit-hq``."""
    try:
        from sync.hq.cli import main as hq_main  # the HQ packages load only here
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in HQ_PACKAGES:
            raise
        print(
            f"fieldkit-hq: the HQ service needs the 'hq' extra ({exc.name} is not installed): "
            "pip install 'fieldkit[hq]'",
            file=sys.stderr,
        )
        sys.exit(EXIT_FAILED)
    hq_main()
