"""The ``fieldkit-hq`` command: HQ's operator surface.

One module per command group: ``service`` (init, serve), ``devices``, ``hq_keys``,
``rosters``, ``reference_data`` (fees, watchlist, officer), ``importing`` and ``summary``
(status); ``common`` holds the exit codes and helpers they share.
"""

from __future__ import annotations

import click
import sqlalchemy as sa

from fieldkit import __version__, files
from fieldkit.settings import SettingsError, load_settings
from sync.hq import keys
from sync.hq.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    Failed,
    Misconfigured,
    parse_duration,
)
from sync.hq.cli.devices import device, device_list, device_revoke, enroll_code
from sync.hq.cli.hq_keys import keys_group, keys_list, keys_retire, keys_rotate
from sync.hq.cli.importing import import_dir
from sync.hq.cli.reference_data import (
    fees,
    fees_publish,
    officer,
    officer_revoke,
    watchlist,
    watchlist_import,
)
from sync.hq.cli.rosters import (
    MAX_REASON_CHARS,
    roster,
    roster_assign,
    roster_list,
    roster_withdraw,
)
from sync.hq.cli.service import init, serve
from sync.hq.cli.summary import status

__all__ = [
    "EPILOG",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "MAX_REASON_CHARS",
    "Failed",
    "HQGroup",
    "Misconfigured",
    "device",
    "device_list",
    "device_revoke",
    "enroll_code",
    "fees",
    "fees_publish",
    "import_dir",
    "init",
    "keys_group",
    "keys_list",
    "keys_retire",
    "keys_rotate",
    "main",
    "officer",
    "officer_revoke",
    "parse_duration",
    "roster",
    "roster_assign",
    "roster_list",
    "roster_withdraw",
    "serve",
    "status",
    "watchlist",
    "watchlist_import",
]

EPILOG = """\b
Exit codes: 0 success; 1 failed (not initialised, wrong passphrase, unknown
device, database unreachable); 2 usage error or invalid input; 3 `import`:
at least one file was refused.
Environment: FIELDKIT_HQ_HOME (keys and the SQLite store), FIELDKIT_HQ_DB
(postgresql://… for PostgreSQL), FIELDKIT_HQ_PASSPHRASE_FILE (a 0600 file with
HQ's passphrase, for services; or the systemd credential fieldkit-hq-passphrase),
FIELDKIT_HQ_PASSPHRASE (tests only: it stays in /proc/<pid>/environ; otherwise
asked), FIELDKIT_HQ_TLS_CERT and FIELDKIT_HQ_TLS_KEY (serve HTTPS),
FIELDKIT_INSECURE_TEST_KDF=1 (tests only)."""


class HQGroup(click.Group):
    """Turns key and database errors into messages and exit code 1."""

    def invoke(self, ctx: click.Context) -> object:
        """Run the command, reporting known failures without a traceback."""
        try:
            return super().invoke(ctx)
        except keys.KeysError as exc:
            raise Failed(str(exc)) from None
        except files.UnsafeFile as exc:  # a shared or foreign folder for HQ's files
            raise Failed(exc.message.en) from None
        except sa.exc.OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise Failed(f"Cannot use the database: {reason}") from None


@click.group(
    cls=HQGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EPILOG,
)
@click.version_option(__version__, prog_name="fieldkit-hq")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Run and administer the fieldkit HQ service.

    HQ receives sealed batches from field devices, publishes signed reference data and lets
    HQ staff reconcile visits. Configuration comes from the environment (FIELDKIT_HQ_HOME,
    FIELDKIT_HQ_DB).
    """
    # Read once, here, for every command (a caller may have given them: ``obj=``).
    if ctx.obj is None:
        try:
            ctx.obj = load_settings()
        except SettingsError as exc:
            raise Misconfigured(str(exc)) from None


for _command in (
    init,
    serve,
    device,
    keys_group,
    roster,
    fees,
    watchlist,
    officer,
    import_dir,
    status,
):
    main.add_command(_command)


del _command
