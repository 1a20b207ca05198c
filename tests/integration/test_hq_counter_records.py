"""The counter workflow's records at a real HQ: checked by kind and format, flagged, never lost.

HQ runs as ``fieldkit-hq serve`` in a subprocess (SQLite, and PostgreSQL marked ``postgres``).
A real vault opens a visit, checks arrivals in and lets a walk-in in with the device's own
services (format-2 roster entries, applicants and queue counters, a kit checklist), records an
acceptance without payment and a referral, has the supervisor close the visit (a no-show) and
correct it, captures a format-1 applicant the old way, then syncs with the real client. What
HQ holds is read from its store. A second device, built from keys and real sealed batches
(``tests.support.device``), sends records of shapes no fieldkit writes: HQ stores them with
findings and answers 201, never a 500 (the fixture checks HQ's log at the end).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from fieldkit.domain.applicant import FIELDS, check_applicant
from fieldkit.domain.applications import applicant_category, required_documents
from fieldkit.domain.dates import parse_iso_date
from fieldkit.service.checkin import check_in, walk_in
from fieldkit.service.closing import approve_close, correct_visit
from fieldkit.service.kit import kit_checklist
from fieldkit.service.session import OfficerSession
from fieldkit.vault.records import Change
from fieldkit.vault.session import UnlockedVault
from sync.hq import store
from tests.support.counter_day import open_visit_on, roster_rows
from tests.support.device import Device
from tests.support.hq import Server, init_hq, running_hq_for
from tests.support.hq_app import hq_app
from tests.support.vault import (
    SUP,
    SUP_PW,
    add_applicants,
    enrolled_vault,
    no_wait_client,
    people,
    plan_visit,
)

AT = "2026-12-01T03:00:00.000000+00:00"
DAY = date(2026, 12, 1)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """``fieldkit-hq serve`` over SQLite or PostgreSQL; afterwards its log holds no failure."""
    yield from running_hq_for(request, tmp_path_factory)


def _json(value: object) -> Any:
    return json.loads(value) if isinstance(value, str) else value  # text on SQLite


def held(server: Server, device_id: str) -> dict[tuple[str, str, int], dict[str, Any]]:
    """Every record version HQ holds from the device, by ``(kind, id, version)``."""
    rows = server.hq.rows(store.records, store.records.c.device_id == device_id)
    return {
        (r["kind"], r["id"], r["version"]): {
            **r,
            "data": _json(r["data"]),
            "findings": _json(r["findings"]),
        }
        for r in rows
    }


def flags(server: Server, device_id: str) -> list[dict[str, Any]]:
    return server.hq.rows(store.flags, store.flags.c.device_id == device_id)


def codes(record: dict[str, Any]) -> list[str]:
    return [f["code"] for f in record["findings"]]


def accept_without_payment(
    session: UnlockedVault, applicant_id: str, visit_id: str, captured: dict[str, Any]
) -> int:
    """Write the applicant's acceptance with every original seen and no payment; its version.

    The counter's own service is not what is tested here: the version is written as it would
    (a new version of the record, state ``accepted``), with the person completed at the counter.
    """
    record = session.read("applicant", applicant_id)
    data = dict(record.data)
    for field in ("sex", "product", "validity_years", "married", "old_passport_issued"):
        data[field] = captured[field]
    quoted = check_applicant({k: data[k] for k in FIELDS if data[k] is not None}, on=DAY)
    assert quoted.value is not None and not quoted.findings, quoted.findings
    data["fee"] = quoted.value["fee"]
    born = parse_iso_date(data["birth_date"])
    assert born is not None
    category = applicant_category(born, bool(data["married"]), DAY)
    checklist = required_documents(
        data["application_type"],
        category,
        old_passport_issued=parse_iso_date(data["old_passport_issued"]),
    )
    data.update(
        documents={doc.value: "seen" for line in checklist for doc in line.alternatives},
        biometrics_ref="BIO-KRW-0001",
        payment=None,
        decision={
            "kind": "accepted",
            "at": AT,
            "by": "sup1",
            "reason": None,
            "text": None,
            "documents": [],
            "due": None,
        },
    )
    [(_, _, version)] = session.write(
        [Change("applicant", applicant_id, data, "accepted", visit_id, record.version)],
        action="applicant_decided",
    )
    return version


def refer(session: UnlockedVault, applicant_id: str, visit_id: str) -> None:
    """Write the applicant's referral to the supervisor (a decision that needs no payment)."""
    record = session.read("applicant", applicant_id)
    decision = {
        "kind": "referred",
        "at": AT,
        "by": "sup1",
        "reason": "supervisor",
        "text": "name differs from the KTP",
        "documents": [],
        "due": None,
    }
    session.write(
        [
            Change(
                "applicant",
                applicant_id,
                {**record.data, "decision": decision},
                "referred",
                visit_id,
                record.version,
            )
        ],
        action="applicant_decided",
    )


def test_a_counter_day_is_checked_at_hq_and_an_unpaid_acceptance_is_flagged(
    server: Server, tmp_path: Path
) -> None:
    session = enrolled_vault(tmp_path / "device", server.url, server.enroll_code())
    officer = OfficerSession(session)
    arriving = people(3, 41)
    visit_id, entry_ids = open_visit_on(session, roster_rows(arriving), csv_dir=tmp_path / "csv")
    kit_checklist(officer, visit_id)
    arrivals = [check_in(officer, visit_id, entry_id) for entry_id in entry_ids[:2]]
    accepted_id = arrivals[0].applicant_id
    accepted_version = accept_without_payment(session, accepted_id, visit_id, arriving[0])
    refer(session, arrivals[1].applicant_id, visit_id)
    walked = walk_in(
        officer,
        visit_id,
        {"name": "Siti Aminah", "birth_date": "1950-03-04"},
        group="elderly",
        reason="76 years old, no booking",
    )
    refer(session, walked.applicant_id, visit_id)
    # The supervisor approves the day (the third entry becomes a no-show), then corrects it.
    approve_close(officer, visit_id, SUP, lambda: SUP_PW, allow_test_kdf=True)
    correct_visit(officer, visit_id, "walk-in count read out wrong")
    older_visit = plan_visit(session)
    [older_id] = add_applicants(session, older_visit, people(1, 42))

    report = no_wait_client(server.url, session).sync(once=True)
    assert report.exit_code == 0, report.as_json("en")

    records = held(server, session.vault.device_id)
    assert {kind for kind, _, _ in records} == {"visit", "roster", "applicant", "queue", "kit"}
    unpaid = records[("applicant", accepted_id, accepted_version)]
    assert unpaid["state"] == "accepted" and unpaid["data"]["payment"] is None, "stored as sent"
    assert codes(unpaid) == ["decision.no_billing_code", "decision.unpaid", "hq.decision_unmet"]
    finding = unpaid["findings"][-1]
    assert finding["severity"] == "error" and finding["field"] == "decision"
    assert finding["message"]["en"] == (
        "Accepted without its prerequisites: No SIMPONI billing code is recorded. "
        "The passport fee is not paid yet (no NTPN)."
    )
    assert finding["message"]["id"].startswith("Diterima tanpa")

    # Everything else the device wrote, format 2 and format 1 alike, passes HQ's checks.
    others = {
        key: r for key, r in records.items() if key != ("applicant", accepted_id, accepted_version)
    }
    assert all(r["findings"] == [] for r in others.values()), {
        key: codes(r) for key, r in others.items() if r["findings"]
    }
    states = {(kind, r["state"]) for (kind, _, _), r in records.items()}
    assert {("roster", "arrived"), ("roster", "no_show"), ("visit", "closed")} <= states
    walked_in = [
        r for (kind, _, _), r in records.items() if kind == "applicant" and r["data"].get("walk_in")
    ]
    assert {r["data"]["walk_in"]["group"] for r in walked_in} == {"elderly"}  # two versions
    corrected = [
        r for (kind, _, _), r in records.items() if kind == "visit" and r["data"].get("correction")
    ]
    assert len(corrected) == 1 and corrected[0]["data"]["closed_by"] == SUP
    formats = {(kind, r["data"].get("format")) for (kind, _, _), r in records.items()}
    assert {("applicant", 2), ("roster", 2), ("visit", 2), ("queue", 1), ("kit", 1)} <= formats
    assert ("applicant", None) in formats and ("visit", None) in formats, "format 1 too"
    older = [r for (kind, rid, _), r in records.items() if kind == "applicant" and rid == older_id]
    assert [r["state"] for r in older] == ["captured"] and "format" not in older[0]["data"]

    [flag] = flags(server, session.vault.device_id)
    assert flag["kind"] == "decision-unmet"
    assert flag["detail"].startswith(f"applicant {accepted_id} version {accepted_version}: ")
    assert "The passport fee is not paid yet" in flag["detail"]
    assert arriving[0]["name"] not in flag["detail"] and arriving[0]["nik"] not in flag["detail"]
    status = server.cli("status").stdout
    assert "decision-unmet" in status and accepted_id in status, "HQ's clerks see it"


# --- shapes no fieldkit writes -------------------------------------------------------------------


def item(
    device: Device, kind: str, data: dict[str, Any], state: str, **fields: Any
) -> dict[str, Any]:
    """A record item of a new record of ``kind``, as a device's batch carries it."""
    device.outbox += 1
    return {
        "t": "r",
        "kind": kind,
        "id": fields.get("id", str(uuid.uuid4())),
        "version": fields.get("version", 1),
        "visit_id": fields.get("visit_id"),
        "state": state,
        "officer_id": "off2",
        "at": AT,
        "outbox_seq": device.outbox,
        "data": data,
    }


def nested(depth: int) -> object:
    value: object = "deep"
    for _ in range(depth):
        value = {"n": [value]}
    return value


def test_hostile_and_future_records_are_stored_with_findings_and_flags_never_refused(
    server: Server,
) -> None:
    device = server.enroll()
    visit_id = str(uuid.uuid4())
    future = item(device, "applicant", {"format": 3, "everything": "new"}, "waiting")
    parcel = item(device, "parcel", {"format": 1, "weight": 3}, "sent")
    stringly = item(
        device,
        "applicant",
        {
            "format": 2,
            "decision": "accepted",
            "documents": ["ktp", "kk"],
            "queue": {"series": "A", "number": "7"},
        },
        "accepted",
        visit_id=visit_id,
    )
    deep = item(
        device, "applicant", {"format": 2, "notes": nested(25), "payment": [1, 2]}, "at_counter"
    )
    counters = item(device, "queue", {"format": 1, "last": ["A", 3], "walk_ins": "2"}, "open")
    kit = item(device, "kit", {"format": 1, "items": {"printer": True}}, "packing")
    visit = item(
        device, "visit", {"format": 2, "opened_at": 5}, "closed", id=visit_id, visit_id=visit_id
    )
    sent = [future, parcel, stringly, deep, counters, kit, visit]
    _, sealed = device.cut(items=[*sent, *device.audit_entries(1)])
    answer = server.post(sealed)
    assert answer.status_code == 201, answer.text

    records = held(server, device.device_id)
    assert len(records) == len(sent), "every record stored, none dropped"
    by_id = {rid: r for (_, rid, _), r in records.items()}
    assert by_id[future["id"]]["data"] == future["data"], "stored as it came"
    assert codes(by_id[future["id"]]) == ["hq.format_unknown"]
    assert codes(by_id[parcel["id"]]) == ["hq.format_unknown"]
    assert "hq.decision_unmet" in codes(by_id[stringly["id"]])
    shapes = {
        rid: {f["field"] for f in r["findings"] if f["code"] == "hq.shape"}
        for rid, r in by_id.items()
    }
    assert {"decision", "documents", "queue.number"} <= shapes[stringly["id"]]
    assert "notes" in shapes[deep["id"]]
    assert "payment.not_object" in codes(by_id[deep["id"]]), "the payment rules' own code"
    assert shapes[counters["id"]] == {"last", "walk_ins"}
    assert shapes[kit["id"]] == {"items"}
    assert {"opened_at", "opened_by", "closed_at", "closed_by", "summary"} <= shapes[visit_id]

    raised = sorted((f["kind"], f["detail"].split(":")[0]) for f in flags(server, device.device_id))
    assert raised == sorted(
        [
            ("decision-unmet", f"applicant {stringly['id']} version 1"),
            ("format-unknown", f"applicant {future['id']} version 1"),
            ("format-unknown", f"parcel {parcel['id']} version 1"),
        ]
    )

    # A record whose data is not an object is a malformed batch: a 4xx problem, nothing stored.
    broken = item(device, "applicant", {"format": 2}, "waiting")
    broken["data"] = [{"decision": "accepted"}]
    _, refused = device.cut(items=[broken])
    answer = server.post(refused)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"] == "/problems/malformed-body"
    assert len(held(server, device.device_id)) == len(sent)

    # The same versions again in a later batch (a device restored from a backup): kept once,
    # and their flags are not raised a second time.
    again = [{**r, "outbox_seq": device.outbox + n} for n, r in enumerate(sent, start=1)]
    device.outbox += len(sent)
    _, resent = device.cut(items=again)
    assert server.post(resent).status_code == 201
    assert len(held(server, device.device_id)) == len(sent)
    assert len(flags(server, device.device_id)) == len(raised)


def test_checks_that_raise_keep_the_batch_with_a_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in HQ's checks costs a finding, never the batch (HQ's app in this process)."""
    from sync.hq import counter_checks

    def broken(*args: object, **kwargs: object) -> list[object]:
        raise KeyError("RINA WATI")  # what an exception may quote: never logged or stored

    with hq_app(init_hq(tmp_path / "hq")) as api:
        device = api.enroll()
        monkeypatch.setattr(counter_checks, "record_findings", broken)
        header, sealed = device.cut(records=2)
        answer = api.post(sealed)
        assert answer.status_code == 201, answer.text
        stored = api.hq.rows(store.records, store.records.c.batch_id == header.batch_id)
        assert len(stored) == 2
        for row in stored:
            [finding] = _json(row["findings"])
            assert finding["code"] == "hq.rules_failed" and finding["field"] == "applicant"
            assert "RINA" not in json.dumps(finding)
        assert not api.failures, api.failures
