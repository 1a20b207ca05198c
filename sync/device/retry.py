"""When the field client tries a request to HQ again, and how long it waits before it does.

Only connection failures and timeouts, 5xx and 429 are worth retrying (:func:`is_retryable`);
any other 4xx is HQ refusing and is never retried. Waits are full-jitter exponential backoff
(:class:`RetryPolicy`) raised to what HQ asks for in ``Retry-After``
(:func:`parse_retry_after`), clamped to the cap. Pure: :class:`sync.transport.RetryingHttp`
applies it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

# Statuses that mean "not now" rather than "no": everything 5xx, and Too Many Requests.
RETRY_STATUSES = frozenset({429})
# Tries of each request in a bounded run (``fieldkit sync --once``).
ONCE_ATTEMPTS = 5


def is_retryable(status: int) -> bool:
    """True for the statuses worth retrying: 5xx and 429."""
    return status >= 500 or status in RETRY_STATUSES


def parse_retry_after(value: str | None, *, clock: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():  # not "²" or "٣", which str.isdigit() also takes
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - clock())


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Full-jitter exponential backoff: wait ``uniform(0, min(cap, base * 2**attempt))``.

    ``Retry-After`` from HQ raises the wait to at least what HQ asked for, clamped to ``cap``
    so a misconfigured proxy cannot park a device for a day. ``max_attempts`` bounds the tries
    of one request (None: keep trying).
    """

    base: float = 1.0
    cap: float = 300.0
    max_attempts: int | None = None

    def backoff(self, attempt: int, random: Callable[[], float]) -> float:
        """The jittered wait after failed try number ``attempt`` (0 for the first)."""
        return random() * min(self.cap, self.base * 2.0 ** min(attempt, 64))

    def delay(self, attempt: int, retry_after: float | None, random: Callable[[], float]) -> float:
        """The wait before the next try, honouring ``retry_after`` seconds if given."""
        jittered = self.backoff(attempt, random)
        if retry_after is None:
            return jittered
        return min(self.cap, max(jittered, retry_after))
