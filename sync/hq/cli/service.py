"""``fieldkit-hq init`` and ``fieldkit-hq serve``: set HQ up and run it."""

from __future__ import annotations

import click

from fieldkit import __version__, kdf
from fieldkit.domain.passphrase import passphrase_problem
from fieldkit.settings import Settings
from sync.hq import keys, store
from sync.hq.cli.common import (
    Failed,
    _passphrase,
    _print_json,
    _require_init,
    pass_settings,
)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_settings
def init(settings: Settings, as_json: bool) -> None:
    """Create HQ's keys and store in FIELDKIT_HQ_HOME.

    Generates HQ's encryption key pair (HPKE, ML-KEM-768 + X25519) and its Ed25519 signing
    key, sealed under a passphrase (Argon2id, at least 64 MiB), and creates or upgrades the
    store (SQLite in the home directory, or FIELDKIT_HQ_DB). Existing keys are never
    overwritten.
    """
    home = settings.hq_home
    if keys.keys_path(home).exists():
        raise Failed(f"HQ is already initialised in {home}; its keys are never overwritten.")
    secret = _passphrase(settings, confirm=True)
    weak = passphrase_problem(secret, officer_id="hq")
    if weak is not None:
        raise click.UsageError(weak.en, ctx=click.get_current_context())
    if settings.insecure_test_kdf:
        click.echo(kdf.INSECURE_WARNING.en, err=True)
    hq_keys = keys.create(home, secret, kdf.calibrate(insecure=settings.insecure_test_kdf))
    url = store.database_url(home, settings.hq_db)
    store.open_store(url).dispose()
    result = {
        "home": str(home),
        "database": store.redact(url),
        "hq_kid": hq_keys.current_kid,
        "hq_signing_kid": hq_keys.signing_kid,
    }
    if as_json:
        _print_json(result)
    else:
        click.echo(f"HQ initialised in {home}")
        click.echo(f"  store:            {result['database']}")
        click.echo(f"  encryption key:   {hq_keys.current_kid}")
        click.echo(f"  signing key:      {hq_keys.signing_kid}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8750,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="TCP port to listen on.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes; they share the store, so any number is safe.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    help="uvicorn's log level.",
)
@pass_settings
def serve(settings: Settings, host: str, port: int, workers: int, log_level: str) -> None:
    """Serve the HQ API (docs/PROTOCOL.md) with uvicorn.

    Unlocks HQ's keys (FIELDKIT_HQ_PASSPHRASE or a prompt) and migrates the store before
    listening. Put HQ behind a TLS-terminating proxy; it speaks plain HTTP.
    """
    from sync.hq import api, serving

    _require_init(settings.hq_home)
    secret = _passphrase(settings)
    config = api.server_config(settings, secret)
    engine = store.open_store(config.db_url)  # migrates once, before any worker starts
    engine.dispose()
    api.configure_logging()
    click.echo(
        f"fieldkit-hq {__version__}: store {store.redact(config.db_url)}, "
        f"HQ key {config.keys.current_kid}, http://{host}:{port} ({workers} worker(s))",
        err=True,
    )
    if not serving.serve(
        config, secret, host=host, port=port, workers=workers, log_level=log_level
    ):
        raise Failed("A worker could not start (see the log above); HQ stopped.")
