"""The ``fieldkit-hq`` command: HQ's operator surface."""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from fieldkit import __version__
from sync import envelope
from sync.hq import keys, store

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3

EPILOG = """\b
Exit codes: 0 success; 1 failed (not initialised, wrong passphrase, unknown
device, database unreachable); 2 usage error or invalid input; 3 `import`:
at least one file was refused.
Environment: FIELDKIT_HQ_HOME (keys and the SQLite store), FIELDKIT_HQ_DB
(postgresql://… for PostgreSQL), FIELDKIT_HQ_PASSPHRASE (for scripts and
services; otherwise asked), FIELDKIT_INSECURE_TEST_KDF=1 (tests only)."""


class Failed(click.ClickException):
    """A failure reported on standard error with exit code 1."""

    exit_code = EXIT_FAILED

    def show(self, file: Any = None) -> None:
        """Print the message without click's "Error:" decoration in English only."""
        click.echo(f"fieldkit-hq: {self.format_message()}", err=True)


class HQGroup(click.Group):
    """Turns key and database errors into messages and exit code 1."""

    def invoke(self, ctx: click.Context) -> object:
        """Run the command, reporting known failures without a traceback."""
        try:
            return super().invoke(ctx)
        except keys.KeysError as exc:
            raise Failed(str(exc)) from None
        except sa.exc.OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise Failed(f"Cannot use the database: {reason}") from None


@click.group(
    cls=HQGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EPILOG,
)
@click.version_option(__version__, prog_name="fieldkit-hq")
def main() -> None:
    """Run and administer the fieldkit HQ service.

    HQ receives sealed batches from field devices, publishes signed reference data and lets
    HQ staff reconcile visits. Configuration comes from the environment (FIELDKIT_HQ_HOME,
    FIELDKIT_HQ_DB).
    """


# --- helpers ---------------------------------------------------------------------------------


def _home() -> Path:
    return keys.hq_home()


def _passphrase(*, confirm: bool = False) -> str:
    secret = os.environ.get(keys.PASSPHRASE_ENV)
    if secret:
        return secret
    if not sys.stdin.isatty():
        raise Failed(f"Set {keys.PASSPHRASE_ENV} or run on a terminal to type HQ's passphrase.")
    return str(
        click.prompt("HQ passphrase", hide_input=True, confirmation_prompt=confirm, err=True)
    )


def _require_init(home: Path) -> None:
    if not keys.keys_path(home).exists():
        raise keys.NotInitialised(
            f"No HQ in {home}. Run `fieldkit-hq init` (or set {keys.HOME_ENV})."
        )


def _engine(home: Path) -> sa.Engine:
    _require_init(home)
    return store.open_store(store.database_url(home))


def _print_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))


_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``24h``, ``7d``, ``2w`` or combinations such as ``1d12h``."""
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise click.BadParameter(f"{text!r} is not a duration such as 30m, 24h or 7d.")
    total = timedelta()
    for number, unit in parts:
        total += timedelta(**{_UNITS[unit]: int(number)})
    if total <= timedelta(0) or total > timedelta(days=90):
        raise click.BadParameter("choose a duration between 1 second and 90 days.")
    return total


# --- init and serve --------------------------------------------------------------------------


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def init(as_json: bool) -> None:
    """Create HQ's keys and store in FIELDKIT_HQ_HOME.

    Generates HQ's encryption key pair (HPKE, ML-KEM-768 + X25519) and its Ed25519 signing
    key, sealed under a passphrase (Argon2id, at least 64 MiB), and creates or upgrades the
    store (SQLite in the home directory, or FIELDKIT_HQ_DB). Existing keys are never
    overwritten.
    """
    from fieldkit.vault import kdf
    from fieldkit.vault.passphrase import passphrase_problem

    home = _home()
    if keys.keys_path(home).exists():
        raise Failed(f"HQ is already initialised in {home}; its keys are never overwritten.")
    secret = _passphrase(confirm=True)
    weak = passphrase_problem(secret, officer_id="hq")
    if weak is not None:
        raise click.UsageError(weak.en, ctx=click.get_current_context())
    hq_keys = keys.create(home, secret, kdf.calibrate())
    url = store.database_url(home)
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


@main.command()
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
def serve(host: str, port: int, workers: int, log_level: str) -> None:
    """Serve the HQ API (docs/PROTOCOL.md) with uvicorn.

    Unlocks HQ's keys (FIELDKIT_HQ_PASSPHRASE or a prompt) and migrates the store before
    listening. Put HQ behind a TLS-terminating proxy; it speaks plain HTTP.
    """
    from sync.hq import app as hq_app
    from sync.hq import serving

    home = _home()
    _require_init(home)
    secret = _passphrase()
    settings = hq_app.settings_from_env(secret)
    engine = store.open_store(settings.db_url)  # migrates once, before any worker starts
    engine.dispose()
    hq_app.configure_logging()
    click.echo(
        f"fieldkit-hq {__version__}: store {store.redact(settings.db_url)}, "
        f"HQ key {settings.keys.current_kid}, http://{host}:{port} ({workers} worker(s))",
        err=True,
    )
    if not serving.serve(
        settings, secret, host=host, port=port, workers=workers, log_level=log_level
    ):
        raise Failed("A worker could not start (see the log above); HQ stopped.")


# --- devices ---------------------------------------------------------------------------------


@main.group()
def device() -> None:
    """Enroll, list and revoke field devices."""


@device.command("enroll-code")
@click.option(
    "--expires",
    default="24h",
    show_default=True,
    metavar="DURATION",
    help="How long the code stays valid: 30m, 24h, 7d …",
)
@click.option("--json", "as_json", is_flag=True, help="Print the code and expiry as JSON.")
def enroll_code(expires: str, as_json: bool) -> None:
    """Make a one-time enrollment code for one device.

    Read the code to the device's supervisor; it works once, until it expires. HQ stores only
    its hash.
    """
    lifetime = parse_duration(expires)
    engine = _engine(_home())
    code, expires_at = store.create_enroll_code(engine, lifetime)
    if as_json:
        _print_json({"code": code, "expires_at": store.iso(expires_at)})
    else:
        click.echo(code)
        click.echo(f"valid until {store.iso(expires_at)} (one device, once)", err=True)


@device.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the devices as JSON.")
def device_list(as_json: bool) -> None:
    """List enrolled devices with their batches and missing sequence numbers."""
    statuses = store.device_statuses(_engine(_home()))
    if as_json:
        _print_json([s.as_json() for s in statuses])
        return
    if not statuses:
        click.echo("No devices enrolled.")
        return
    for s in statuses:
        d = s.device
        state = f"REVOKED {store.iso(d.revoked_at)}" if d.revoked_at else "active"
        missing = f", missing {_ranges(s.missing)}" if s.missing else ""
        click.echo(
            f"{d.device_id}  {state}  enrolled {store.iso(d.enrolled_at)}  "
            f"batches {s.batches} (last seq {s.last_seq or '-'}{missing})  records {s.records}"
        )
        if d.revoke_reason:
            click.echo(f"    reason: {d.revoke_reason}")


@device.command("revoke")
@click.argument("device_id")
@click.option("--reason", default=None, help="Why the device is revoked (lost, stolen …).")
def device_revoke(device_id: str, reason: str | None) -> None:
    """Revoke a device: HQ refuses its batches from now on (403 device-revoked)."""
    revoked = store.revoke_device(_engine(_home()), device_id, reason)
    if revoked is None:
        raise Failed(f"No device {device_id}.")
    click.echo(f"Device {device_id} revoked at {store.iso(revoked.revoked_at)}.")  # type: ignore[arg-type]


def _ranges(numbers: list[int]) -> str:
    out: list[str] = []
    for n in numbers:
        if out and out[-1].rsplit("–", 1)[-1] == str(n - 1):
            out[-1] = out[-1].split("–")[0] + f"–{n}"
        else:
            out.append(str(n))
    return ", ".join(out)


# --- HQ's keys -------------------------------------------------------------------------------


@main.group("keys")
def keys_group() -> None:
    """HQ's encryption keys: list them, rotate to a new one, retire an old one."""


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the keys as JSON.")
def keys_list(as_json: bool) -> None:
    """List HQ's encryption keys and its signing key id (public parts only; no passphrase)."""
    home = _home()
    _require_init(home)
    summary = keys.public_summary(home)
    if as_json:
        _print_json(summary)
        return
    for entry in summary["encryption_keys"]:  # type: ignore[attr-defined]
        state = (
            "current"
            if entry["kid"] == summary["current_kid"]
            else f"retired {entry['retired_at']}"
            if entry["retired_at"]
            else "accepted"
        )
        click.echo(f"encryption {entry['kid']}  created {entry['created_at']}  {state}")
    click.echo(f"signing    {summary['signing_kid']}")


@keys_group.command("rotate")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def keys_rotate(as_json: bool) -> None:
    """Make a new current encryption key; batches sealed to older keys stay accepted.

    Devices receive the new key with their next reference data (signed with HQ's unchanged
    signing key) and seal later batches to it. Restart `serve` afterwards: until then its
    workers answer reference requests with 503 keys-changing, which devices retry.
    """
    home = _home()
    _require_init(home)
    rotated = keys.rotate_encryption_key(home, _passphrase())
    version = store.note_hq_keys(_engine(home), rotated.current_kid)
    result = {"current_kid": rotated.current_kid, "reference_version": version}
    if as_json:
        _print_json(result)
    else:
        click.echo(
            f"HQ key {rotated.current_kid} is now current (reference version {version}). "
            "Restart `fieldkit-hq serve`; retire the old key once every device has synced."
        )


@keys_group.command("retire")
@click.argument("kid")
@click.option(
    "--force",
    is_flag=True,
    help="Retire even though some devices may still hold batches sealed to the key.",
)
def keys_retire(kid: str, force: bool) -> None:
    """Stop accepting batches sealed to encryption key KID (never the current one).

    Refused (exit 1) while an active device may still hold batches sealed to KID: one that
    has not yet sent a batch sealed to a newer key, or whose earlier batches have not all
    arrived. Such batches are cut once and would be refused forever.
    """
    home = _home()
    _require_init(home)
    summary = keys.public_summary(home)
    kids = [str(e["kid"]) for e in summary["encryption_keys"]]  # type: ignore[attr-defined]  # oldest first
    if kid not in kids:
        raise Failed(f"No encryption key {kid}.")
    if kid == summary["current_kid"]:
        raise Failed("The current encryption key cannot be retired; rotate first.")
    blockers = store.retirement_blockers(_engine(home), kid, kids[kids.index(kid) + 1 :])
    for device_id, reason in blockers:
        click.echo(f"device {device_id}: {reason}", err=True)
    if blockers and not force:
        raise Failed(
            f"{len(blockers)} active device(s) may still send batches sealed to {kid}; "
            "let them sync first (or revoke them, or use --force)."
        )
    keys.retire_encryption_key(home, _passphrase(), kid)
    note = f" despite {len(blockers)} device(s) above" if blockers else ""
    click.echo(
        f"HQ key {kid} retired{note}. Restart `fieldkit-hq serve`: running workers keep "
        "accepting it until they restart."
    )


# --- reference data ----------------------------------------------------------------------------


def _read_json_file(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise click.BadParameter(f"{path} is not a readable UTF-8 JSON file ({exc}).") from None


def _print_findings(findings: list[tuple[int, Any]]) -> None:
    for number, finding in findings:
        where = f"#{number} " if number else ""
        label = "ERROR" if finding.is_error else "WARNING"
        click.echo(
            f"{label} {where}{finding.field}: [{finding.code}] {finding.message.en}", err=True
        )


def _invalid(findings: list[tuple[int, Any]], what: str) -> None:
    _print_findings(findings)
    click.echo(f"fieldkit-hq: {what} refused; nothing was published.", err=True)
    sys.exit(EXIT_USAGE)


@main.group()
def roster() -> None:
    """Assign visits and their rosters to devices (delivered as reference data)."""


@roster.command("assign")
@click.option("--device", "device_id", required=True, help="The device that serves the visit.")
@click.option(
    "--visit-json",
    "visit_json",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='A JSON file {"visit": {kind, date, session, site, coordinator_name, '
    'coordinator_phone}, "entries": [{name, birth_date, nik, application_type, …}]}.',
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def roster_assign(device_id: str, visit_json: Path, as_json: bool) -> None:
    """Assign a visit and its roster entries to a device.

    Every entry is checked with the same rules as the device's roster import; one bad entry
    refuses the file (exit 2, findings by entry number, no values shown). The device receives
    the visit and entries at its next sync, with the ids printed here. Every assignment is a
    new visit id: a withdrawn visit is never assigned again (exit 1); assign a new one.
    """
    from sync.hq import reference

    raw = _read_json_file(visit_json)
    checked, findings = reference.check_roster_file(raw)
    if checked is None:
        _invalid(findings, "The roster")
        return
    engine = _engine(_home())
    try:
        version, assigned_at = store.assign_roster(
            engine, device_id, checked.visit_id, checked.visit, checked.entries
        )
    except (store.UnknownDevice, store.AssignmentRefused) as exc:
        raise Failed(str(exc)) from None
    _print_findings(checked.warnings)
    result = {
        "device_id": device_id,
        "visit_id": checked.visit_id,
        "entries": len(checked.entries),
        "assigned_at": store.iso(assigned_at),
        "reference_version": version,
    }
    if as_json:
        _print_json(result)
    else:
        click.echo(checked.visit_id)
        click.echo(
            f"{len(checked.entries)} roster entries assigned to device {device_id} "
            f"(reference version {version}).",
            err=True,
        )


@roster.command("list")
@click.option("--device", "device_id", default=None, help="Only this device's visits.")
@click.option("--json", "as_json", is_flag=True, help="Print the assignments as JSON.")
def roster_list(device_id: str | None, as_json: bool) -> None:
    """List assigned visits: visit id, device, date, session, site and number of entries.

    Withdrawn visits are listed too, marked WITHDRAWN with their time and reason.
    """
    rows = store.roster_list(_engine(_home()), device_id)
    items = [_roster_item(r) for r in rows]
    if as_json:
        _print_json(items)
        return
    if not items:
        click.echo("No visits assigned.")
    for item in items:
        click.echo(
            f"{item['visit_id']}  device {item['device_id']}  {item['date']} {item['session']}  "
            f"{item['site']}  {item['entries']} entries"
        )
        if item["withdrawn_at"] is not None:
            click.echo(f"    WITHDRAWN {item['withdrawn_at']}: {item['withdraw_reason']}")


def _roster_item(row: dict[str, Any]) -> dict[str, Any]:
    """One assignment as ``roster list`` shows it."""
    withdrawn_at = row.get("withdrawn_at")
    return {
        "visit_id": row["visit_id"],
        "device_id": row["device_id"],
        "assigned_at": store.iso(row["assigned_at"]),
        "date": row["visit"].get("date"),
        "session": row["visit"].get("session"),
        "site": row["visit"].get("site"),
        "entries": len(row["entries"]),
        "withdrawn_at": store.iso(withdrawn_at) if withdrawn_at is not None else None,
        "withdraw_reason": row.get("withdraw_reason"),
    }


MAX_REASON_CHARS = 200
_NIK_LIKE = re.compile(r"\d{16}")


def _withdraw_reason(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """A reason is one line of 1–200 characters that holds nothing like a NIK."""
    reason = " ".join(value.split())
    if not reason or len(reason) > MAX_REASON_CHARS:
        raise click.BadParameter(f"give a reason of 1 to {MAX_REASON_CHARS} characters.")
    if _NIK_LIKE.search(reason.replace(" ", "")):
        raise click.BadParameter("the reason looks like it holds a NIK; write no personal data.")
    return reason


@roster.command("withdraw")
@click.argument("visit_id")
@click.option(
    "--reason",
    required=True,
    callback=_withdraw_reason,
    help="Why the visit is taken back (wrong device, cancelled …), 1–200 characters. Officers "
    "see it on the device and it is kept in the audit logs in clear: no personal data.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def roster_withdraw(visit_id: str, reason: str, as_json: bool) -> None:
    """Take back an assigned visit (wrong visit or device, or cancelled).

    The device learns it at its next sync: the visit and its roster entries are marked
    withdrawn, new captures into it are refused, and applicants already captured are kept and
    still delivered. The assignment stays listed (WITHDRAWN) and its visit id can never be
    assigned again. Exit 1 for a visit never assigned or already withdrawn.
    """
    engine = _engine(_home())
    try:
        version, withdrawn_at, device_id = store.withdraw_roster(engine, visit_id, reason)
    except store.AssignmentRefused as exc:
        raise Failed(str(exc)) from None
    result = {
        "visit_id": visit_id,
        "device_id": device_id,
        "withdrawn_at": store.iso(withdrawn_at),
        "reason": reason,
        "reference_version": version,
    }
    if as_json:
        _print_json(result)
    else:
        click.echo(
            f"Visit {visit_id} withdrawn from device {device_id} at {store.iso(withdrawn_at)} "
            f"(reference version {version})."
        )


@main.group()
def fees() -> None:
    """Publish the PNBP fee schedules devices use for new captures."""


@fees.command("publish")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def fees_publish(file: Path, as_json: bool) -> None:
    """Publish FILE (the format of fieldkit's data/fees.json) to every device.

    Checked with the device's own fee rules; any error refuses the file (exit 2). It replaces
    the schedules devices use: list every schedule still needed, not only the newest.
    """
    from sync.hq import reference

    checked = reference.check_fees(_read_json_file(file))
    if checked.value is None:
        _invalid([(0, f) for f in checked.findings], "The fee data")
        return
    _print_findings([(0, f) for f in checked.warnings])
    version, published_at = store.publish_fees(_engine(_home()), checked.value)
    schedules = [s["regulation"] for s in checked.value["schedules"]]
    result = {
        "schedules": schedules,
        "published_at": store.iso(published_at),
        "reference_version": version,
    }
    if as_json:
        _print_json(result)
    else:
        click.echo(
            f"Published {len(schedules)} fee schedule(s) ({', '.join(schedules)}); "
            f"reference version {version}."
        )


@main.group()
def watchlist() -> None:
    """The travel-ban watchlist devices check NIKs against (as keyed digests only)."""


@watchlist.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def watchlist_import(file: Path, as_json: bool) -> None:
    """Replace the watchlist with the NIKs in FILE, one a line (# comments, blanks skipped).

    HQ keeps only HMAC-SHA256 digests under a fresh random key made for this import; the NIKs
    are neither stored nor printed. A line that is not 16 digits refuses the file (exit 2,
    line numbers only).
    """
    from sync.hq import reference

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"{file} is not a readable UTF-8 text file ({exc}).") from None
    found = reference.read_watchlist(text)
    if found.bad_lines:
        shown = ", ".join(str(n) for n in found.bad_lines[:20])
        more = f" and {len(found.bad_lines) - 20} more" if len(found.bad_lines) > 20 else ""
        click.echo(f"fieldkit-hq: lines {shown}{more} are not 16-digit NIKs.", err=True)
        click.echo("fieldkit-hq: the watchlist was not changed.", err=True)
        sys.exit(EXIT_USAGE)
    if not found.niks:
        click.echo("fieldkit-hq: the file holds no NIK; the watchlist was not changed.", err=True)
        sys.exit(EXIT_USAGE)
    key, digests = reference.watchlist_digests(found.niks)
    version = store.replace_watchlist(_engine(_home()), key, digests)
    if as_json:
        _print_json({"entries": len(digests), "reference_version": version})
    else:
        click.echo(f"Watchlist replaced: {len(digests)} NIK(s); reference version {version}.")


@main.group()
def officer() -> None:
    """Revoke officers: their slots stop unlocking on devices after the next sync."""


@officer.command("revoke")
@click.argument("officer_id")
@click.option(
    "--device",
    "device_id",
    default=None,
    help="Only on this device (officer ids are per device); default: on every device.",
)
@click.option("--reason", default=None, help="Why the officer is revoked.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def officer_revoke(
    officer_id: str, device_id: str | None, reason: str | None, as_json: bool
) -> None:
    """Revoke OFFICER_ID: devices refuse to unlock with that officer's slot after they sync."""
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,32}", officer_id):
        raise click.BadParameter("an officer id is 1–32 letters, digits, dots, dashes or _.")
    engine = _engine(_home())
    if device_id is not None:
        with store.reading(engine) as conn:
            if store.get_device(conn, device_id) is None:
                raise Failed(f"No device {device_id}.")
    revoked_at, new = store.revoke_officer(engine, officer_id, device_id or "*", reason)
    where = f"device {device_id}" if device_id else "every device"
    if as_json:
        _print_json(
            {
                "officer_id": officer_id,
                "scope": device_id or "*",
                "revoked_at": store.iso(revoked_at),
                "new": new,
            }
        )
    elif new:
        click.echo(f"Officer {officer_id} revoked on {where} at {store.iso(revoked_at)}.")
    else:
        click.echo(
            f"Officer {officer_id} was already revoked on {where} ({store.iso(revoked_at)})."
        )


# --- import and status -----------------------------------------------------------------------


def _order(path: Path) -> tuple[int, str, int, str]:
    """Sort files by device and seq where the header can be read, else after, by name."""
    try:
        with path.open("rb") as handle:
            head = handle.read(64 * 1024)
        length = int.from_bytes(head[4:8], "big")
        header = json.loads(head[8 : 8 + length])
        return 0, str(header["device_id"]), int(header["seq"]), path.name
    except (OSError, ValueError, KeyError, TypeError):
        return 1, "", 0, path.name


def _write_receipt(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".receipt-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@main.command("import")
@click.argument(
    "directory", type=click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file.")
def import_dir(directory: Path, as_json: bool) -> None:
    """Ingest every *.fkb envelope in DIRECTORY (batches carried on a USB stick).

    Each file gets the same checks as an upload; an accepted one (new or already received)
    gets its signed receipt written next to it as <batch_id>.receipt.json, for the device to
    import. Exit code 3 when any file was refused.
    """
    from sync.hq import ingest

    home = _home()
    _require_init(home)
    hq_keys = keys.unlock(home, _passphrase())
    engine = _engine(home)
    files = sorted(directory.glob("*.fkb"), key=_order)
    refused = 0
    for path in files:
        client = f"file:{path.name}"
        try:
            if path.stat().st_size > envelope.MAX_ENVELOPE_BYTES:
                raise ingest.reject(
                    engine,
                    ingest.Problem("too-large", f"{path.name} is over 4 MiB."),
                    client=client,
                )
            result = ingest.ingest(engine, hq_keys, path.read_bytes(), client=client, source="file")
        except ingest.Problem as problem:
            refused += 1
            line: dict[str, object] = {
                "file": path.name,
                "status": problem.status,
                "problem": f"/problems/{problem.slug}",
                "detail": problem.detail,
            }
            if as_json:
                click.echo(json.dumps(line, ensure_ascii=False, sort_keys=True))
            else:
                click.echo(f"REFUSED  {path.name}: {problem.slug}: {problem.detail}")
            continue
        except OSError as exc:
            refused += 1
            click.echo(f"REFUSED  {path.name}: cannot read: {exc.strerror}", err=True)
            continue
        receipt_path = path.with_name(f"{result.batch_id}.receipt.json")
        _write_receipt(receipt_path, result.receipt)
        outcome = "duplicate" if result.duplicate else "accepted"
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "file": path.name,
                        "status": result.status,
                        "outcome": outcome,
                        "device_id": result.device_id,
                        "batch_id": result.batch_id,
                        "seq": result.seq,
                        "records": result.records,
                        "receipt": receipt_path.name,
                    },
                    sort_keys=True,
                )
            )
        else:
            click.echo(
                f"{outcome.upper():9}{path.name}: device {result.device_id} seq {result.seq}, "
                f"{result.records} record(s) → {receipt_path.name}"
            )
    if not as_json:
        click.echo(f"{len(files)} file(s), {refused} refused.", err=True)
    if refused:
        sys.exit(EXIT_REFUSED)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(as_json: bool) -> None:
    """Summarise HQ: devices, batches, missing sequence numbers, open flags, rejections."""
    home = _home()
    engine = _engine(home)
    statuses = store.device_statuses(engine)
    open_flags = store.open_flags(engine)
    rejected = store.rejection_counts(engine, store.now() - timedelta(hours=24))
    summary = keys.public_summary(home)
    report: dict[str, object] = {
        "home": str(home),
        "database": store.redact(store.database_url(home)),
        "hq_kid": summary["current_kid"],
        "hq_signing_kid": summary["signing_kid"],
        "devices": {
            "enrolled": len(statuses),
            "revoked": sum(1 for s in statuses if s.device.revoked),
        },
        "batches": sum(s.batches for s in statuses),
        "records": sum(s.records for s in statuses),
        "missing": {s.device.device_id: s.missing for s in statuses if s.missing},
        "audit_unverified": {
            s.device.device_id: s.audit_unverified for s in statuses if s.audit_unverified
        },
        "flags": [
            {
                "id": f["id"],
                "at": store.iso(f["at"]),
                "device_id": f["device_id"],
                "batch_id": f["batch_id"],
                "kind": f["kind"],
                "detail": f["detail"],
            }
            for f in open_flags
        ],
        "rejections_24h": rejected,
        "reference": store.reference_summary(engine),
    }
    if as_json:
        _print_json(report)
        return
    devices = report["devices"]
    click.echo(f"HQ in {home}  store {report['database']}  HQ key {report['hq_kid']}")
    click.echo(
        f"devices: {devices['enrolled']} enrolled, {devices['revoked']} revoked;"  # type: ignore[index]
        f"  batches: {report['batches']};  records: {report['records']}"
    )
    for s in statuses:
        if s.missing:
            click.echo(f"missing from {s.device.device_id}: seq {_ranges(s.missing)}")
    for f in report["flags"]:  # type: ignore[attr-defined]
        click.echo(f"FLAG #{f['id']} {f['kind']} device {f['device_id']}: {f['detail']}")
    if rejected:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(rejected.items()))
        click.echo(f"rejections in the last 24 h: {parts}")
    ref = report["reference"]
    click.echo(
        f"reference data: version {ref['version']}, fees published "  # type: ignore[index]
        f"{ref['fees_published_at'] or 'never'}, watchlist {ref['watchlist']} NIK(s), "  # type: ignore[index]
        f"{ref['roster_assignments']} visit(s) assigned "  # type: ignore[index]
        f"({ref['roster_withdrawn']} withdrawn), "  # type: ignore[index]
        f"{ref['revoked_officers']} officer revocation(s)"  # type: ignore[index]
    )
