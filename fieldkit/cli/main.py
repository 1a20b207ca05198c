"""The ``fieldkit`` command group."""

from __future__ import annotations

import click

from fieldkit import __version__
from fieldkit.cli.check import check
from fieldkit.cli.fee import fee
from fieldkit.cli.output import LANG_ENV, Settings, lang_from_env
from fieldkit.cli.synth import synth

EPILOG = """\b
Exit codes: 0 valid (warnings may be printed), 2 invalid input or usage.
Environment: FIELDKIT_LANG=id|en chooses the language (Indonesian by default)."""


@click.group(
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

    Check NIK, KK and passport MRZ numbers, compute fees and make synthetic applicants for
    demos and tests.
    """
    ctx.obj = Settings(lang or lang_from_env())  # type: ignore[arg-type]


main.add_command(check)
main.add_command(fee)
main.add_command(synth)
