"""A whole 60-applicant visit day through the CLI, checked in the vault and again at a real HQ.

``fieldkit synth day`` scripts the day (seed 1): 60 booked people, 6 no-shows, 6 missing a
document, 3 priority walk-ins, a lost passport booked as an expired one, one person on HQ's
watchlist. HQ is ``fieldkit-hq serve`` in a subprocess (SQLite); its watchlist holds the
scripted NIK (published with a cheap Argon2id cost) and reaches the laptop by
``fieldkit sync reference``. An officer (not a supervisor) runs the counter; the supervisor
approves the close with their own passphrase; ``fieldkit sync`` delivers it all. Every
command runs through the real ``fieldkit`` command group (in process, to keep the day under a
minute); every person is synthetic.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fieldkit.vault.kinds import APPLICANT, QUEUE, ROSTER
from sync.hq import screening, store
from sync.wire.reference import WatchlistParams
from tests.support.counter_play import cli_runner, play_day
from tests.support.hq import Server, assert_never_failed, running_hq
from tests.support.vault import OFF2, OFF2_NAME, OFF2_PW, SUP, SUP_PW, cli_env, reopen

DATE = "2026-12-10"
CHEAP = WatchlistParams(memory_kib=8, iterations=1, lanes=1, bits=16)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with running_hq(tmp_path_factory.mktemp("hq")) as running:
        yield running


@pytest.fixture(scope="module")
def day_played(server: Server, tmp_path_factory: pytest.TempPathFactory):
    """The day, played: ``(home, day, visit_id, played)``."""
    work = tmp_path_factory.mktemp("day")
    home = work / "laptop"
    sup = cli_runner(cli_env(home, SUP, SUP_PW, FIELDKIT_LANG="en"))
    sup("init", "--officer", SUP, "--name", "Rina Wati")
    # `officer add` reads the new officer's passphrase from the environment.
    adding = cli_runner(cli_env(home, SUP, SUP_PW, FIELDKIT_NEW_PASSPHRASE=OFF2_PW))
    adding("officer", "add", "--id", OFF2, "--name", OFF2_NAME, "--role", "officer")
    sup("enroll", "--hq", server.url, "--code", server.enroll_code(), "--allow-http")
    sup("synth", "day", "--date", DATE, "--out", str(work / "script"), "--seed", "1")
    day = json.loads((work / "script" / "day.json").read_text(encoding="utf-8"))
    screening.publish_watchlist(server.hq.engine(), day["watchlist"], CHEAP)
    sup("sync", "reference", "--once")
    plan = day["visit"]
    visit_id = sup(
        "visit", "create", "--kind", plan["kind"], "--site", plan["site"], "--date",
        plan["date"], "--session", plan["session"], "--coordinator-name",
        plan["coordinator_name"], "--coordinator-phone", plan["coordinator_phone"],
    ).stdout.strip()  # fmt: skip
    imported = json.loads(
        sup(
            "roster", "import", str(work / "script" / "roster.csv"), "--visit", visit_id, "--json"
        ).stdout
    )
    assert imported["imported"] == 60 and not imported["rejected"]
    officer = cli_runner(
        cli_env(home, OFF2, OFF2_PW, FIELDKIT_LANG="en", FIELDKIT_SUPERVISOR_PASSPHRASE=SUP_PW)
    )
    officer("visit", "open", visit_id)
    kit = json.loads(officer("visit", "kit", visit_id, "--json").stdout)
    ticks = [arg for item in kit["items"] for arg in ("--tick", item["id"])]
    officer("visit", "kit", visit_id, *ticks)
    played = play_day(officer, day, visit_id)
    summary = json.loads(officer("visit", "summary", visit_id, "--json").stdout)
    assert summary["undecided"] == 0, summary
    officer("visit", "close", visit_id, "--supervisor", SUP, "--json")
    sup("sync", "--once", "--json")
    waiting = json.loads(sup("status", "--json").stdout)
    assert waiting["outbox"]["waiting"] == 0, waiting
    return home, day, visit_id, played


def vault_state(home: Path, visit_id: str) -> tuple[list[Any], list[Any], Any]:
    session = reopen(home)
    try:
        roster = session.latest(ROSTER, visit_id)
        applicants = session.latest(APPLICANT, visit_id)
        queue = session.read(QUEUE, visit_id)
        return roster, applicants, queue
    finally:
        session.lock()
        session.vault.close()


def test_every_roster_entry_is_accounted_for(day_played):
    home, day, visit_id, played = day_played
    roster, _, _ = vault_state(home, visit_id)
    states = {str(r.data["booking_code"]): r.state for r in roster}
    assert set(states.values()) == {"arrived", "no_show"}
    assert sorted(c for c, s in states.items() if s == "no_show") == sorted(day["no_shows"])
    for record in roster:
        if record.state == "arrived":
            assert record.data["applicant_id"] == played.applicants[record.data["booking_code"]]


def test_every_decision_and_document_state_is_as_scripted(day_played):
    home, day, visit_id, played = day_played
    _, applicants, _ = vault_state(home, visit_id)
    by_id = {a.id: a for a in applicants}
    assert len(by_id) == len(day["arrivals"]) == 57
    for arrival in day["arrivals"]:
        key = arrival["booking_code"] or arrival["walk_in"]["nik"]
        record = by_id[played.applicants[key]]
        decision = record.data["decision"]
        assert record.state == decision["kind"] == arrival["decision"]["kind"], arrival["case"]
        for document, state in arrival["documents"].items():
            assert record.data["documents"][document] == state
        if arrival["case"] == "missing_document":
            assert decision["documents"] == arrival["decision"]["missing"]
            assert decision["due"] == arrival["decision"]["due"]
        if arrival["payment"]:
            paid = record.data["payment"]
            assert paid["paid"] and paid["ntpn"] == arrival["payment"]["ntpn"]
        assert record.data["checked_in_at"] and decision["at"] >= record.data["checked_in_at"]
    kinds = Counter(a.state for a in applicants)
    assert dict(kinds) == day["expected"]["decisions"]


def test_queue_numbers_are_gapless_per_series(day_played):
    home, _, visit_id, played = day_played
    _, applicants, queue = vault_state(home, visit_id)
    numbers: dict[str, list[int]] = {}
    for record in applicants:
        held = record.data["queue"]
        numbers.setdefault(held["series"], []).append(held["number"])
    for series, taken in numbers.items():
        assert sorted(taken) == list(range(1, len(taken) + 1)), series
        assert queue.data["last"][series] == len(taken)
    assert set(played.queue.values()) == {
        f"{r.data['queue']['series']}-{r.data['queue']['number']:03d}" for r in applicants
    }
    assert len(numbers.get("P", [])) >= 3  # the walk-ins at least


def test_hq_status_counts_the_day_it_received(day_played, server: Server):
    _, day, _, _ = day_played
    status = json.loads(server.hq.cli("status", "--json").stdout)
    expected = day["expected"]
    received = status["received"]
    assert received["applicant"] == expected["decisions"]
    assert received["roster"] == {"arrived": expected["arrived"], "no_show": expected["no_shows"]}
    assert received["visit"] == {"closed": 1}
    line = next(x for x in server.hq.cli("status").stdout.splitlines() if x.startswith("received"))
    assert f"roster {expected['roster']} (arrived {expected['arrived']}, " in line


def test_hq_received_the_day_with_its_audit_chain_verified(day_played, server: Server):
    home, _, visit_id, _ = day_played
    roster, applicants, _ = vault_state(home, visit_id)
    rows = server.hq.rows(store.records)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["kind"], row["id"])
        if key not in latest or row["version"] > latest[key]["version"]:
            latest[key] = row
    for record in [*roster, *applicants]:
        held = latest[(record.kind, record.id)]
        assert held["version"] == record.version and held["state"] == record.state
    visit = latest[("visit", visit_id)]
    assert visit["state"] == "closed"
    data = visit["data"] if isinstance(visit["data"], dict) else json.loads(visit["data"])
    assert data["closed_by"] == SUP
    entries = server.hq.rows(store.audit_entries)
    assert entries and all(e["verified"] for e in entries)
    actions = Counter(e["action"] for e in entries)
    # One audit entry per version a check-in wrote: the applicant and the queue counters, and
    # the roster entry marked arrived unless it was a walk-in.
    checkins = sum(2 + bool(a.data.get("roster_entry_id")) for a in applicants)
    assert actions["checked_in"] == checkins and actions["visit_closed"] == 1
    flags = server.hq.rows(store.flags)
    kinds = Counter(f["kind"] for f in flags)
    assert kinds["decision-unmet"] == 0, flags
    # HQ's own screening flags the watchlisted applicant, once for each version it received.
    watched = [a.id for a in applicants if (a.data.get("watchlist") or {}).get("possible_match")]
    assert len(watched) == 1
    versions = [r for r in rows if r["kind"] == "applicant" and r["id"] == watched[0]]
    hits = [f["detail"] for f in flags if f["kind"] == "watchlist-hit"]
    assert len(hits) == len(versions) and all(f"applicant {watched[0]} " in d for d in hits)
    assert_never_failed(server)
