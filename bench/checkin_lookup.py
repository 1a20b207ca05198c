"""Check-in lookup in a 20,000-entry roster: by booking code, by NIK and by name prefix.

A booking export of 20,000 distinct synthetic people (booking code, date, session, name, birth
date, NIK, type) is imported into an office visit's roster (``service.roster.import_roster``),
the visit is opened, and ``prepare_index`` builds the visit's name index (its time is
reported: decrypting the whole roster once per unlock). Then, interleaved with the baselines,
``service.checkin.find_arrival(desk, visit_id, query)`` for random people:

- **booking code** as a scanner types it (HMAC blind index, indexed SELECT, the one hit read
  and decrypted to check its visit and show it);
- **NIK** (the same through the NIK blind index);
- **name prefix**: the first 2, 3 or 4 letters of a random word of a random name, lower case
  (best 10 of every entry with a word starting so, from the in-memory index).

Baselines, same run: a plain indexed ``SELECT`` on plaintext ``booking_code`` / ``nik``
columns of a WAL SQLite table holding the same 20,000 rows; for the name, a plain Python scan
of the same 20,000 lower-cased names for a word starting with the prefix, keeping the first
10. The figure of each is p50/p95 over ``--lookups`` lookups after a warm-up; ratios are ours /
baseline. For context: a lookup just after one check-in (the index is updated in place) and
just after an unrelated write by the same session (one cheap roster count decides the index
is still current).

The vault uses the cheap test KDF parameters: key derivation is not measured.
"""

from __future__ import annotations

import csv
import random
import sys
import time
from pathlib import Path

from bench import _common as c
from fieldkit.domain.synth import SyntheticApplicant, synthetic_applicants
from fieldkit.service import checkin, visits
from fieldkit.service.roster import import_roster
from fieldkit.service.session import OfficerSession

TARGET_P95_MS = 10.0
HEADER = ["Kode Booking", "Tanggal", "Sesi", "Nama", "Tanggal Lahir", "NIK", "Jenis Permohonan"]


def distinct_people(count: int, seed: int) -> list[SyntheticApplicant]:
    """``count`` synthetic people with distinct NIKs and booking codes."""
    niks: set[str] = set()
    codes: set[str] = set()
    out: list[SyntheticApplicant] = []
    for person in synthetic_applicants(count * 2, seed):
        if person.nik in niks or person.booking_code in codes:
            continue
        niks.add(person.nik)
        codes.add(person.booking_code)
        out.append(person)
        if len(out) == count:
            return out
    raise SystemExit("not enough distinct synthetic people")


def write_bookings(path: Path, people: list[SyntheticApplicant]) -> None:
    """An online-booking export of ``people`` for the visit's day and session."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(HEADER)
        for p in people:
            writer.writerow(
                [
                    p.booking_code,
                    c.VISIT_DATE,
                    "pagi",
                    p.name,
                    p.birth_date.isoformat(),
                    p.nik,
                    "baru" if p.application_type == "new" else "penggantian",
                ]
            )


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = c.parser(__doc__)
    p.add_argument("--entries", type=int, default=20_000, help="roster entries")
    p.add_argument("--lookups", type=int, default=1000, help="measured lookups of each kind")
    p.add_argument("--warmup", type=int, default=100, help="lookups of each kind before measuring")
    p.add_argument("--after-writes", type=int, default=50, help="lookups after a write (context)")
    args = p.parse_args(argv)

    clock = time.perf_counter
    profiler = c.Profiler(args.profile)
    people = distinct_people(args.entries, args.seed)
    rng = random.Random(args.seed + 1)
    total = args.warmup + args.lookups
    picks = [people[rng.randrange(len(people))] for _ in range(total)]
    prefixes = []
    for person in picks:
        word = rng.choice(person.name.split())
        prefixes.append(word[: rng.choice((2, 3, 4))].lower())
    results: dict[str, list[float]] = {k: [] for k in ("code", "nik", "name")}
    baselines: dict[str, list[float]] = {k: [] for k in ("code", "nik", "name")}
    context: dict[str, list[float]] = {"after_check_in": [], "after_other_write": []}

    with c.temp_dir(args.tmpdir) as tmp:
        csv_path = tmp / "bookings.csv"
        write_bookings(csv_path, people)
        session = c.new_vault(tmp / "vault")
        desk = OfficerSession(session)
        visit_id = c.new_visit(session)
        t0 = clock()
        imported = import_roster(desk, visit_id, csv_path)
        import_s = clock() - t0
        assert imported.imported == args.entries, imported.rejected[:3]
        visits.open_visit(desk, visit_id)
        t0 = clock()
        assert checkin.prepare_index(desk, visit_id) == args.entries
        build_s = clock() - t0

        base = c.plain_db(tmp / "baseline.db")
        base.execute(
            "CREATE TABLE roster (id INTEGER PRIMARY KEY, name TEXT, nik TEXT, booking_code TEXT)"
        )
        base.execute("CREATE INDEX roster_nik ON roster (nik)")
        base.execute("CREATE INDEX roster_code ON roster (booking_code)")
        base.execute("BEGIN")
        base.executemany(
            "INSERT INTO roster (name, nik, booking_code) VALUES (?, ?, ?)",
            ((x.name, x.nik, x.booking_code) for x in people),
        )
        base.execute("COMMIT")
        names = [x.name.lower() for x in people]

        def ours(query: str, expect: str | None) -> float:
            with profiler:
                t0 = clock()
                found = checkin.find_arrival(desk, visit_id, query)
                took = clock() - t0
            assert found, query
            if expect is not None:
                assert found[0].name == expect, (query, found[0])
            return took

        def select(column: str, value: str) -> float:
            t0 = clock()
            row = base.execute(f"SELECT id, name FROM roster WHERE {column} = ?", (value,))
            hit = row.fetchone()
            took = clock() - t0
            assert hit is not None
            return took

        def scan(prefix: str) -> float:
            t0 = clock()
            hits: list[str] = []
            for name in names:
                if name.startswith(prefix) or f" {prefix}" in name:
                    hits.append(name)
                    if len(hits) == 10:
                        break
            took = clock() - t0
            assert hits
            return took

        jobs = {
            "code": (
                lambda i: ours(picks[i].booking_code, picks[i].name),
                lambda i: select("booking_code", picks[i].booking_code),
            ),
            "nik": (
                lambda i: ours(picks[i].nik, picks[i].name),
                lambda i: select("nik", picks[i].nik),
            ),
            "name": (lambda i: ours(prefixes[i], None), lambda i: scan(prefixes[i])),
        }
        for i in range(total):
            for kind, (mine, raw) in jobs.items():
                a, b = (mine(i), raw(i)) if i % 2 == 0 else (raw(i), mine(i))[::-1]
                if i >= args.warmup:
                    results[kind].append(a)
                    baselines[kind].append(b)

        # Context: lookups right after a write by this session.
        for i in range(args.after_writes):
            match = checkin.find_arrival(desk, visit_id, picks[i].booking_code)[0]
            if match.state == "expected":
                checkin.check_in(desk, visit_id, match.entry_id)
            context["after_check_in"].append(ours(prefixes[i], None))
            session.note("bench_write", None, {"i": i})
            context["after_other_write"].append(ours(prefixes[i], None))
        session.vault.close()
        base.close()

    labels = {"code": "booking code", "nik": "NIK", "name": "name prefix (2-4 letters)"}
    raw_labels = {
        "code": "plain indexed SELECT by code",
        "nik": "plain indexed SELECT by NIK",
        "name": "plain Python scan of the names",
    }
    s_ours = {k: c.summary_ms(v) for k, v in results.items()}
    s_base = {k: c.summary_ms(v) for k, v in baselines.items()}
    s_ctx = {k: c.summary_ms(v) for k, v in context.items() if v}
    met = all(s["p95"] <= TARGET_P95_MS for s in s_ours.values())
    print(
        f"check-in lookup in a roster of {args.entries:,} entries: imported in {import_s:.1f} s; "
        f"name index built (prepare_index) in {build_s * 1000:.0f} ms; {args.lookups} "
        f"lookups of each kind after {args.warmup} warm-up"
    )
    for kind in results:
        print(c.fmt_summary(f"find_arrival: {labels[kind]}", s_ours[kind]))
        print(c.fmt_summary(f"  baseline: {raw_labels[kind]}", s_base[kind]))
    for kind, s in s_ctx.items():
        print(c.fmt_summary(f"context: name prefix {kind.replace('_', ' ')}", s))
    ratios = {
        k: {"p50": s_ours[k]["p50"] / s_base[k]["p50"], "p95": s_ours[k]["p95"] / s_base[k]["p95"]}
        for k in results
    }
    parts = [
        f"{k} p50 {s_ours[k]['p50']:.3f} p95 {s_ours[k]['p95']:.3f} ms "
        f"({ratios[k]['p50']:.1f}x/{ratios[k]['p95']:.1f}x)"
        for k in results
    ]
    headline = (
        f"{'; '.join(parts)}; index build {build_s * 1000:.0f} ms; target p95 <= "
        f"{TARGET_P95_MS} ms each: {'met' if met else 'MISSED'}"
    )
    print(f"RESULT {headline}")
    result: dict[str, object] = {
        "benchmark": "checkin_lookup",
        "headline": headline,
        "figures": s_ours,
        "baselines": s_base,
        "ratios": ratios,
        "context": s_ctx,
        "index_build_ms": build_s * 1000,
        "import_seconds": import_s,
        "entries": args.entries,
        "target": f"p95 <= {TARGET_P95_MS} ms for code, NIK and name prefix",
        "target_met": met,
        "kdf": "cheap test parameters (KDF not measured)",
        "machine": c.machine(),
        "command": c.command("bench.checkin_lookup", argv),
    }
    c.finish(result, args.json)
    profiler.report()
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)
