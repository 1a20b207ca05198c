"""Play a synthetic visit day (``fieldkit synth day``'s ``day.json``) through the ``fieldkit`` CLI.

:func:`play_day` does what the officers do, one command per step, in the order of the script:
check each arrival in by booking code (or let the walk-in in), fill in the counter fields,
mark each original seen, missing or not applicable, record the billing code and the payment,
the biometrics reference, and decide. It asserts each step's answer as it goes (the queue
number, the "refer to supervisor" of the watchlist hit, the refusal of a lost passport at a
mobile visit) and returns what it did, for the test to compare with the vault and with HQ.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from click.testing import CliRunner, Result

from fieldkit.cli.main import main

Run = Callable[..., Result]


def cli_runner(env: Mapping[str, str]) -> Run:
    """``run(*args, expect=0)``: one ``fieldkit`` command in process with ``env``; its result."""
    runner = CliRunner(env=dict(env))

    def run(*args: str, expect: int = 0) -> Result:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == expect, (args, result.exit_code, result.output)
        return result

    return run


@dataclass
class Played:
    """What the day did: applicant ids by booking code (walk-ins by NIK), queue labels, cases."""

    applicants: dict[str, str] = field(default_factory=dict)
    queue: dict[str, str] = field(default_factory=dict)
    cases: dict[str, str] = field(default_factory=dict)
    referred: list[str] = field(default_factory=list)


def _json(result: Result) -> Any:
    return json.loads(result.stdout)


def play_day(run: Run, day: Mapping[str, Any], visit_id: str) -> Played:
    """Play every arrival of ``day`` at ``visit_id`` (open, roster imported); what was done."""
    played = Played()
    for arrival in day["arrivals"]:
        walk_in = arrival["walk_in"]
        if walk_in is None:
            key = str(arrival["booking_code"])
            answer = _json(run("checkin", visit_id, key, "--json"))["checked_in"]
        else:
            key = str(walk_in["nik"])
            answer = _json(
                run(
                    "walkin",
                    visit_id,
                    "--name",
                    walk_in["name"],
                    "--birth-date",
                    walk_in["birth_date"],
                    "--nik",
                    walk_in["nik"],
                    "--phone",
                    walk_in["phone"],
                    "--type",
                    walk_in["application_type"],
                    "--group",
                    walk_in["group"],
                    "--reason",
                    walk_in["reason"],
                    "--json",
                )
            )
        applicant_id = str(answer["applicant_id"])
        played.applicants[key] = applicant_id
        played.queue[key] = str(answer["queue"])
        played.cases[applicant_id] = str(arrival["case"])
        assert answer["refer_to_supervisor"] is (arrival["case"] == "watchlist"), arrival
        if answer["refer_to_supervisor"]:
            played.referred.append(applicant_id)
        _serve(run, applicant_id, arrival)
    return played


def _serve(run: Run, applicant_id: str, arrival: Mapping[str, Any]) -> None:
    """The counter: the refused attempt if scripted, the fields, documents, payment, decision."""
    attempt = arrival.get("attempt")
    if attempt:
        sets = [f"--set={k}={v}" for k, v in attempt.items()]
        refused = run("applicant", "update", applicant_id, *sets, "--json", expect=2)
        codes = [f["code"] for f in json.loads(refused.stdout)["error"]["findings"]]
        assert arrival["refusal"] in codes, codes
    args: list[str] = []
    for name, value in arrival["set"].items():
        if value is None:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        args.append(f"--set={name}={text}")
    flag = {"seen": "--seen", "missing": "--missing", "not_applicable": "--na"}
    for document, state in arrival["documents"].items():
        args += [flag[state], document]
    payment = arrival["payment"]
    if payment is not None:
        args += ["--billing-code", payment["billing_code"], "--amount", str(payment["amount"])]
        if payment["paid"]:
            args += ["--paid", "--ntpn", payment["ntpn"]]
    if arrival["biometrics_ref"]:
        args += ["--biometrics", arrival["biometrics_ref"]]
    if arrival["notes"]:
        args += ["--notes", arrival["notes"]]
    if args:
        run("applicant", "update", applicant_id, *args, "--json")
    decision = arrival["decision"]
    how = [applicant_id, decision["kind"]]
    for document in decision.get("missing", []):
        how += ["--missing", document]
    if decision.get("due"):
        how += ["--due", decision["due"]]
    if decision.get("reason"):
        how += ["--reason", decision["reason"]]
    if decision.get("text"):
        how += ["--text", decision["text"]]
    run("applicant", "decide", *how, "--json")
