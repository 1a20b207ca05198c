"""The ``fieldkit`` command: a thin layer that parses, calls the library and reports."""

from fieldkit.cli.main import main

__all__ = ["main"]
