"""The sync client's retry rules: backoff math, Retry-After, and which answers are retried.

The retry tests talk to a real HTTP server on 127.0.0.1 that answers from a script (the fake
HQ's :meth:`~tests.support.fake_hq.FakeHq.script`); only ``sleep`` is injected (it records the
waits instead of waiting).
"""

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests

import sync.device.client
from sync.device import checkpoint, enrollment, errors, receipts, report, retry, transport
from sync.device.errors import HqProblem, NetworkUnavailable, SyncError, problem_message
from sync.device.retry import RetryPolicy, is_retryable, parse_retry_after
from sync.device.transport import RetryingHttp, check_hq_url
from tests.support.hq import free_port

# -- backoff math ---------------------------------------------------------------------------


def test_full_jitter_stays_between_zero_and_the_capped_exponential():
    policy = RetryPolicy(base=1.0, cap=300.0)
    for attempt in range(20):
        ceiling = min(300.0, 2.0**attempt)
        assert policy.backoff(attempt, lambda: 0.0) == 0.0
        assert policy.backoff(attempt, lambda: 0.999999) == pytest.approx(ceiling, rel=1e-5)
        assert 0.0 <= policy.backoff(attempt, random.random) <= ceiling
    assert policy.backoff(8, lambda: 1.0) == 256.0
    assert policy.backoff(9, lambda: 1.0) == 300.0, "capped at 5 minutes"
    assert policy.backoff(10_000, lambda: 1.0) == 300.0, "no overflow for huge attempts"


def test_base_and_cap_are_configurable():
    policy = RetryPolicy(base=2.0, cap=900.0)
    assert [policy.backoff(n, lambda: 1.0) for n in range(10)] == [
        2, 4, 8, 16, 32, 64, 128, 256, 512, 900,
    ]  # fmt: skip
    assert policy.backoff(3, lambda: 0.25) == 4.0


def test_retry_after_in_seconds_and_as_an_http_date():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 120 ") == 120.0
    now = datetime(2026, 11, 28, 6, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=45), usegmt=True)
    assert later.endswith("GMT")
    assert parse_retry_after(later, clock=now.timestamp) == 45.0
    earlier = format_datetime(now - timedelta(seconds=45), usegmt=True)
    assert parse_retry_after(earlier, clock=now.timestamp) == 0.0, "a past date means now"
    for junk in (None, "", "soon", "-5", "1.5"):
        assert parse_retry_after(junk) is None


def test_retry_after_raises_the_wait_but_never_beyond_the_cap():
    policy = RetryPolicy(base=1.0, cap=300.0)
    assert policy.delay(0, None, lambda: 0.5) == 0.5
    assert policy.delay(0, 7.0, lambda: 0.5) == 7.0, "at least what HQ asked for"
    assert policy.delay(8, 7.0, lambda: 0.5) == 128.0, "never shorter than the backoff"
    assert policy.delay(0, 86_400.0, lambda: 0.5) == 300.0, "a day is clamped to the cap"


def test_which_statuses_are_retried():
    assert all(is_retryable(s) for s in (429, 500, 502, 503, 504, 599))
    assert not any(is_retryable(s) for s in (200, 201, 301, 400, 401, 403, 404, 409, 413, 422))


# -- a scripted server on 127.0.0.1 ---------------------------------------------------------------


@pytest.fixture
def server(fake_hq):
    """Answers, in order, for whatever is asked: (status, headers, body), "drop" (close without
    answering) or ("slow", seconds) (answer 201 after a pause); then 500."""

    def start(answers):
        fake_hq.script(*answers)
        return fake_hq.url, fake_hq

    return start


def make_http(base_url, *, attempts=None, read_timeout=5.0):
    waits = []
    http = RetryingHttp(
        base_url,
        requests.Session(),
        policy=RetryPolicy(base=1.0, cap=300.0, max_attempts=attempts),
        timeout=(2.0, read_timeout),
        sleep=waits.append,
        random=lambda: 0.5,
    )
    return http, waits


def test_transient_failures_are_retried_with_backoff_until_hq_accepts(server):
    in_20s = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    base_url, script = server(
        [
            (503, {"Retry-After": "7"}, b"maintenance"),
            (500, {}, b"oops"),
            (429, {"Retry-After": in_20s}, b"slow down"),
            "drop",
            (201, {"Content-Type": "application/json"}, b'{"ok":true}'),
        ]
    )
    http, waits = make_http(base_url)
    response = http.request("POST", "/v1/batches", data=b"FKB1 envelope")
    assert response.status_code == 201
    assert response.json() == {"ok": True}
    assert len(script.requests) == 5
    assert {r.body for r in script.log} == {b"FKB1 envelope"}, "same bytes each time"
    assert waits[0] == 7.0, "Retry-After seconds honoured"
    assert waits[1] == 1.0, "0.5 x base x 2**1"
    assert 18.0 <= waits[2] <= 20.0, "Retry-After HTTP date honoured"
    assert waits[3] == 4.0, "a dropped connection backs off like the rest"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422])
def test_other_client_errors_are_not_retried(server, status):
    problem = (
        b'{"type":"/problems/batch-id-reused","title":"Batch id reused","status":409,'
        b'"detail":"another ciphertext"}'
    )
    base_url, script = server(
        [(status, {"Content-Type": "application/problem+json"}, problem), (201, {}, b"{}")]
    )
    http, waits = make_http(base_url)
    response = http.request("POST", "/v1/batches", data=b"x")
    assert response.status_code == status
    assert len(script.requests) == 1
    assert waits == []
    assert HqProblem.from_response(response).slug == "batch-id-reused"


def test_the_retry_budget_is_bounded_in_once_mode(server):
    base_url, script = server([(503, {}, b"")] * 10)
    http, waits = make_http(base_url, attempts=3)
    with pytest.raises(NetworkUnavailable) as caught:
        http.request("GET", "/v1/devices/x/checkpoint")
    assert len(script.requests) == 3
    assert len(waits) == 2
    assert caught.value.exit_code == 4
    assert "3 attempts" in caught.value.message.en and "3 percobaan" in caught.value.message.id


def test_timeouts_and_refused_connections_are_retried(server):
    base_url, _ = server([("slow", 1.0), (201, {}, b"{}")])
    http, waits = make_http(base_url, read_timeout=0.2)
    assert http.request("POST", "/v1/batches", data=b"x").status_code == 201
    assert len(waits) == 1

    http, waits = make_http(f"http://127.0.0.1:{free_port()}", attempts=4)
    with pytest.raises(NetworkUnavailable):
        http.request("GET", "/healthz")
    assert len(waits) == 3, "nothing listens there: refused, retried, given up"


# -- messages --------------------------------------------------------------------------------------


def test_a_revoked_device_gets_a_clear_message_in_both_languages():
    problem = HqProblem(403, "/problems/device-revoked", "Device revoked", "laptop reported stolen")
    message = problem_message(problem)
    assert message.en.startswith("This device was revoked at HQ: laptop reported stolen")
    assert message.id.startswith("Perangkat ini dicabut di HQ: laptop reported stolen")


def test_hq_must_be_reached_over_https_except_on_this_machine():
    assert check_hq_url("https://hq.example.go.id/") == "https://hq.example.go.id"
    assert check_hq_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    with pytest.raises(SyncError):
        check_hq_url("http://hq.example.go.id")
    assert check_hq_url("http://10.0.0.5", allow_http=True) == "http://10.0.0.5"
    with pytest.raises(SyncError):
        check_hq_url("ftp://hq")


# -- where the names live -------------------------------------------------------------------------


def test_the_public_names_stay_importable_from_sync_client():
    """``fieldkit/cli/sync.py``, ``sync/connectivity.py``, bench/ and the docs import these."""
    homes = {
        errors: ["EXIT_OK", "EXIT_REFUSED", "EXIT_UNTRUSTED", "EXIT_PARTIAL", "DEVICE_PROBLEMS",
                 "SyncError", "BadHqUrl", "NotEnrolled", "AlreadyEnrolled", "HqRefused",
                 "HqUntrusted", "ReceiptNotOurs", "NetworkUnavailable", "SyncCancelled",
                 "HqProblem", "problem_message"],
        retry: ["RetryPolicy", "is_retryable", "parse_retry_after", "ONCE_ATTEMPTS",
                "RETRY_STATUSES"],
        transport: ["USER_AGENT", "LOOPBACK_HOSTS", "RetryingHttp", "HqClock", "check_hq_url"],
        enrollment: ["require_enrollment"],
        checkpoint: ["Checkpoint", "CHECKPOINT"],
        receipts: ["RECEIPT", "check_receipt", "apply_receipt"],
        report: ["Refusal", "SyncReport"],
    }  # fmt: skip
    for module, names in homes.items():
        for name in names:
            assert getattr(sync.device.client, name) is getattr(module, name), (module, name)
            assert name in sync.device.client.__all__, name
    for name in ("SyncClient", "verify_signed", "BATCH_MEDIA_TYPE", "Progress", "cut_batch"):
        assert hasattr(sync.device.client, name), name
