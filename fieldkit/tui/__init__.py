"""The officer's field app: a keyboard-first Textual UI over the application layer.

``fieldkit`` with no arguments runs :func:`run`. The app calls :mod:`fieldkit.service` and the
domain's pure rules only (import-linter forbids the vault, SQL and sync here); every call that
may block runs in a worker thread (:mod:`fieldkit.tui.work`), never on the UI thread.
"""

from __future__ import annotations

from fieldkit.settings import Settings


def run(settings: Settings) -> None:
    """Open the field app on the vault in ``settings.home`` (setup first when there is none)."""
    from fieldkit.tui.app import make_app

    make_app(settings).run()
