"""Progress reports and cancellation for long work (sync, roster import, purge)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from fieldkit.domain.findings import Message
from fieldkit.vault.errors import VaultError

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` on the thread doing the work."""


class Cancelled(VaultError):
    """The officer cancelled long work; what had been committed before stays, the rest not."""


class Cancel:
    """A cancellation token: another thread calls :meth:`cancel`, the work stops at its next check.

    Callbacks given to :meth:`on_cancel` run at once on the cancelling thread (the sync client
    uses one to cut a backoff wait short).
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def cancel(self) -> None:
        """Ask the work to stop."""
        with self._lock:
            self._event.set()
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when cancelled (at once if already cancelled)."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return
        callback()

    def check(self, what: Message) -> None:
        """Raise :class:`Cancelled` naming ``what`` stopped, once cancelled."""
        if self._event.is_set():
            raise Cancelled(Message(f"{what.id} dibatalkan.", f"{what.en} cancelled."))


def checked_progress(
    progress: Progress | None, cancel: Cancel | None, what: Message
) -> Progress | None:
    """A progress callback that first raises :class:`Cancelled` once ``cancel`` is set."""
    if cancel is None:
        return progress

    def report(done: int, total: int) -> None:
        cancel.check(what)
        if progress is not None:
            progress(done, total)

    return report
