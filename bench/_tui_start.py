"""Child process of ``bench.tui_cold_start``: start the field app, stop at the unlock screen.

    python -m bench._tui_start HOME [--via-cli]

Not a benchmark itself, and it imports nothing of ``bench`` (its package's ``__init__`` is a
docstring only) so that the process starts as cold as ``fieldkit`` does. It builds the app with
``make_app(Settings(home=HOME, insecure_test_kdf=True))`` and runs it headless at 80x24
(``App.run(headless=True)``: the real message loop and compositor, no terminal writes). When
the :class:`UnlockScreen` has mounted it notes the time, waits for the screen's first paint
(``call_after_refresh``), notes that too and exits the app. It then prints one JSON line of
``time.monotonic()`` stamps (system-wide on Linux, so the parent can subtract its own launch
stamp): ``first_line`` (the interpreter ran this module's first statement), ``imported`` (the
app's modules imported), ``built`` (``make_app`` returned), ``mounted`` and ``painted``.

``--via-cli`` imports :mod:`fieldkit.cli.main` first, as the ``fieldkit`` console script does
before it opens the app (every command's module, click), and builds the settings as the CLI
does (``make_cli``: environment and config file) with ``home`` overridden.
"""

from __future__ import annotations

import time

FIRST_LINE = time.monotonic()

import dataclasses  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


def main(argv: list[str]) -> int:
    home = Path(argv[0])
    via_cli = "--via-cli" in argv[1:]
    stamps: dict[str, float] = {"first_line": FIRST_LINE}
    if via_cli:
        from fieldkit.cli.main import make_cli

        settings = dataclasses.replace(make_cli(None).settings, home=home, insecure_test_kdf=True)
    else:
        from fieldkit.settings import Settings

        settings = Settings(home=home, insecure_test_kdf=True)
    from fieldkit.tui.app import make_app
    from fieldkit.tui.screens.unlock import UnlockScreen

    stamps["imported"] = time.monotonic()
    app = make_app(settings)
    stamps["built"] = time.monotonic()
    original = UnlockScreen.on_mount

    def on_mount(screen: UnlockScreen) -> None:
        original(screen)
        stamps["mounted"] = time.monotonic()

        def painted() -> None:
            stamps["painted"] = time.monotonic()
            app.exit()

        screen.call_after_refresh(painted)

    UnlockScreen.on_mount = on_mount  # type: ignore[method-assign]
    app.run(headless=True, size=(80, 24))
    result: dict[str, Any] = dict(stamps)
    result["screen"] = type(app.screen_stack[-1]).__name__ if app.screen_stack else None
    print(json.dumps(result), flush=True)
    return 0 if "painted" in stamps else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
