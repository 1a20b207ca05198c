"""The client's view of HQ's clock: the time it signs with, HQ's signed time, the officer's warning.

No network: :class:`RetryingHttp` is given the fake HQ in process
(:meth:`tests.support.fake_hq.FakeHq.session`), answering from a script and keeping the headers
of every request. A ``401 clock-skew`` answer carries HQ's
time signed with HQ's signing key (``hq_time``); only that sets the time signed with, never the
unauthenticated ``Date`` header.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldkit.vault.syncstate import Enrollment
from sync.device.errors import HqRefused, clock_message
from sync.device.retry import RetryPolicy, parse_retry_after
from sync.device.signed import read_hq_time
from sync.device.transport import HqClock, RetryingHttp, hq_date
from sync.wire import envelope
from sync.wire.requests import SIGNATURE_HEADER, TIME_HEADER, request_message
from tests.support.fake_hq import FakeHq

LAPTOP = datetime(2026, 11, 28, 3, 0, 0, tzinfo=UTC)  # the laptop's (wrong) clock
HQ = LAPTOP + timedelta(hours=3)  # HQ's
DEVICE = "8e1f4b2c-6a3d-4e7f-9b05-c4d3e2f1a0b9"
OTHER_DEVICE = "0b9a8c7d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
PATH = f"/v1/devices/{DEVICE}/checkpoint"
HQ_SIGNING = Ed25519PrivateKey.generate()
HQ_SIGNING_PUBLIC = HQ_SIGNING.public_key().public_bytes_raw()
HQ_SIGNING_KID = hashlib.sha256(HQ_SIGNING_PUBLIC).hexdigest()[:16]
PINNED = Enrollment(
    hq_url="https://hq.example.test",
    hq_kid="0123456789abcdef",
    hq_encryption_public_key=bytes(32),
    hq_signing_public_key=HQ_SIGNING_PUBLIC,
    enrolled_at="2026-11-01T00:00:00+00:00",
)
FAR_FUTURE = LAPTOP + timedelta(days=400)  # a hostile proxy's Date


def answer(status: int, body: object = None, **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.reason = "test"
    response.headers.update(headers)
    response._content = json.dumps(body if body is not None else {}).encode()
    response._content_consumed = True
    return response


def hq_time(when: datetime = HQ, *, key: Ed25519PrivateKey = HQ_SIGNING, **change: object) -> dict:
    """HQ's signed time, as HQ puts it in a clock-skew answer; ``change`` alters the document."""
    document = {"v": 1, "kind": "hq-time", "device_id": DEVICE, "at": when.isoformat(),
                "hq_signing_kid": HQ_SIGNING_KID, **change}  # fmt: skip
    return envelope.sign_document(document, key)


def skew(signed: object = None, **headers: str) -> requests.Response:
    """HQ's ``401 clock-skew``; with ``signed`` as its ``hq_time`` member when given."""
    problem = {"type": "/problems/clock-skew", "title": "Clock skew", "status": 401,
               "detail": f"HQ's clock is {HQ.isoformat()}"}  # fmt: skip
    if signed is not None:
        problem["hq_time"] = signed
    return answer(401, problem, **{"Content-Type": "application/problem+json", **headers})


def pinned_clock(now: datetime = LAPTOP) -> HqClock:
    clock = HqClock(lambda: now)
    clock.pin(PINNED)
    return clock


def dated(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def scripted(*answers: requests.Response) -> FakeHq:
    """The fake HQ answering ``answers`` in order; it keeps each request's headers (``sent``)."""
    hq = FakeHq()
    hq.script(*answers)
    return hq


def http_for(script: FakeHq, clock: HqClock, waits: list[float] | None = None) -> RetryingHttp:
    return RetryingHttp(
        "https://hq.example.test",
        script.session(),
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


def test_the_clock_signs_with_the_laptops_time_until_hq_gives_its_signed_own():
    clock = pinned_clock()
    assert clock.signing_time() == "2026-11-28T03:00:00.000000+00:00"
    assert (clock.offset, clock.measured, clock.offset_seconds) == (None, None, None)
    assert clock.warning() is None and not clock.corrected

    assert clock.observe(answer(200, Date=dated(HQ))) == timedelta(hours=3, seconds=0.5)
    assert clock.signing_time() == "2026-11-28T03:00:00.000000+00:00", "measured, not applied"
    assert clock.offset_seconds == 10800
    assert not clock.correct(skew(Date=dated(HQ)), DEVICE), "a Date alone corrects nothing"
    assert not clock.corrected
    assert clock.correct(skew(hq_time(HQ + timedelta(seconds=0.25))), DEVICE)
    assert clock.corrected and clock.offset == clock.measured
    assert clock.signing_time() == "2026-11-28T06:00:00.250000+00:00"
    clock.reset()
    assert clock.signing_time() == "2026-11-28T03:00:00.000000+00:00"
    assert clock.pinned == PINNED, "the pinned key stays for the next run"


def test_without_a_pinned_key_no_signed_time_is_believed():
    assert not HqClock(lambda: LAPTOP).correct(skew(hq_time()), DEVICE)


def test_a_clock_in_another_zone_still_signs_in_utc():
    wib = LAPTOP.astimezone(timezone(timedelta(hours=7)))
    assert HqClock(lambda: wib).signing_time() == "2026-11-28T03:00:00.000000+00:00"


# -- signing again after 401 clock-skew ---------------------------------------------------------


def test_a_refused_time_is_signed_again_with_hqs_and_kept_for_later_requests():
    key = Ed25519PrivateKey.generate()
    script = scripted(skew(hq_time()), answer(200, {"ok": 1}), answer(200, {"ok": 2}))
    clock = pinned_clock()
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
    script = scripted(skew(hq_time()), skew(hq_time()), answer(200))
    http = http_for(script, pinned_clock())
    response = http.device_request("GET", PATH, key, DEVICE)
    assert response.status_code == 401 and len(script.sent) == 2


def test_a_far_future_date_header_is_ignored_for_hqs_signed_time():
    key = Ed25519PrivateKey.generate()
    script = scripted(skew(hq_time(), Date=dated(FAR_FUTURE)), answer(200, Date=dated(FAR_FUTURE)))
    clock = pinned_clock()
    assert http_for(script, clock).device_request("GET", PATH, key, DEVICE).status_code == 200
    assert script.sent[1][TIME_HEADER].startswith("2026-11-28T06:00:00"), "HQ's, not the Date's"
    assert clock.offset == timedelta(hours=3)
    assert clock.signing_time().startswith("2026-11-28T06:00:00")


_FORGER = Ed25519PrivateKey.generate()
NOT_HQS_TIME = {
    "missing": None,
    "forged signature": hq_time(key=_FORGER),
    "altered after signing": {**hq_time(), "document": {**hq_time()["document"],
                                                        "at": FAR_FUTURE.isoformat()}},
    "another device": hq_time(device_id=OTHER_DEVICE),
    "another kind": hq_time(kind="checkpoint"),
    "no kind": envelope.sign_document(
        {k: v for k, v in hq_time()["document"].items() if k != "kind"}, HQ_SIGNING
    ),
    "version 2": hq_time(v=2),
    "version true": hq_time(v=True),
    "another signing kid": hq_time(hq_signing_kid="0123456789abcdef"),
    "a time without offset": hq_time(at="2026-11-28T06:00:00"),
    "not a time": hq_time(at="soon"),
    "a number": hq_time(at=1764309600),
    "not signed": hq_time()["document"],
    "a string": "2026-11-28T06:00:00+00:00",
}  # fmt: skip


@pytest.mark.parametrize("signed", NOT_HQS_TIME.values(), ids=NOT_HQS_TIME.keys())
def test_without_hqs_valid_signed_time_the_refusal_says_to_set_the_laptops_clock(signed):
    script = scripted(skew(signed, Date=dated(FAR_FUTURE)), answer(200))
    clock = pinned_clock()
    http = http_for(script, clock)
    with pytest.raises(HqRefused) as refused:
        http.device_request("GET", PATH, Ed25519PrivateKey.generate(), DEVICE)
    assert refused.value.problem.slug == "clock-skew"
    message = refused.value.message
    assert "This laptop's clock is too far from HQ's" in message.en
    assert "Set the laptop's date and time" in message.en
    assert "Jam laptop ini terlalu jauh dari jam HQ" in message.id
    assert "Setel tanggal dan jam laptop" in message.id
    assert len(script.sent) == 1, "not signed again, least of all with the Date's time"
    assert not clock.corrected and clock.offset is None
    assert clock.signing_time() == "2026-11-28T03:00:00.000000+00:00"


def test_reading_hqs_time_wants_this_devices_v1_hq_time_signed_with_the_pinned_key():
    assert read_hq_time(hq_time(), PINNED, DEVICE) == HQ
    wib = HQ.astimezone(timezone(timedelta(hours=7)))
    assert read_hq_time(hq_time(wib), PINNED, DEVICE) == HQ, "any offset, read as UTC"
    assert read_hq_time(hq_time(), PINNED, OTHER_DEVICE) is None
    for signed in NOT_HQS_TIME.values():
        assert read_hq_time(signed, PINNED, DEVICE) is None


def test_a_replayed_old_signed_time_only_moves_the_signing_time_into_the_past():
    """An old ``hq_time`` replayed by a hostile network: the device signs with a past time,
    which HQ refuses too; it is not signed a third time."""
    old = hq_time(LAPTOP - timedelta(days=30))
    key = Ed25519PrivateKey.generate()
    script = scripted(skew(old), skew(old), answer(200))
    clock = pinned_clock()
    response = http_for(script, clock).device_request("GET", PATH, key, DEVICE)
    assert response.status_code == 401 and len(script.sent) == 2
    assert script.sent[1][TIME_HEADER] < script.sent[0][TIME_HEADER], "only ever earlier"


def test_other_refusals_are_returned_as_they_are():
    unauthenticated = {"type": "/problems/unauthenticated", "title": "x", "status": 401}
    script = scripted(answer(401, unauthenticated, Date=dated(HQ)))
    clock = HqClock(lambda: LAPTOP)
    response = http_for(script, clock).device_request(
        "GET", PATH, Ed25519PrivateKey.generate(), DEVICE
    )
    assert response.status_code == 401 and len(script.sent) == 1
    assert not clock.corrected and clock.measured is not None, "measured, not applied"


def test_retry_after_as_a_date_counts_from_hqs_date_not_the_laptops_clock():
    busy = answer(503, Date=dated(HQ), **{"Retry-After": dated(HQ + timedelta(seconds=30))})
    waits: list[float] = []
    script = scripted(busy, answer(200))
    http = http_for(script, HqClock(lambda: LAPTOP), waits)
    assert http.request("GET", "/healthz").status_code == 200
    assert waits == [30.0], "not 3 hours (the cap) for a laptop 3 hours behind"


def test_retry_after_from_a_far_future_date_still_waits_no_longer_than_the_cap():
    busy = answer(503, Date=dated(LAPTOP), **{"Retry-After": dated(FAR_FUTURE)})
    waits: list[float] = []
    script = scripted(busy, answer(200))
    assert http_for(script, HqClock(lambda: LAPTOP), waits).request("GET", "/x").status_code == 200
    assert waits == [RetryPolicy().cap]


@pytest.mark.parametrize("crafted", ["²", "12²", "٣", "３", "⁴⁵", "1e9", "-5", "9" * 400 + "x"])
def test_a_crafted_retry_after_is_ignored_not_a_crash(crafted):
    assert parse_retry_after(crafted) is None
    busy = answer(503, **{"Retry-After": crafted})
    waits: list[float] = []
    script = scripted(busy, answer(200))
    assert http_for(script, HqClock(lambda: LAPTOP), waits).request("GET", "/x").status_code == 200
    assert waits == [0.0], "the jittered backoff (random 0 here), no Retry-After"


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
    clock = pinned_clock()
    clock.observe(answer(200, Date=dated(LAPTOP + timedelta(seconds=90))))
    assert clock.warning() is None, "90 seconds: within what a laptop clock drifts"
    clock.observe(answer(200, Date=dated(LAPTOP + timedelta(minutes=3))))
    assert "3 minutes behind" in clock.warning().en
    assert clock.correct(skew(hq_time()), DEVICE)
    assert "180 minutes (about 3 hours) behind" in clock.warning().en
    assert "HQ refused its time" in clock.warning().en
