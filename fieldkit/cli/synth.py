"""``fieldkit synth``: synthetic people for demos, tests and benchmarks."""

from __future__ import annotations

import json
import sys

import click

from fieldkit.domain.synth import synthetic_applicants


@click.group()
def synth() -> None:
    """Make synthetic (never real) data for demos, tests and benchmarks."""


@synth.command("applicants")
@click.option(
    "--count",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="How many applicants to print.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Random seed; the same seed always gives the same applicants.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Accepted for symmetry with other commands; the output is always JSON Lines.",
)
def synth_applicants(count: int, seed: int, as_json: bool) -> None:
    """Print synthetic applicants as JSON Lines (one object per line).

    Names, NIK and KK numbers, birth dates, sexes, regions, phones and booking codes are
    consistent with each other; NIK and KK serials lie in 9000–9999 so none is a real person's.
    The format is the one `fieldkit applicant add` reads (docs/applicant-json.md).
    """
    del as_json  # JSON Lines either way
    for applicant in synthetic_applicants(count, seed):
        sys.stdout.write(json.dumps(applicant.as_json(), ensure_ascii=False) + "\n")
