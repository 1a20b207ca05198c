"""The client's view of HQ's clock: the time it signs with, the Date header, the officer's warning.

No network: :class:`RetryingHttp` is given a stand-in for ``requests.Session`` that answers
from a script and keeps the headers of every request.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.errors import HqRefused, clock_message
from sync.reference import SIGNATURE_HEADER, TIME_HEADER, request_message
from sync.retry import RetryPolicy
from sync.transport import HqClock, RetryingHttp, hq_date

LAPTOP = datetime(2026, 11, 28, 3, 0, 0, tzinfo=UTC)  # the laptop's (wrong) clock
HQ = LAPTOP + timedelta(hours=3)  # HQ's
DEVICE = "8e1f4b2c-6a3d-4e7f-9b05-c4d3e2f1a0b9"
PATH = f"/v1/devices/{DEVICE}/checkpoint"


def answer(status: int, body: object = None, **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.reason = "test"
    response.headers.update(headers)
    response._content = json.dumps(body if body is not None else {}).encode()
    response._content_consumed = True
    return response


def skew(**headers: str) -> requests.Response:
    problem = {"type": "/problems/clock-skew", "title": "Clock skew", "status": 401,
               "detail": f"HQ's clock is {HQ.isoformat()}"}  # fmt: skip
    return answer(401, problem, **{"Content-Type": "application/problem+json", **headers})


def dated(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


class Scripted:
    """``requests.Session.request`` from a script of answers; keeps each request's headers."""

    def __init__(self, *answers: requests.Response) -> None:
        self.answers = list(answers)
        self.sent: list[dict[str, str]] = []

    def request(self, method: str, url: str, *, headers: dict[str, str], **_: object):
        self.sent.append(dict(headers))
        return self.answers.pop(0)


def http_for(script: Scripted, clock: HqClock, waits: list[float] | None = None) -> RetryingHttp:
    return RetryingHttp(
        "https://hq.example.test",
        script,  # type: ignore[arg-type]
        policy=RetryPolicy(max_attempts=5),
        timeout=(1.0, 1.0),
        sleep=(waits if waits is not None else []).append,
        random=lambda: 0.0,
        clock=clock,
    )


# -- the Date header ----------------------------------------------------------------------------


def test_hqs_date_header_is_read_and_junk_is_not():
    assert hq_date("Sat, 28 Nov 2026 06:00:00 GMT") == HQ
    assert hq_date(dated(HQ)) == HQ
    assert hq_date("Sat, 28 Nov 2026 06:00:00 -0000") == HQ, "no zone: taken as UTC"
    junk_dates = ("Sat, 99 Nov 2026 06:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
                  "Thu, 01 Jan 1900 00:00:00 GMT")  # fmt: skip
    for junk in (None, "", "  ", "yesterday", "1764309600", *junk_dates):
        assert hq_date(junk) is None, junk


def test_the_clock_signs_with_the_laptops_time_until_hq_gives_its_own():
    clock = HqClock(lambda: LAPTOP)
    assert clock.signing_time() == "2026-11-28T03:00:00.000000+00:00"
    assert (clock.offset, clock.measured, clock.offset_seconds) == (None, None, None)
    assert clock.warning() is None and not clock.corrected

    assert clock.observe(answer(200, Date=dated(HQ))) == timedelta(hours=3, seconds=0.5)
    assert clock.signing_time() == "2026-11-28T03:00:00.000000+00:00", "measured, not applied"
    assert clock.offset_seconds == 10800
    assert not clock.correct(answer(401)), "no Date: nothing to correct with"
    assert clock.correct(answer(401, Date=dated(HQ)))
    assert clock.corrected
    assert clock.signing_time() == "2026-11-28T06:00:00.500000+00:00"
    clock.reset()
    assert clock.signing_time() == "2026-11-28T03:00:00.000000+00:00"


def test_a_clock_in_another_zone_still_signs_in_utc():
    wib = LAPTOP.astimezone(timezone(timedelta(hours=7)))
    assert HqClock(lambda: wib).signing_time() == "2026-11-28T03:00:00.000000+00:00"


# -- signing again after 401 clock-skew ---------------------------------------------------------


def test_a_refused_time_is_signed_again_with_hqs_and_kept_for_later_requests():
    key = Ed25519PrivateKey.generate()
    script = Scripted(skew(Date=dated(HQ)), answer(200, {"ok": 1}), answer(200, {"ok": 2}))
    clock = HqClock(lambda: LAPTOP)
    http = http_for(script, clock)
    assert http.device_request("GET", PATH, key, DEVICE).json() == {"ok": 1}
    first, second = (headers[TIME_HEADER] for headers in script.sent)
    assert first.startswith("2026-11-28T03:00:00") and second.startswith("2026-11-28T06:00:00")
    message = request_message("GET", PATH, DEVICE, second)
    key.public_key().verify(base64.b64decode(script.sent[1][SIGNATURE_HEADER]), message)
    assert http.device_request("GET", "/v1/reference", key, DEVICE).json() == {"ok": 2}
    assert script.sent[2][TIME_HEADER].startswith("2026-11-28T06:00:00"), "kept for the run"
    assert len(script.sent) == 3


def test_a_second_refusal_is_returned_not_retried_again():
    key = Ed25519PrivateKey.generate()
    script = Scripted(skew(Date=dated(HQ)), skew(Date=dated(HQ)), answer(200))
    http = http_for(script, HqClock(lambda: LAPTOP))
    response = http.device_request("GET", PATH, key, DEVICE)
    assert response.status_code == 401 and len(script.sent) == 2


@pytest.mark.parametrize("date", [None, "", "not a date"])
def test_without_a_usable_date_the_refusal_says_to_set_the_laptops_clock(date):
    headers = {} if date is None else {"Date": date}
    script = Scripted(skew(**headers), answer(200))
    http = http_for(script, HqClock(lambda: LAPTOP))
    with pytest.raises(HqRefused) as refused:
        http.device_request("GET", PATH, Ed25519PrivateKey.generate(), DEVICE)
    assert refused.value.problem.slug == "clock-skew"
    message = refused.value.message
    assert "did not give its time (a Date header)" in message.en
    assert "Set the laptop's date and time" in message.en
    assert "tidak menyebut jamnya (header Date)" in message.id
    assert "Setel tanggal dan jam laptop" in message.id
    assert len(script.sent) == 1


def test_other_refusals_are_returned_as_they_are():
    unauthenticated = {"type": "/problems/unauthenticated", "title": "x", "status": 401}
    script = Scripted(answer(401, unauthenticated, Date=dated(HQ)))
    clock = HqClock(lambda: LAPTOP)
    response = http_for(script, clock).device_request(
        "GET", PATH, Ed25519PrivateKey.generate(), DEVICE
    )
    assert response.status_code == 401 and len(script.sent) == 1
    assert not clock.corrected and clock.measured is not None, "measured, not applied"


def test_retry_after_as_a_date_counts_from_hqs_date_not_the_laptops_clock():
    busy = answer(503, Date=dated(HQ), **{"Retry-After": dated(HQ + timedelta(seconds=30))})
    waits: list[float] = []
    script = Scripted(busy, answer(200))
    http = http_for(script, HqClock(lambda: LAPTOP), waits)
    assert http.request("GET", "/healthz").status_code == 200
    assert waits == [30.0], "not 3 hours (the cap) for a laptop 3 hours behind"


# -- what the officer reads ---------------------------------------------------------------------


def test_the_officer_reads_how_far_off_the_clock_is_in_both_languages():
    behind = clock_message(timedelta(hours=3), corrected=True)
    assert behind.en.startswith("This laptop's clock is 180 minutes (about 3 hours) behind HQ's")
    assert "signed its requests with HQ's time instead" in behind.en
    assert "Set the laptop's date and time" in behind.en
    assert behind.id.startswith("Jam laptop ini 180 menit (sekitar 3 jam) lebih lambat dari")
    assert "Setel tanggal dan jam laptop" in behind.id

    ahead = clock_message(timedelta(minutes=-4, seconds=-10), corrected=False)
    assert ahead.en.startswith("This laptop's clock is 4 minutes ahead of HQ's.")
    assert ahead.id.startswith("Jam laptop ini 4 menit lebih cepat dari jam HQ.")
    assert "HQ's time" not in ahead.en

    assert "1 minute behind" in clock_message(timedelta(seconds=20), corrected=True).en
    days = clock_message(timedelta(days=-400), corrected=True)
    assert "576000 minutes (about 400 days) ahead of HQ's" in days.en
    assert "576000 menit (sekitar 400 hari) lebih cepat" in days.id


def test_the_warning_comes_when_corrected_or_two_minutes_off():
    clock = HqClock(lambda: LAPTOP)
    clock.observe(answer(200, Date=dated(LAPTOP + timedelta(seconds=90))))
    assert clock.warning() is None, "90 seconds: within what a laptop clock drifts"
    clock.observe(answer(200, Date=dated(LAPTOP + timedelta(minutes=3))))
    assert "3 minutes behind" in clock.warning().en
    clock.correct(answer(401, Date=dated(HQ)))
    assert "HQ refused its time" in clock.warning().en
