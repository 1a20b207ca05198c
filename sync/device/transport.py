"""HTTP to HQ: its base URL, requests retried by :mod:`sync.device.retry`'s rules, and HQ's clock.

:class:`RetryingHttp` returns every answer not worth retrying to its caller and raises
:class:`~sync.errors.NetworkUnavailable` when the tries run out; what an answer means is the
caller's business. :meth:`RetryingHttp.device_request` sends a device-signed request
(docs/PROTOCOL.md, "Device-signed requests") with the time of its :class:`HqClock`, which
corrects a laptop clock that HQ refuses, with HQ's signed time only. :func:`garbled` is what
a caller raises for a ``2xx`` that is not HQ's JSON.

TLS: :func:`hq_session` trusts HQ's certificate through the ``hq_ca_bundle`` setting (HQ's CA
or its own self-signed certificate) or else the system's CAs; a certificate that does not
verify raises :class:`~sync.device.errors.HqUntrusted` at once, before anything is sent, and
is never retried.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldkit import __version__
from fieldkit.domain.findings import Message
from fieldkit.vault.syncstate import Enrollment
from sync.device.errors import (
    BadHqUrl,
    HqProblem,
    HqRefused,
    HqUntrusted,
    NetworkUnavailable,
    SyncCancelled,
    clock_message,
    clock_skew_message,
)
from sync.device.retry import RetryPolicy, is_retryable, parse_retry_after
from sync.device.signed import read_hq_time
from sync.wire.requests import request_headers

USER_AGENT = f"fieldkit/{__version__}"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# An offset from HQ's clock worth telling the officer about even when HQ accepts the time
# (it allows 10 minutes): captures are stamped with the laptop's clock.
CLOCK_WARNING = timedelta(minutes=2)


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


class HqSession(requests.Session):
    """A :class:`requests.Session` to HQ that trusts exactly the CA bundle it was given.

    With ``ca_bundle`` (the ``hq_ca_bundle`` setting: HQ's CA, or HQ's own self-signed
    certificate), HQ's TLS certificate must chain to a certificate in that file and the
    system's CAs are not consulted; without it, the system's CAs are. The bundle wins over
    ``REQUESTS_CA_BUNDLE`` and ``CURL_CA_BUNDLE`` in the environment too (requests would
    otherwise let them override a session's ``verify``), while proxies from the environment
    still apply.
    """

    def __init__(self, ca_bundle: Path | None = None) -> None:
        super().__init__()
        self.ca_bundle = ca_bundle
        self.verify = str(ca_bundle) if ca_bundle is not None else True

    def merge_environment_settings(  # type: ignore[override]
        self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        """Requests' merge, then HQ's CA bundle (if any) as the only trust."""
        merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if self.ca_bundle is not None:
            merged["verify"] = str(self.ca_bundle)
        return merged


def hq_session(ca_bundle: Path | None = None) -> requests.Session:
    """The HTTP session a device talks to HQ with (:class:`HqSession`)."""
    return HqSession(ca_bundle)


def untrusted_certificate(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure behind a requests error, if that is what it is.

    requests wraps it (``SSLError`` ← urllib3's ``MaxRetryError`` ← ``SSLError``); the chain
    is followed through ``reason``, ``args``, ``__cause__`` and ``__context__``.
    """
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        stack += [getattr(current, "reason", None), current.__cause__, current.__context__]
        stack += list(current.args)
    return None


def certificate_message(base_url: str, failure: ssl.SSLCertVerificationError) -> Message:
    """What the officer reads when HQ's TLS certificate is not trusted (nothing was sent)."""
    reason = failure.verify_message or failure.reason or "verification failed"
    return Message(
        f"Sertifikat TLS dari {base_url} tidak dipercaya ({reason}). Tidak ada yang dikirim. "
        "Bisa jadi ini bukan HQ; bila HQ memakai sertifikat sendiri, atur hq_ca_bundle "
        "(FIELDKIT_HQ_CA_BUNDLE) ke sertifikat HQ yang diberikan supervisor.",
        f"The TLS certificate of {base_url} is not trusted ({reason}). Nothing was sent. It "
        "may not be HQ; if HQ uses its own certificate, set hq_ca_bundle "
        "(FIELDKIT_HQ_CA_BUNDLE) to HQ's certificate from your supervisor.",
    )


def _laptop_now() -> datetime:
    return datetime.now(UTC)


def hq_date(value: str | None) -> datetime | None:
    """HQ's time from an HTTP ``Date`` header (RFC 9110 IMF-fixdate), or None if unusable."""
    if value is None or not value.strip():
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if not 1970 <= when.year < 9000:  # no clock says that; and offsets from it would overflow
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


class HqClock:
    """The time this laptop signs its requests with: its own clock, set right by HQ's if need be.

    Field laptops often have wrong clocks, and HQ refuses a device-signed request whose
    ``Fieldkit-Time`` is more than 10 minutes from its own (``401 clock-skew``). That refusal
    carries HQ's time signed with HQ's signing key (``hq_time``); once it verifies with the key
    pinned at enrollment (:meth:`pin`), the offset it gives is kept (:meth:`correct`,
    :attr:`offset`) and added to the laptop's time in every later signature. The HTTP ``Date``
    header is not authenticated: anything between the laptop and HQ can set it, and a far-future
    one would have the laptop sign requests that could be replayed then. So it is only read to
    warn the officer (:meth:`observe`, :attr:`measured`), never signed with. The system clock is
    never changed, and nothing stored in the vault uses the offset: what the laptop captures is
    stamped with its own clock.

    ``now`` is the laptop's clock as the client reads it (an aware datetime); tests shift it.
    Offsets are HQ's time minus the laptop's: positive when the laptop is behind.
    """

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self.now = now or _laptop_now
        self.offset: timedelta | None = None
        self.measured: timedelta | None = None
        self.pinned: Enrollment | None = None

    def pin(self, pinned: Enrollment) -> None:
        """Verify HQ's signed time with the HQ signing key of ``pinned`` (before a request)."""
        self.pinned = pinned

    def reset(self) -> None:
        """Forget what was measured (a new sync run measures afresh)."""
        self.offset = self.measured = None

    def signing_time(self) -> str:
        """``Fieldkit-Time`` for a signature made now: UTC ISO 8601 with microseconds."""
        at = self.now().astimezone(UTC) + (self.offset or timedelta(0))
        return at.isoformat(timespec="microseconds")

    def observe(self, response: requests.Response) -> timedelta | None:
        """The offset HQ's ``Date`` header in ``response`` shows (kept as :attr:`measured`).

        Only for the officer's warning (:meth:`warning`): the header is not authenticated, so
        it never sets the time signed with. It has whole seconds, so HQ's time is taken as half
        a second past it.
        """
        hq_time = hq_date(response.headers.get("Date"))
        if hq_time is None:
            return None
        self.measured = hq_time + timedelta(seconds=0.5) - self.now().astimezone(UTC)
        return self.measured

    def correct(self, response: requests.Response, device_id: str) -> bool:
        """Sign from now on with HQ's signed time in a ``401 clock-skew`` answer.

        False, and nothing changes, unless the answer's ``hq_time`` member verifies with the
        pinned HQ signing key and is HQ's time for ``device_id`` (:func:`read_hq_time`); the
        ``Date`` header never counts. A replayed old ``hq_time`` can only move the time signed
        with into the past, which HQ refuses too.
        """
        if self.pinned is None:
            return False
        hq_time = read_hq_time(_hq_time_member(response), self.pinned, device_id)
        if hq_time is None:
            return False
        self.offset = self.measured = hq_time - self.now().astimezone(UTC)
        return True

    @property
    def corrected(self) -> bool:
        """True when requests are signed with HQ's time rather than the laptop's."""
        return self.offset is not None

    @property
    def offset_seconds(self) -> int | None:
        """The offset in whole seconds (the one signed with, else the last measured), or None."""
        offset = self.offset if self.offset is not None else self.measured
        return None if offset is None else round(offset.total_seconds())

    def warning(self) -> Message | None:
        """What the officer should read about this laptop's clock, if anything."""
        if self.offset is not None:
            return clock_message(self.offset, corrected=True)
        if self.measured is not None and abs(self.measured) >= CLOCK_WARNING:
            return clock_message(self.measured, corrected=False)
        return None


def clock_skew(response: requests.Response) -> HqProblem | None:
    """HQ's ``401 clock-skew`` problem in ``response``, or None for any other answer."""
    if response.status_code != 401:
        return None
    problem = HqProblem.from_response(response)
    return problem if problem.slug == "clock-skew" else None


def _hq_time_member(response: requests.Response) -> object:
    """The ``hq_time`` extension member of a problem answer, or None."""
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return None
    return body.get("hq_time") if isinstance(body, dict) else None


class RetryingHttp:
    """HTTP requests to HQ with the retry rules of :mod:`sync.device.retry`.

    Returns every response that is not worth retrying (2xx, 3xx, 4xx but 429) to the caller;
    raises :class:`NetworkUnavailable` when the attempts run out. Every answer's ``Date`` is
    read into :attr:`clock` (for the officer's warning only).
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
        clock: HqClock | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.policy = policy
        self.timeout = timeout
        self.sleep = sleep
        self.random = random
        self.cancelled = cancelled
        self.clock = clock or HqClock()

    def device_request(
        self,
        method: str,
        path: str,
        key: Ed25519PrivateKey,
        device_id: str,
        *,
        policy: RetryPolicy | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """A device-signed request, signed afresh for each try with :attr:`clock`'s time.

        ``extra_headers`` are sent as they are (e.g. the device's signed encryption key).

        ``path`` is the endpoint's path as signed (docs/PROTOCOL.md, "Device-signed
        requests"). When HQ refuses the time (``401 clock-skew``), the request is signed again
        with HQ's signed time from that answer (:meth:`HqClock.correct`; never its ``Date``
        header) and sent once more; the offset is kept for the requests that follow. Without a
        valid signed time it raises :class:`HqRefused`, telling the officer to set the laptop's
        clock. Any other answer is returned.
        """

        def headers() -> dict[str, str]:
            at = self.clock.signing_time()
            return {
                "Accept": "application/json",
                **(extra_headers or {}),
                **request_headers(key, device_id, method=method, path=path, at=at),
            }

        response = self.request(method, path, policy=policy, headers=headers)
        problem = clock_skew(response)
        if problem is None:
            return response
        if not self.clock.correct(response, device_id):
            raise HqRefused(clock_skew_message(problem), problem)
        response.close()
        return self.request(method, path, policy=policy, headers=headers)

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
            except requests.exceptions.SSLError as exc:
                # HQ's certificate does not verify: not a network hiccup to retry but someone
                # else answering (or HQ's CA not configured). The handshake failed before any
                # request was sent.
                failure_cert = untrusted_certificate(exc)
                if failure_cert is not None:
                    raise HqUntrusted(certificate_message(self.base_url, failure_cert)) from None
                failure = type(exc).__name__
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,  # an answer cut short
                requests.exceptions.ContentDecodingError,
            ) as exc:
                # The exception text repeats the URL and nested causes; its type says enough.
                failure = type(exc).__name__
            else:
                self.clock.observe(response)
                if not is_retryable(response.status_code):
                    return response
                failure = f"HTTP {response.status_code} {response.reason}"
                retry_after = _retry_after(response)
                response.close()
            attempt += 1
            if policy.max_attempts is not None and attempt >= policy.max_attempts:
                raise NetworkUnavailable(_network_message(self.base_url, attempt, failure))
            self.sleep(policy.delay(attempt - 1, retry_after, self.random))


def _retry_after(response: requests.Response) -> float | None:
    """``Retry-After`` in seconds; an HTTP date counts from the answer's ``Date``, if any.

    So a laptop whose clock is wrong waits what HQ asked for, not hours (or not at all).
    """
    sent = hq_date(response.headers.get("Date"))
    clock = sent.timestamp if sent is not None else time.time
    return parse_retry_after(response.headers.get("Retry-After"), clock=clock)


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
