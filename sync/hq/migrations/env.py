"""Alembic environment for HQ's store.

HQ runs migrations from code (:func:`sync.hq.store.migrate`), handing over an open connection in
``config.attributes["connection"]``; a ``sqlalchemy.url`` main option serves the developer who
writes a new revision with autogenerate.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from sync.hq.store import metadata

config = context.config


def _run(connection: sa.engine.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate over the connection HQ passed in, or one made from ``sqlalchemy.url``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("HQ's migrations run online only (sync.hq.store.migrate).")
run_migrations_online()
