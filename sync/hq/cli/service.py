"""``fieldkit-hq init`` and ``fieldkit-hq serve``: set HQ up and run it."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import click

from fieldkit import __version__, kdf
from fieldkit.domain.passphrase import passphrase_problem
from fieldkit.settings import Settings
from sync.hq import keys, store
from sync.hq.cli.common import (
    ENV_WARNING,
    Failed,
    Misconfigured,
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
@click.option(
    "--tls-cert",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Serve HTTPS with this PEM certificate (chain); or FIELDKIT_HQ_TLS_CERT.",
)
@click.option(
    "--tls-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The PEM private key of --tls-cert; or FIELDKIT_HQ_TLS_KEY.",
)
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read HQ's passphrase from this file (mode 0600); or FIELDKIT_HQ_PASSPHRASE_FILE, "
    "or the systemd credential fieldkit-hq-passphrase.",
)
@click.option(
    "--passphrase-fd",
    type=click.IntRange(0),
    help="Read HQ's passphrase from this open file descriptor (to its end), then close it.",
)
@pass_settings
def serve(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    log_level: str,
    tls_cert: Path | None,
    tls_key: Path | None,
    passphrase_file: Path | None,
    passphrase_fd: int | None,
) -> None:
    """Serve the HQ API (docs/PROTOCOL.md) with uvicorn.

    Unlocks HQ's keys and migrates the store before listening. For a service, give the
    passphrase in a file (--passphrase-file, FIELDKIT_HQ_PASSPHRASE_FILE or the systemd
    credential fieldkit-hq-passphrase) or a descriptor (--passphrase-fd); FIELDKIT_HQ_PASSPHRASE
    stays readable in /proc/<pid>/environ (tests and development only; a warning says so).
    With --tls-cert and --tls-key HQ speaks HTTPS itself; otherwise plain HTTP, for a
    TLS-terminating proxy in front or this machine only.
    """
    from sync.hq import api, serving

    _require_init(settings.hq_home)
    tls = _tls_files(tls_cert or settings.hq_tls_cert, tls_key or settings.hq_tls_key)
    secret = _passphrase(settings, file=passphrase_file, fd=passphrase_fd)
    config = api.server_config(settings, secret)
    engine = store.open_store(config.db_url)  # migrates once, before any worker starts
    engine.dispose()
    api.configure_logging()
    if settings.hq_passphrase:  # in this process's environment, whatever source was used
        logging.getLogger("fieldkit.hq").warning("%s", ENV_WARNING)
    scheme = "https" if tls else "http"
    click.echo(
        f"fieldkit-hq {__version__}: store {store.redact(config.db_url)}, "
        f"HQ key {config.keys.current_kid}, {scheme}://{host}:{port} ({workers} worker(s))",
        err=True,
    )
    if not serving.serve(
        config, secret, host=host, port=port, workers=workers, log_level=log_level, tls=tls
    ):
        raise Failed("A worker could not start (see the log above); HQ stopped.")


def _tls_files(cert: Path | None, key: Path | None) -> tuple[Path, Path] | None:
    """The certificate and key HQ serves HTTPS with, checked to load together; or None.

    Checked here so a wrong path or a key of another certificate is one clear line before
    anything listens, not a traceback in each worker.
    """
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise Misconfigured("Give both --tls-cert and --tls-key (or neither, for plain HTTP).")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror or str(exc)
        raise Misconfigured(
            f"Cannot use the TLS certificate {cert} with key {key}: {reason}"
        ) from None
    if key.stat().st_mode & 0o077:
        logging.getLogger("fieldkit.hq").warning(
            "The TLS key %s can be read by group or others; chmod 600 it.", key
        )
    return cert, key
