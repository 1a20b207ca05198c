"""The check-in search box: a keyboard-wedge scanner's Enter ends one code, never merges two.

A USB barcode scanner types a booking code and Enter within milliseconds, and a second scan
may follow before the app has handled the first. In Textual an Enter that the focused input
does not handle itself bubbles up to the app, which then runs the input's ``submit`` binding;
by then the input may already have inserted the next code's first characters (its own queue
runs on). So here Enter is handled in the input's own key handler, in the order the keys came:
the value typed so far leaves with the ``Submitted`` message and the box is empty before the
next key is read. Two scans stay two arrivals.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class ScanInput(Input):
    """An input that hands its value over and empties itself at Enter, in key order."""

    async def _on_key(self, event: events.Key) -> None:
        # Textual then runs Input's own key handler (for every other key) unless prevented.
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            await self.action_submit()

    async def action_submit(self) -> None:
        """Post the value typed so far and start empty."""
        value = self.value
        self.value = ""
        self.post_message(self.Submitted(self, value, None))
