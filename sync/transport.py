"""HTTP to HQ: the checked base URL and requests retried by the rules of :mod:`sync.retry`.

:class:`RetryingHttp` returns every answer not worth retrying to its caller and raises
:class:`~sync.errors.NetworkUnavailable` when the tries run out; what an answer means is the
caller's business. :func:`garbled` is what a caller raises for a ``2xx`` that is not HQ's JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import requests

from fieldkit import __version__
from fieldkit.domain.findings import Message
from sync.errors import BadHqUrl, NetworkUnavailable, SyncCancelled
from sync.retry import RetryPolicy, is_retryable, parse_retry_after

USER_AGENT = f"fieldkit/{__version__}"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def check_hq_url(url: str, *, allow_http: bool = False) -> str:
    """Normalise HQ's base URL; plain HTTP only to this machine unless ``allow_http``.

    Batches and receipts are protected end to end, but enrollment pins HQ's keys from the
    answer itself, so it must come over TLS (or from a test server on loopback).
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise BadHqUrl(
            Message(
                f"Alamat HQ tidak sah: {url!r} (contoh: https://hq.example.go.id).",
                f"Not a valid HQ address: {url!r} (for example https://hq.example.go.id).",
            )
        )
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS and not allow_http:
        raise BadHqUrl(
            Message(
                "HQ harus dihubungi lewat https://, agar kunci HQ tidak bisa dipalsukan saat "
                "pendaftaran.",
                "HQ must be reached over https://, so HQ's keys cannot be forged during "
                "enrollment.",
            )
        )
    return url.strip().rstrip("/")


class RetryingHttp:
    """HTTP requests to HQ with the retry rules of :mod:`sync.retry`.

    Returns every response that is not worth retrying (2xx, 3xx, 4xx but 429) to the caller;
    raises :class:`NetworkUnavailable` when the attempts run out.
    """

    def __init__(
        self,
        base_url: str,
        http: requests.Session,
        *,
        policy: RetryPolicy,
        timeout: tuple[float, float],
        sleep: Callable[[float], object],
        random: Callable[[], float],
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.policy = policy
        self.timeout = timeout
        self.sleep = sleep
        self.random = random
        self.cancelled = cancelled

    def request(
        self,
        method: str,
        path: str,
        *,
        policy: RetryPolicy | None = None,
        headers: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
        data: bytes | None = None,
        json_body: object = None,
    ) -> requests.Response:
        """Send one request, retrying transient failures; return the final response.

        ``headers`` may be a function, called before each try (headers that carry a time).
        """
        policy = policy or self.policy
        attempt = 0
        while True:
            if self.cancelled():
                raise SyncCancelled
            retry_after: float | None = None
            try:
                response = self.http.request(
                    method,
                    self.base_url + path,
                    headers={
                        "User-Agent": USER_AGENT,
                        **((headers() if callable(headers) else headers) or {}),
                    },
                    data=data,
                    json=json_body,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,  # an answer cut short
                requests.exceptions.ContentDecodingError,
            ) as exc:
                # The exception text repeats the URL and nested causes; its type says enough.
                failure = type(exc).__name__
            else:
                if not is_retryable(response.status_code):
                    return response
                failure = f"HTTP {response.status_code} {response.reason}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                response.close()
            attempt += 1
            if policy.max_attempts is not None and attempt >= policy.max_attempts:
                raise NetworkUnavailable(_network_message(self.base_url, attempt, failure))
            self.sleep(policy.delay(attempt - 1, retry_after, self.random))


def _network_message(base_url: str, attempts: int, failure: str) -> Message:
    return Message(
        f"HQ ({base_url}) belum bisa dihubungi setelah {attempts} percobaan ({failure}). "
        "Data tetap tersimpan; jalankan 'fieldkit sync' lagi saat ada jaringan, atau kirim "
        "lewat USB ('fieldkit sync export').",
        f"HQ ({base_url}) could not be reached after {attempts} attempts ({failure}). The data "
        "is kept; run 'fieldkit sync' again when there is a network, or send it by USB "
        "('fieldkit sync export').",
    )


def garbled(base_url: str, what: str) -> NetworkUnavailable:
    """The error for a ``2xx`` answer to ``what`` that is not HQ's JSON: a network problem.

    Such an answer is most often a captive portal or a proxy in the way, not a forgery.
    """
    return NetworkUnavailable(
        Message(
            f"Jawaban dari {base_url} untuk {what} bukan jawaban HQ (portal Wi-Fi atau proxy?). "
            "Data tetap tersimpan; coba lagi di jaringan lain.",
            f"The answer from {base_url} to {what} is not HQ's (a Wi-Fi portal or a proxy?). "
            "The data is kept; try again on another network.",
        )
    )
