"""The ``fieldkit-hq`` command: HQ's operator surface."""

from __future__ import annotations

import click

from fieldkit import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fieldkit-hq")
def main() -> None:
    """Run and administer the fieldkit HQ service.

    HQ receives sealed batches from field devices, publishes signed reference data and lets
    HQ staff reconcile visits. Configuration comes from the environment (FIELDKIT_HQ_HOME,
    FIELDKIT_HQ_DB).
    """
