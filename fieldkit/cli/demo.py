"""``fieldkit demo``: a whole synthetic visit day, from a throwaway HQ to what HQ received.

Everything lives in one temporary folder, removed at the end (also on Ctrl-C): an HQ on this
machine (``fieldkit-hq init``, ``watchlist import``, ``serve`` on 127.0.0.1 with its SQLite
store, driven as subprocesses only: the CLI never imports ``sync``), and a vault with the
supervisor ``sup1`` that enrolls with it and pulls the watchlist. Today's Eazy Passport visit
is planned with the roster of ``fieldkit synth day`` (60 synthetic people), imported and
opened. Then, on a terminal, the field app opens on that vault; otherwise (or with
``--headless``) the scripted day is played through the application layer, arrival by
arrival, as ``tests/support/counter_play.py`` plays it through the commands; the supervisor
approves the close and the laptop syncs. Last, ``fieldkit-hq status`` shows what HQ received
and the counts are checked against the script's (exit 1 if they differ).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import click

from fieldkit.cli.output import EXIT_FAILED, Cli, cli
from fieldkit.cli.synth import write_roster_csv
from fieldkit.domain.findings import Message
from fieldkit.domain.summary import summary_lines
from fieldkit.domain.synthday import SyntheticDay, synthetic_day
from fieldkit.service import checkin, closing, counter, roster, visits
from fieldkit.service import session as officer_session
from fieldkit.service import sync as sync_service
from fieldkit.service.errors import InvalidInput, VaultError
from fieldkit.service.session import OfficerSession
from fieldkit.service.status import laptop_status
from fieldkit.settings import CONFIG_ENV, CREDENTIALS_ENV, Settings

SUPERVISOR = "sup1"
SUPERVISOR_NAME = "Rina Wati"
# Demo passphrases, printed on purpose: the vault and the HQ are thrown away at the end.
PASSPHRASE = "demo kopi tubruk pagi"
HQ_PASSPHRASE = "demo hq rendang sabtu malam"
APPLICANTS = 60
HQ_START_SECONDS = 60.0
HQ_COMMAND_SECONDS = 120.0
HQ_STOP_SECONDS = 10.0
SYNC_PASSES = 5
# What the supervisor writes when a possible watchlist match the script did not plan (the
# device keeps 16-bit tags: about 1 in 65,000 people not on the list match) is checked.
CLEARED = "Diperiksa supervisor: bukan orang yang tercantum (demo, sintetis)."

_DECISION_WORDS = {
    "accepted": Message("diterima", "accepted"),
    "pending_documents": Message("menunggu dokumen", "pending documents"),
    "rejected": Message("ditolak", "rejected"),
    "referred": Message("dirujuk ke supervisor", "referred to the supervisor"),
}
_GROUP_WORDS = {
    "elderly": Message("lansia", "60 or over"),
    "under_five": Message("balita", "under five"),
    "disability": Message("disabilitas", "disability"),
    "simpatik_quota": Message("kuota Simpatik", "Simpatik quota"),
}


class DemoFailed(Exception):
    """A step of the demo went wrong: what to tell the user, and what the program said."""

    def __init__(self, message: Message, detail: str = "") -> None:
        super().__init__(message.en)
        self.message = message
        self.detail = detail


def hq_command() -> list[str]:
    """How to run ``fieldkit-hq``: the console script beside this Python, else the module.

    ``python -m sync.hq`` is the same command (``sync/hq/__main__.py``); the console script's
    own module (``sync.hq.entry``) does not run as a program.
    """
    here = Path(sys.executable).parent
    found = shutil.which("fieldkit-hq", path=str(here))
    return [found] if found else [sys.executable, "-m", "sync.hq"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class DemoHq:
    """A throwaway HQ in ``home``: ``fieldkit-hq`` commands, and ``serve`` while it runs."""

    home: Path
    env: dict[str, str]
    command: list[str] = field(default_factory=hq_command)
    process: subprocess.Popen[bytes] | None = None
    url: str | None = None

    @classmethod
    def make(cls, work: Path, settings: Settings) -> DemoHq:
        """An HQ in ``work/hq`` with its own environment: no setting of the user's reaches it.

        ``FIELDKIT_*`` variables are dropped (an ``FIELDKIT_HQ_DB`` would point it at a real
        database) and the configuration file is one that does not exist; only the test KDF
        setting is passed on.
        """
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("FIELDKIT_") and k != CREDENTIALS_ENV
        }
        env.update(
            {
                CONFIG_ENV: str(work / "no-config.toml"),
                "FIELDKIT_HQ_HOME": str(work / "hq"),
                "FIELDKIT_HQ_PASSPHRASE": HQ_PASSPHRASE,
                "FIELDKIT_LANG": settings.lang,
            }
        )
        if settings.insecure_test_kdf:
            env["FIELDKIT_INSECURE_TEST_KDF"] = "1"
        return cls(work / "hq", env)

    @property
    def log(self) -> Path:
        """Where ``serve`` writes (beside HQ's home, in the temporary folder)."""
        return self.home.parent / "hq-serve.log"

    def run(self, *args: str) -> str:
        """Run ``fieldkit-hq ARGS``; its standard output, or :class:`DemoFailed`."""
        done = subprocess.run(
            [*self.command, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=HQ_COMMAND_SECONDS,
            check=False,
        )
        if done.returncode != 0:
            shown = " ".join(("fieldkit-hq", *args))
            raise DemoFailed(
                Message(
                    f"`{shown}` gagal (kode keluar {done.returncode}).",
                    f"`{shown}` failed (exit code {done.returncode}).",
                ),
                done.stderr.strip() or done.stdout.strip(),
            )
        return done.stdout

    def start(self) -> str:
        """``fieldkit-hq serve`` on a free port of 127.0.0.1; its address once /healthz answers.

        A port taken between choosing and binding it is tried again with another one.
        """
        for _ in range(3):
            port = free_port()
            with self.log.open("ab") as log:
                self.process = subprocess.Popen(
                    [*self.command, "serve", "--port", str(port), "--log-level", "warning"],
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    # Its own session: Ctrl-C reaches the demo, which then stops HQ itself.
                    start_new_session=os.name == "posix",
                )
            url = f"http://127.0.0.1:{port}"
            if self._healthy(url):
                self.url = url
                return url
            if self.process.poll() is None:
                break  # running but never answering: trying another port will not help
        detail = self.log.read_text(encoding="utf-8", errors="replace")[-2000:]
        self.stop()
        raise DemoFailed(
            Message("HQ tidak dapat dijalankan.", "HQ could not be started."), detail.strip()
        )

    def _healthy(self, url: str) -> bool:
        """Wait for ``url``/healthz to answer 200; False if ``serve`` exits or takes too long."""
        deadline = time.monotonic() + HQ_START_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """Stop ``serve`` (terminate, then kill after a grace period); safe to call twice."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=HQ_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _line(text: str) -> None:
    click.echo(text)


def _step(text: str) -> None:
    click.echo(f"\n== {text}")


def demo_settings(settings: Settings, work: Path) -> Settings:
    """The user's settings (language, keys, lock time) for the throwaway vault in ``work/home``.

    Officer ``sup1`` (so the field app's unlock screen is filled in); no passphrase, CA
    bundle or kit file of the user's carries over.
    """
    return replace(
        settings,
        home=work / "home",
        officer=SUPERVISOR,
        passphrase=None,
        new_passphrase=None,
        supervisor_passphrase=None,
        kit_file=None,
        hq_home=work / "hq",
        hq_db=None,
        hq_passphrase=None,
        hq_passphrase_file=None,
        hq_ca_bundle=None,
    )


def _prepare_vault(
    s: Cli, settings: Settings, hq: DemoHq, url: str, day: SyntheticDay, work: Path
) -> tuple[OfficerSession, str]:
    """The vault, enrolled and holding HQ's watchlist, with today's visit planned and open."""
    _step(
        s.say(
            f"Vault baru di {settings.home}: supervisor {SUPERVISOR} ({SUPERVISOR_NAME}), "
            f'kata sandi demo "{PASSPHRASE}"',
            f"A new vault in {settings.home}: supervisor {SUPERVISOR} ({SUPERVISOR_NAME}), "
            f'demo passphrase "{PASSPHRASE}"',
        )
    )
    session = officer_session.create_vault(settings, SUPERVISOR, SUPERVISOR_NAME, PASSPHRASE)
    try:
        for warning in session.warnings:
            click.echo(warning.text(s.lang), err=True)
        code = json.loads(hq.run("device", "enroll-code", "--expires", "1h", "--json"))["code"]
        sync_service.enroll(session, url, str(code), allow_http=True)
        _line(
            s.say(
                f"Terdaftar di HQ {url} sebagai perangkat {session.device_id}; "
                "kunci HQ disematkan.",
                f"Enrolled with HQ {url} as device {session.device_id}; HQ's keys pinned.",
            )
        )
        _sync_until_complete(s, session)
        _line(
            s.say(
                "Data referensi HQ diterima (daftar cekal, tarif).",
                "HQ's reference data received (watchlist, fees).",
            )
        )
        plan = day.visit
        visit_id = visits.create_visit(
            session,
            kind=plan["kind"],
            on=plan["date"],
            session_name=plan["session"],
            site=plan["site"],
            coordinator_name=plan["coordinator_name"],
            coordinator_phone=plan["coordinator_phone"],
        )
        _step(
            s.say(
                f"Kunjungan Eazy Passport hari ini ({plan['date']}, {plan['session']}) di "
                f"{plan['site']}: {visit_id}",
                f"Today's Eazy Passport visit ({plan['date']}, {plan['session']}) at "
                f"{plan['site']}: {visit_id}",
            )
        )
        sheet = work / "roster.csv"
        write_roster_csv(day, sheet)
        imported = roster.import_roster(session, visit_id, sheet)
        if imported.imported != len(day.roster) or imported.rejected:
            raise DemoFailed(
                Message(
                    f"Impor daftar: {imported.imported} dari {len(day.roster)} baris.",
                    f"Roster import: {imported.imported} of {len(day.roster)} rows.",
                )
            )
        _line(
            s.say(
                f"Daftar koordinator diimpor: {imported.imported} pemohon sintetis.",
                f"The coordinator's roster imported: {imported.imported} synthetic applicants.",
            )
        )
        visits.open_visit(session, visit_id)
        _line(s.say("Kunjungan dibuka di lokasi.", "The visit is open on site."))
    except BaseException:
        session.lock()
        raise
    return session, visit_id


def _sync_until_complete(s: Cli, session: OfficerSession) -> sync_service.SyncReport:
    """Sync until HQ acknowledged everything (a few passes at most), else :class:`DemoFailed`."""
    report = None
    for _ in range(SYNC_PASSES):
        report = sync_service.sync(session, once=True)
        if report.complete:
            return report
        if report.untrusted is not None or report.refused:
            break
    problem = "" if report is None else json.dumps(report.as_json(s.lang), ensure_ascii=False)
    raise DemoFailed(
        Message("Sinkronisasi dengan HQ tidak selesai.", "The sync with HQ did not complete."),
        problem,
    )


def _who(s: Cli, arrival: Mapping[str, Any]) -> str:
    walk_in = arrival["walk_in"]
    if walk_in is None:
        return s.say(f"booking {arrival['booking_code']}", f"booking {arrival['booking_code']}")
    group = _GROUP_WORDS.get(str(walk_in["group"]))
    named = group.text(s.lang) if group else str(walk_in["group"])
    return s.say(f"tanpa booking ({named})", f"walk-in ({named})")


def _arrive(session: OfficerSession, visit_id: str, arrival: Mapping[str, Any]) -> checkin.Arrival:
    """Check the scripted arrival in by booking code, or let the walk-in in."""
    walk_in = arrival["walk_in"]
    if walk_in is None:
        code = str(arrival["booking_code"])
        matches = [
            m
            for m in checkin.find_arrival(session, visit_id, code)
            if m.matched_by == "booking_code"
        ]
        if len(matches) != 1:
            raise DemoFailed(
                Message(
                    f"Booking {code} tidak ditemukan di daftar.",
                    f"Booking {code} is not on the roster.",
                )
            )
        return checkin.check_in(session, visit_id, matches[0].entry_id)
    person = {
        key: walk_in[key]
        for key in ("name", "birth_date", "nik", "phone", "application_type")
        if walk_in.get(key)
    }
    return checkin.walk_in(
        session, visit_id, person, group=str(walk_in["group"]), reason=str(walk_in["reason"])
    )


def _counter_changes(arrival: Mapping[str, Any]) -> dict[str, object]:
    """What the officer records at the counter: fields, originals, payment, biometrics, notes."""
    changes: dict[str, object] = {k: v for k, v in arrival["set"].items() if v is not None}
    if arrival["documents"]:
        changes["documents"] = dict(arrival["documents"])
    if arrival["payment"] is not None:
        changes["payment"] = dict(arrival["payment"])
    if arrival["biometrics_ref"]:
        changes["biometrics_ref"] = arrival["biometrics_ref"]
    if arrival["notes"]:
        changes["notes"] = arrival["notes"]
    return changes


def _serve(
    s: Cli, session: OfficerSession, applicant_id: str, arrival: Mapping[str, Any]
) -> list[str]:
    """The counter's work on one applicant, as scripted, ending with the decision; notes."""
    notes: list[str] = []
    attempt = arrival.get("attempt")
    if attempt:
        try:
            counter.update_applicant(session, applicant_id, dict(attempt))
        except InvalidInput as refused:
            codes = [getattr(f, "code", "") for _, f in refused.findings]
            if arrival["refusal"] not in codes:
                raise
            notes.append(
                s.say(
                    f"perubahan ke paspor hilang ditolak ({arrival['refusal']})",
                    f"change to a lost passport refused ({arrival['refusal']})",
                )
            )
        else:
            raise DemoFailed(
                Message(
                    f"Aturan {arrival['refusal']} tidak menolak perubahan pemohon {applicant_id}.",
                    f"Rule {arrival['refusal']} did not refuse the change to {applicant_id}.",
                )
            )
    changes = _counter_changes(arrival)
    if changes:
        counter.update_applicant(session, applicant_id, changes)
    decision = arrival["decision"]
    counter.decide(
        session,
        applicant_id,
        str(decision["kind"]),
        reason=decision.get("reason"),
        text=decision.get("text"),
        missing=decision.get("missing"),
        due=decision.get("due"),
    )
    return notes


def play_day(s: Cli, session: OfficerSession, visit_id: str, day: SyntheticDay) -> None:
    """Every scripted arrival in order: check-in, the counter's work, the decision; one line each.

    The watchlisted person must be told "refer to supervisor" (else the watchlist did not reach
    the laptop) and is referred, as scripted. A possible match the script did not plan (the
    device's short tags match about 1 in 65,000 people not on the list) is cleared by the
    supervisor before the counter goes on, as a supervisor would after checking the person.
    """
    _step(
        s.say(
            f"Hari layanan: {len(day.arrivals)} kedatangan sesuai skrip (seed {day.seed})",
            f"The day at the counter: {len(day.arrivals)} scripted arrivals (seed {day.seed})",
        )
    )
    for arrival in day.arrivals:
        arrived = _arrive(session, visit_id, arrival)
        watched = arrival["case"] == "watchlist"
        notes: list[str] = []
        if watched and not arrived.refer_to_supervisor:
            raise DemoFailed(
                Message(
                    "Pemohon di daftar cekal tidak dirujuk: daftar cekal HQ tidak ada di laptop.",
                    "The watchlisted applicant was not referred: HQ's watchlist is not on the "
                    "laptop.",
                )
            )
        if arrived.refer_to_supervisor:
            notes.append(s.say("RUJUK KE SUPERVISOR", "REFER TO SUPERVISOR"))
            if not watched:
                counter.resolve_watchlist(session, arrived.applicant_id, "cleared", CLEARED)
                notes.append(s.say("dibersihkan oleh supervisor", "cleared by the supervisor"))
        notes += _serve(s, session, arrived.applicant_id, arrival)
        words = _DECISION_WORDS[str(arrival["decision"]["kind"])].text(s.lang)
        extra = f"  [{'; '.join(notes)}]" if notes else ""
        _line(
            f"  {arrival['at'][:5]}  {arrived.queue_label:<6} {_who(s, arrival):<30} {words}{extra}"
        )


def _close_and_sync(s: Cli, settings: Settings, session: OfficerSession, visit_id: str) -> None:
    """The supervisor approves the close; the laptop syncs until HQ acknowledged everything."""
    summary = closing.approve_close(
        session,
        visit_id,
        SUPERVISOR,
        lambda: PASSPHRASE,
        allow_test_kdf=settings.insecure_test_kdf,
    )
    _step(
        s.say(
            f"Kunjungan ditutup, disetujui oleh supervisor {SUPERVISOR}",
            f"Visit closed, approved by supervisor {SUPERVISOR}",
        )
    )
    for line in summary_lines(summary):
        _line(line.text(s.lang))
    report = _sync_until_complete(s, session)
    _step(
        s.say(
            f"Sinkron: {report.acked} batch tersegel dikonfirmasi HQ ({report.items} item, "
            f"{report.bytes_sent} byte)",
            f"Synced: {report.acked} sealed batches acknowledged by HQ ({report.items} items, "
            f"{report.bytes_sent} bytes)",
        )
    )


def expected_at_hq(day: SyntheticDay) -> dict[str, dict[str, int]]:
    """What HQ must hold at the end of the day, by kind and state (``fieldkit-hq status``)."""
    expected = day.expected()
    decisions: dict[str, int] = expected["decisions"]  # type: ignore[assignment]
    return {
        "applicant": dict(decisions),
        "roster": {"arrived": int(expected["arrived"]), "no_show": int(expected["no_shows"])},  # type: ignore[call-overload]
        "visit": {"closed": 1},
    }


def check_hq(s: Cli, settings: Settings, hq: DemoHq, day: SyntheticDay) -> list[str]:
    """Print ``fieldkit-hq status``; what differs from the day's expected counts (empty: none).

    HQ's latest versions by kind and state against the script's counts, and HQ's record
    versions against the laptop's outbox: every version HQ acknowledged, each once.
    """
    _step(s.say("fieldkit-hq status: apa yang diterima HQ", "fieldkit-hq status: what HQ received"))
    click.echo(hq.run("status").rstrip())
    status = json.loads(hq.run("status", "--json"))
    received: dict[str, dict[str, int]] = status.get("received", {})
    problems = []
    for kind, states in expected_at_hq(day).items():
        got = received.get(kind, {})
        if got != states:
            problems.append(f"{kind}: {s.say('diharapkan', 'expected')} {states}, HQ {got}")
    applicants = sum(received.get("applicant", {}).values())
    walk_ins = applicants - received.get("roster", {}).get("arrived", 0)
    wanted = day.expected()["walk_ins"]
    if walk_ins != wanted:
        problems.append(f"walk-ins: {s.say('diharapkan', 'expected')} {wanted}, HQ {walk_ins}")
    outbox = laptop_status(settings, retention_days=settings.retention_days).outbox
    if outbox.waiting or status.get("records") != outbox.acknowledged:
        problems.append(
            s.say(
                f"versi rekaman: laptop mengirim {outbox.acknowledged} ({outbox.waiting} "
                f"menunggu), HQ menyimpan {status.get('records')}",
                f"record versions: the laptop sent {outbox.acknowledged} ({outbox.waiting} "
                f"waiting), HQ holds {status.get('records')}",
            )
        )
    if status.get("missing"):
        problems.append(f"missing seqs: {status['missing']}")
    if status.get("audit_unverified"):
        problems.append(f"audit entries unverified: {status['audit_unverified']}")
    flags = [f["kind"] for f in status.get("flags", [])]
    if "watchlist-hit" not in flags:
        problems.append(
            s.say(
                "HQ tidak menandai pemohon di daftar cekal",
                "HQ did not flag the watchlisted applicant",
            )
        )
    if "decision-unmet" in flags:
        problems.append(
            s.say(
                "HQ menandai keputusan yang tidak memenuhi aturan",
                "HQ flagged a decision that breaks the rules",
            )
        )
    return problems


def _report(s: Cli, day: SyntheticDay, problems: list[str]) -> None:
    expected = day.expected()
    decisions = ", ".join(
        f"{_DECISION_WORDS[k].text(s.lang)} {n}"
        for k, n in expected["decisions"].items()  # type: ignore[attr-defined]
    )
    if problems:
        _step(
            s.say("HQ TIDAK menerima hari yang diharapkan:", "HQ did NOT receive the expected day:")
        )
        for problem in problems:
            _line(f"  - {problem}")
        return
    _step(
        s.say(
            f"HQ menerima seluruh hari, tepat sekali: {expected['roster']} di daftar "
            f"({expected['arrived']} datang, {expected['no_shows']} tidak datang), "
            f"{expected['walk_ins']} tanpa booking; keputusan: {decisions}.",
            f"HQ received the whole day, exactly once: {expected['roster']} on the roster "
            f"({expected['arrived']} came, {expected['no_shows']} no-shows), "
            f"{expected['walk_ins']} walk-ins; decisions: {decisions}.",
        )
    )


def _field_app(s: Cli, settings: Settings, session: OfficerSession, hq: DemoHq) -> None:
    """Lock, open the field app on the demo vault; afterwards, send HQ what was done."""
    session.lock()
    _step(
        s.say(
            f'Aplikasi lapangan dibuka: buka kunci sebagai {SUPERVISOR} dengan "{PASSPHRASE}". '
            "F1 bantuan; keluar dengan Ctrl+Q.",
            f'Opening the field app: unlock as {SUPERVISOR} with "{PASSPHRASE}". '
            "F1 for help; Ctrl+Q quits.",
        )
    )
    click.pause(s.say("Tekan tombol apa saja untuk mulai…", "Press any key to start…"))
    from fieldkit.tui import run  # Textual loads only here

    run(settings)
    # What was done in the app since its last sync goes to HQ before HQ is asked.
    try:
        after = officer_session.unlock(settings, SUPERVISOR, lambda: PASSPHRASE)
        try:
            complete = sync_service.sync(after, once=True).complete
        finally:
            after.lock()
    except VaultError as exc:
        click.echo(exc.text(s.lang), err=True)
        complete = False
    if not complete:
        _line(
            s.say(
                "Sinkron terakhir belum selesai; HQ menampilkan yang sudah diterima.",
                "The last sync did not complete; HQ shows what it received.",
            )
        )
    _step(s.say("fieldkit-hq status: apa yang diterima HQ", "fieldkit-hq status: what HQ received"))
    click.echo(hq.run("status").rstrip())


@click.command("demo")
@click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="Seed of the synthetic day; the same seed, the same people and the same day.",
)
@click.option(
    "--headless",
    is_flag=True,
    help="Play the scripted day without the field app (the default without a terminal).",
)
@click.option(
    "--keep",
    is_flag=True,
    help="Keep the temporary folder (vault, HQ store, logs) and print where it is.",
)
@click.pass_context
def demo(ctx: click.Context, seed: int, headless: bool, keep: bool) -> None:
    """A whole synthetic visit day, from a throwaway HQ on this machine to what HQ received.

    In a temporary folder: an HQ (fieldkit-hq init, watchlist import, serve on 127.0.0.1,
    SQLite) and a vault with supervisor sup1 (a demo passphrase, printed) that enrolls with it
    and pulls the watchlist; today's Eazy Passport visit with a roster of 60 synthetic people
    (fieldkit synth day), imported and opened. On a terminal the field app then opens on that
    vault; without one, or with --headless, the scripted day is played (check-ins, walk-ins,
    the counter, decisions, a watchlist hit, a lost passport refused), the supervisor closes
    the visit and the laptop syncs. Last, fieldkit-hq status shows what HQ received, checked
    against the day's expected counts. HQ is stopped and the folder removed at the end, also
    on Ctrl-C (--keep keeps the folder). Language: fieldkit --lang en demo. Exit 0 when HQ
    received the day as expected; 1 when it did not, a step failed or on Ctrl-C; other codes
    as for every command (fieldkit --help).
    """
    s = cli()
    interactive = not headless and sys.stdin.isatty() and sys.stdout.isatty()
    work = Path(tempfile.mkdtemp(prefix="fieldkit-demo-"))
    settings = demo_settings(s.settings, work)
    hq = DemoHq.make(work, settings)
    day = synthetic_day(seed, APPLICANTS, on=date.today())
    started = time.monotonic()
    problems: list[str] = []
    try:
        _step(
            s.say(
                f"HQ sementara di {hq.home}: fieldkit-hq init, daftar cekal, serve (SQLite)",
                f"A throwaway HQ in {hq.home}: fieldkit-hq init, watchlist, serve (SQLite)",
            )
        )
        hq.run("init")
        watchlist = work / "watchlist.txt"
        watchlist.write_text("".join(f"{nik}\n" for nik in day.watchlist), encoding="utf-8")
        hq.run("watchlist", "import", str(watchlist))
        url = hq.start()
        _line(s.say(f"HQ berjalan di {url}.", f"HQ is serving at {url}."))
        session, visit_id = _prepare_vault(s, settings, hq, url, day, work)
        if interactive:
            _field_app(s, settings, session, hq)
        else:
            try:
                play_day(s, session, visit_id, day)
                _close_and_sync(s, settings, session, visit_id)
            finally:
                session.lock()
            problems = check_hq(s, settings, hq, day)
            _report(s, day, problems)
    except DemoFailed as failed:
        click.echo(f"fieldkit demo: {failed.message.text(s.lang)}", err=True)
        if failed.detail:
            click.echo(failed.detail, err=True)
        problems = ["failed"]
    except KeyboardInterrupt:
        click.echo(
            s.say(
                "\nDihentikan; HQ dihentikan dan folder dihapus.",
                "\nStopped; HQ stopped and the folder removed.",
            )
            if not keep
            else s.say("\nDihentikan.", "\nStopped."),
            err=True,
        )
        problems = ["interrupted"]
    finally:
        hq.stop()
        if keep:
            again = f"FIELDKIT_HOME={settings.home} " + (
                "FIELDKIT_INSECURE_TEST_KDF=1 " if settings.insecure_test_kdf else ""
            )
            click.echo(
                s.say(
                    f"Folder demo disimpan: {work} (HQ sudah dihentikan). Buka lagi vault-nya: "
                    f"{again}fieldkit",
                    f"Demo folder kept: {work} (HQ is stopped). Open its vault again: "
                    f"{again}fieldkit",
                )
            )
        else:
            shutil.rmtree(work, ignore_errors=True)
    if not interactive and not problems:
        _line(
            s.say(
                f"Selesai dalam {time.monotonic() - started:.0f} detik.",
                f"Done in {time.monotonic() - started:.0f} s.",
            )
        )
    if problems:
        ctx.exit(EXIT_FAILED)
