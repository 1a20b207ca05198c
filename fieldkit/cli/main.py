"""The ``fieldkit`` command group."""

from __future__ import annotations

import sys

import click

from fieldkit import __version__
from fieldkit.cli.applicant import applicant
from fieldkit.cli.check import check
from fieldkit.cli.checkin import checkin, queue, walkin
from fieldkit.cli.demo import demo
from fieldkit.cli.fee import fee
from fieldkit.cli.officer import officer
from fieldkit.cli.output import (
    LANG_ENV,
    Cli,
    error_json,
    make_cli,
    print_json,
    print_numbered_findings,
    wants_json,
)
from fieldkit.cli.purge import purge
from fieldkit.cli.roster import roster
from fieldkit.cli.sync import enroll, sync
from fieldkit.cli.synth import synth
from fieldkit.cli.vaultcmd import audit, init, status
from fieldkit.cli.visit import visit
from fieldkit.service.errors import InvalidInput, Refused, SettingsError, VaultError

EPILOG = """\b
Exit codes: 0 success or valid (warnings may be printed); 1 failed (no vault,
wrong passphrase, not allowed, not found, refused by HQ); 2 invalid input or usage;
3 integrity failure (tampered data, broken audit chain, bad HQ signature); 4 partial
(sync: HQ still unreachable after retries).
Environment: FIELDKIT_LANG=id|en (Indonesian by default), FIELDKIT_HOME (vault
directory), FIELDKIT_OFFICER, FIELDKIT_PASSPHRASE (for scripts),
FIELDKIT_RETENTION_DAYS (days kept after HQ's receipt before purge; default 7)."""


def _kind(exc: Exception) -> str:
    """``WrongPassphrase`` → ``wrong-passphrase``: the error's kind as JSON names it."""
    name = type(exc).__name__
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")


class FieldkitGroup(click.Group):
    """The top-level group: reports errors in the officer's language or as JSON, with exit codes."""

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; turn an error into its message (or JSON) and exit code."""
        try:
            return super().invoke(ctx)
        except VaultError as exc:
            lang = ctx.obj.lang if isinstance(ctx.obj, Cli) else "id"
            findings = exc.findings if isinstance(exc, InvalidInput) else []
            if wants_json(ctx):
                code = exc.code if isinstance(exc, Refused) else None
                print_json(
                    error_json(_kind(exc), exc.text(lang), exc.exit_code, findings, lang, code)
                )
            else:
                click.echo(exc.text(lang), err=True)
                print_numbered_findings(findings, lang)  # type: ignore[arg-type]
            ctx.exit(exc.exit_code)
        except click.UsageError as exc:
            if not wants_json(ctx):
                raise
            lang = ctx.obj.lang if isinstance(ctx.obj, Cli) else "id"
            print_json(error_json("usage", exc.format_message(), exc.exit_code, [], lang))
            ctx.exit(exc.exit_code)


@click.group(
    cls=FieldkitGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EPILOG,
)
@click.version_option(__version__, prog_name="fieldkit")
@click.option(
    "--lang",
    type=click.Choice(["id", "en"]),
    default=None,
    help=f"Language of messages: id (Bahasa Indonesia, default) or en. Also {LANG_ENV}.",
)
@click.pass_context
def main(ctx: click.Context, lang: str | None) -> None:
    """fieldkit: the offline-first field kit for mobile passport service.

    With no command, opens the field app (a terminal UI) on the vault in FIELDKIT_HOME, or
    walks through setting the laptop up when there is no vault yet; without a terminal it
    prints this help. The commands below do the same work from scripts.
    """
    try:
        ctx.obj = make_cli(lang)
    except SettingsError as exc:
        # The language setting may be what failed: --lang if given, else both languages.
        said = exc.message.text(lang) if lang else f"{exc.message.id}\n{exc.message.en}"  # type: ignore[arg-type]
        click.echo(f"fieldkit: {said}", err=True)
        ctx.exit(exc.exit_code)
    if ctx.invoked_subcommand is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            click.echo(ctx.get_help())
            return
        from fieldkit.tui import run

        run(ctx.obj.settings)


for command in (
    init,
    officer,
    visit,
    roster,
    applicant,
    checkin,
    walkin,
    queue,
    status,
    audit,
    enroll,
    sync,
    purge,
    check,
    fee,
    synth,
    demo,
):
    main.add_command(command)
