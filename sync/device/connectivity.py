"""Knowing whether HQ is reachable, without busy polling.

:class:`ConnectivityMonitor` runs one background thread that asks HQ's ``/healthz``. While HQ
is unreachable it checks again after a growing, jittered pause (5 s, 10 s, 20 s … up to
5 minutes); while HQ is reachable, every ``online_interval``. Between checks the thread sleeps
on an event, so :meth:`~ConnectivityMonitor.wake` (the officer pressed "sync", a request just
failed, the network interface came up) re-checks at once and :meth:`~ConnectivityMonitor.stop`
ends it at once.

The field app reads :attr:`~ConnectivityMonitor.is_online`, waits on
:attr:`~ConnectivityMonitor.online` (a :class:`threading.Event` set while HQ answers), or
passes ``on_change``, which is called from the monitor's thread with the new state; a UI must
hand it over to its own thread.
"""

from __future__ import annotations

import random as _random
import threading
from collections.abc import Callable

import requests

from sync.device.client import USER_AGENT

HEALTH_PATH = "/healthz"


class ConnectivityMonitor:
    """A background thread that tracks whether HQ's ``/healthz`` answers."""

    def __init__(
        self,
        base_url: str,
        *,
        http: requests.Session | None = None,
        on_change: Callable[[bool], object] | None = None,
        min_interval: float = 5.0,
        max_interval: float = 300.0,
        online_interval: float = 300.0,
        timeout: float = 5.0,
        random: Callable[[], float] = _random.random,
    ) -> None:
        """Watch HQ at ``base_url``; nothing runs until :meth:`start`."""
        self.health_url = base_url.rstrip("/") + HEALTH_PATH
        self.http = http or requests.Session()
        self.on_change = on_change
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.online_interval = online_interval
        self.timeout = timeout
        self.random = random
        self.online = threading.Event()
        self.checks = 0
        self._known: bool | None = None
        self.failures = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def is_online(self) -> bool:
        """True when the last check reached HQ."""
        return self.online.is_set()

    def start(self) -> ConnectivityMonitor:
        """Start the background thread (a daemon: it never keeps the app alive)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="fieldkit-connectivity", daemon=True
            )
            self._thread.start()
        return self

    def wake(self) -> None:
        """Check again now instead of at the end of the current pause."""
        self._wake.set()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop the thread and wait for it (at most ``timeout`` seconds)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_online(self, timeout: float | None = None) -> bool:
        """Block until HQ is reachable (or ``timeout``); return whether it is."""
        return self.online.wait(timeout)

    def check(self) -> bool:
        """Ask ``/healthz`` once, update the state and return it (also usable without a thread)."""
        try:
            response = self.http.get(
                self.health_url,
                timeout=self.timeout,
                headers={"User-Agent": USER_AGENT},
                allow_redirects=False,
            )
            reachable = response.status_code == 200
            response.close()
        except requests.RequestException:
            reachable = False
        self.checks += 1
        self.failures = 0 if reachable else self.failures + 1
        self._set(reachable)
        return reachable

    def next_pause(self) -> float:
        """How long to wait before the next check, given the recent failures."""
        if self.failures == 0:
            return self.online_interval
        ceiling = min(self.max_interval, self.min_interval * 2.0 ** min(self.failures - 1, 32))
        # Jitter in the upper half: spread many devices out, never check much sooner.
        return ceiling / 2 + self.random() * ceiling / 2

    def _set(self, reachable: bool) -> None:
        if reachable:
            self.online.set()
        else:
            self.online.clear()
        changed = reachable != self._known
        self._known = reachable
        if changed and self.on_change is not None:
            self.on_change(reachable)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.check()
            self._wake.wait(self.next_pause())
            self._wake.clear()
