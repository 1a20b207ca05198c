"""Importing a 20,000-row coordinator's list (CSV) into a visit's roster, against executemany.

The file is what a coordinator sends for an Eazy Passport visit: ``;``-separated UTF-8 with the
columns No, Nama, Tanggal Lahir (dd/mm/yyyy), NIK, Jenis Permohonan, No HP, one synthetic
person per row, all valid and all distinct. The figure is rows per second of
``import_roster(OfficerSession(session), visit_id, path, progress=...)`` into a fresh vault:
reading and decoding the file, the domain rules on every row, sealing, the blind index, the
outbox and the audit, committed in one transaction with WAL and synchronous=FULL.

Baseline, same run: exactly the rows the import wrote, read back from every table it wrote
(each table's rows after the import minus its rows before, in insertion order, or key order
for a WITHOUT ROWID table; views such as ``blind_index`` hold no rows), inserted with plain
``executemany`` into a fresh database with the same schema (``db.connect`` + ``db.migrate``:
same pragmas, same indexes) in one transaction. The ratio is import time / baseline time. For
context, the same for the ``record_versions`` rows alone.

Each repetition uses a fresh vault and fresh baseline files; one smaller import runs first as
a warm-up. The import's CPU time is shown too: on a shared machine, wall time well above CPU
time means the process was waiting (for the disk, or for a core).

The vault uses the cheap test KDF parameters: key derivation is not measured.
"""

from __future__ import annotations

import csv
import sqlite3
import sys
import time
from pathlib import Path

from bench import _common as c
from fieldkit.domain.synth import synthetic_applicants
from fieldkit.service import visits
from fieldkit.service.roster import import_roster
from fieldkit.service.session import OfficerSession
from fieldkit.vault import db

TARGET_ROWS_PER_S = 50_000
TARGET_RATIO = 3.5
HEADER = ["No", "Nama", "Tanggal Lahir", "NIK", "Jenis Permohonan", "No HP"]


def write_roster(path: Path, rows: int, seed: int) -> None:
    """A coordinator's CSV of ``rows`` distinct synthetic people."""
    seen: set[str] = set()
    people = []
    for person in synthetic_applicants(rows * 2, seed):
        if person.nik not in seen:
            seen.add(person.nik)
            people.append(person)
            if len(people) == rows:
                break
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(HEADER)
        for number, p in enumerate(people, start=1):
            writer.writerow(
                [
                    number,
                    p.name,
                    f"{p.birth_date:%d/%m/%Y}",
                    p.nik,
                    "baru" if p.application_type == "new" else "penggantian",
                    "0" + p.phone.removeprefix("+62"),
                ]
            )


def tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    return [name for (name,) in rows if not name.startswith("sqlite_")]


def rows_in_order(conn: sqlite3.Connection, table: str) -> list[tuple[object, ...]]:
    """A table's rows in rowid order (insertion order), or key order for a WITHOUT ROWID one."""
    try:
        return conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall()
    except sqlite3.OperationalError:  # WITHOUT ROWID: a scan follows the primary key
        return conn.execute(f'SELECT * FROM "{table}"').fetchall()


def snapshot(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table (views are not tables: they are left out)."""
    return {t: rows_in_order(conn, t) for t in tables(conn)}


def written_rows(
    before: dict[str, list[tuple[object, ...]]], after: dict[str, list[tuple[object, ...]]]
) -> dict[str, list[tuple[object, ...]]]:
    """The rows each table gained (tables that gained none are left out)."""
    out = {}
    for table, rows in after.items():
        old = set(before.get(table, []))
        new = [row for row in rows if row not in old]
        if new:
            out[table] = new
    return out


def executemany_into_fresh(path: Path, rows: dict[str, list[tuple[object, ...]]]) -> float:
    """Seconds to insert ``rows`` with executemany into a fresh vault-schema file, one commit."""
    conn = db.connect(path)
    db.migrate(conn)
    statements = {
        table: f'INSERT INTO "{table}" VALUES ({", ".join("?" * len(batch[0]))})'
        for table, batch in rows.items()
    }
    t0 = time.perf_counter()
    with db.transaction(conn):
        for table, batch in rows.items():
            conn.executemany(statements[table], batch)
    took = time.perf_counter() - t0
    conn.close()
    return took


def one_import(
    tmp: Path, name: str, csv_path: Path, expected: int, profiler: c.Profiler
) -> tuple[float, float, dict[str, list[tuple[object, ...]]]]:
    """Import into a fresh vault: wall seconds, CPU seconds, and the rows written."""
    session = c.new_vault(tmp / name)
    visit_id = visits.create_visit(
        OfficerSession(session),
        kind="eazy",
        on=c.VISIT_DATE,
        session_name="pagi",
        site="Aula Kecamatan Cibinong",
        coordinator_name="Dewi Lestari",
        coordinator_phone="081234567890",
    )
    before = snapshot(session.conn)
    calls: list[tuple[int, int]] = []
    with profiler:
        t0, cpu0 = time.perf_counter(), time.process_time()
        result = import_roster(
            OfficerSession(session),
            visit_id,
            csv_path,
            progress=lambda done, total: calls.append((done, total)),
        )
        took, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    assert result.imported == expected and not result.rejected, (result.rejected[:3], expected)
    assert calls and calls[-1] == (expected, expected)
    rows = written_rows(before, snapshot(session.conn))
    session.vault.close()
    return took, cpu, rows


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = c.parser(__doc__)
    p.add_argument("--rows", type=int, default=20_000, help="rows in the coordinator's CSV")
    p.add_argument("--reps", type=int, default=5, help="measured imports (fresh vault each)")
    p.add_argument("--warmup-rows", type=int, default=2000, help="rows of the warm-up import")
    args = p.parse_args(argv)

    profiler = c.Profiler(args.profile)
    ours: list[float] = []
    ours_cpu: list[float] = []
    full: list[float] = []
    versions_only: list[float] = []
    with c.temp_dir(args.tmpdir) as tmp:
        csv_path = tmp / "roster.csv"
        write_roster(csv_path, args.rows, args.seed)
        csv_bytes = csv_path.stat().st_size
        if args.warmup_rows:
            warm = tmp / "warmup.csv"
            write_roster(warm, args.warmup_rows, args.seed + 1)
            one_import(tmp, "warmup", warm, args.warmup_rows, c.Profiler(0))
        counts: dict[str, int] = {}
        for rep in range(args.reps):
            took, cpu, rows = one_import(tmp, f"vault{rep}", csv_path, args.rows, profiler)
            counts = {table: len(batch) for table, batch in rows.items()}
            versions = {"record_versions": rows["record_versions"]}
            jobs = [
                (full, lambda r=rep, w=rows: executemany_into_fresh(tmp / f"base{r}.db", w)),
                (
                    versions_only,
                    lambda r=rep, w=versions: executemany_into_fresh(tmp / f"rv{r}.db", w),
                ),
            ]
            for target, job in jobs if rep % 2 == 0 else jobs[::-1]:
                target.append(job())
            ours.append(took)
            ours_cpu.append(cpu)

    med = c.percentile(ours, 50)
    med_full = c.percentile(full, 50)
    med_rv = c.percentile(versions_only, 50)
    rate = args.rows / med
    ratio = med / med_full
    met = rate >= TARGET_ROWS_PER_S and ratio <= TARGET_RATIO
    print(
        f"roster import: {args.rows:,} rows ({csv_bytes / 1024:.0f} KiB CSV), {args.reps} "
        f"imports after a {args.warmup_rows}-row warm-up; rows written per table: {counts}"
    )

    def line(label: str, values: list[float]) -> str:
        spread = f"min {min(values):.3f} max {max(values):.3f}"
        return (
            f"{label:<44} median {c.percentile(values, 50):7.3f} s ({spread}) "
            f"= {args.rows / c.percentile(values, 50):>9,.0f} rows/s"
        )

    print(line("import_roster", ours))
    print(line("  (its CPU time in this process)", ours_cpu))
    print(line("baseline: executemany, every table written", full))
    print(line("context: executemany, record_versions alone", versions_only))
    print(
        f"RESULT {rate:,.0f} rows/s (target >= {TARGET_ROWS_PER_S:,}: "
        f"{'met' if rate >= TARGET_ROWS_PER_S else 'MISSED'}); import / baseline "
        f"{ratio:.2f}x (target <= {TARGET_RATIO}x: {'met' if ratio <= TARGET_RATIO else 'MISSED'})"
        f"; import / record_versions alone {med / med_rv:.2f}x; least-noise view (fastest "
        f"of each): {args.rows / min(ours):,.0f} rows/s, {min(ours) / min(full):.2f}x"
    )
    result: dict[str, object] = {
        "benchmark": "roster_import",
        "rows": args.rows,
        "seconds": ours,
        "cpu_seconds": ours_cpu,
        "baseline_seconds": full,
        "record_versions_seconds": versions_only,
        "rows_per_s": rate,
        "baseline_rows_per_s": args.rows / med_full,
        "record_versions_rows_per_s": args.rows / med_rv,
        "ratio": ratio,
        "ratio_record_versions": med / med_rv,
        "ratio_of_minimums": min(ours) / min(full),
        "rows_written": counts,
        "target": f">= {TARGET_ROWS_PER_S:,} rows/s and <= {TARGET_RATIO}x the baseline",
        "target_met": met,
        "kdf": "cheap test parameters (KDF not measured)",
        "machine": c.machine(),
        "command": c.command("bench.roster_import", argv),
    }
    c.finish(result, args.json)
    profiler.report()
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)
