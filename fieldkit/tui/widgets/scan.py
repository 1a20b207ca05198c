"""The check-in search box: a keyboard-wedge scanner's Enter ends one code, never merges two."""

from __future__ import annotations

from textual.widgets import Input


class ScanInput(Input):
    """An input that hands its value over and empties itself at Enter, in the same step.

    A USB barcode scanner types a booking code and Enter within milliseconds, and a second scan
    may follow before the screen has handled the first. The plain :class:`Input` posts
    ``Submitted`` and keeps its text, so a handler that cleared it later would also wipe the
    first keys of the next code. Here the value leaves with the message and the box is empty
    before the next key is read: two scans stay two arrivals.
    """

    async def action_submit(self) -> None:
        """Post the value typed so far and start empty."""
        value = self.value
        self.value = ""
        self.post_message(self.Submitted(self, value, None))
