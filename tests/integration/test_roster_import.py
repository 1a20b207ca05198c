"""Importing a visit's roster from real CSV and XLSX files into a real vault file.

Every person is synthetic (fieldkit.domain.synth): NIK serials 9000-9999 are never real.
"""

import csv
import json
import random
import tempfile
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from click.testing import CliRunner

from fieldkit.cli.main import main
from fieldkit.cli.roster import roster
from fieldkit.domain.ids import new_id
from fieldkit.domain.synth import SyntheticApplicant, synthetic_applicants
from fieldkit.service.roster import import_roster
from fieldkit.service.session import OfficerSession
from fieldkit.vault import outbox
from fieldkit.vault.errors import InvalidInput, NotFound
from fieldkit.vault.roster import roster_entries
from fieldkit.vault.vault import Vault
from tests.support.vault import PASSPHRASE, new_vault, plan_visit
from tests.support.vault import SUP as OFFICER

VISIT_DAY = date(2026, 12, 1)
COORDINATOR_HEADER = ["No", "Nama", "Tanggal Lahir", "NIK", "Jenis Permohonan", "No HP"]
TYPE_WORD = {"new": "baru", "expired": "penggantian"}


# -- fixtures and file writers --------------------------------------------------------------------


@pytest.fixture
def home(tmp_path, cheap_kdf):
    return tmp_path / "home"


@pytest.fixture
def session(home):
    s = new_vault(home)
    yield s
    s.vault.close()


def new_visit(session, kind="eazy"):
    return plan_visit(session, kind=kind, on=VISIT_DAY.isoformat())


@pytest.fixture
def visit_id(session):
    return new_visit(session)


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "incoming"  # outside the vault home
    folder.mkdir()
    return folder


def people(count, seed=11):
    return list(synthetic_applicants(count, seed))


def national(phone):
    return "0" + phone.removeprefix("+62")


def coordinator_row(number, p: SyntheticApplicant, date_style="%d/%m/%Y"):
    return [
        str(number),
        p.name.title(),
        p.birth_date.strftime(date_style),
        p.nik,
        TYPE_WORD[p.application_type],
        national(p.phone),
    ]


def write_csv(path, header, rows, delimiter=";", bom=False):
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path, rows):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def coordinator_csv(path, persons, **kwargs):
    rows = [coordinator_row(i, p) for i, p in enumerate(persons, start=1)]
    return write_csv(path, COORDINATOR_HEADER, rows, **kwargs)


def state(session):
    """What an import may change: outbox depth, roster records, audit entries."""
    conn = session.conn
    return (
        session.vault.outbox_depth(),
        conn.execute("SELECT COUNT(*) FROM records WHERE kind = 'roster'").fetchone()[0],
        conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0],
    )


def codes(problem):
    return sorted(f.code for f in problem.findings)


# -- the coordinator's list ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delimiter", "bom"), [(",", False), (";", False), (";", True), (",", True)]
)
def test_coordinator_csv_imports_every_row_normalised(session, visit_id, files, delimiter, bom):
    persons = people(12)
    path = coordinator_csv(files / "daftar.csv", persons, delimiter=delimiter, bom=bom)

    result = import_roster(OfficerSession(session), visit_id, path)

    assert result.source == "coordinator"
    assert (result.rows, result.imported, result.rejected, result.warnings) == (12, 12, [], [])
    assert result.ignored_columns == ("No",)
    entries = roster_entries(session, visit_id)
    assert [e.id for e in entries] == result.ids
    for entry, p, row in zip(entries, persons, range(2, 14), strict=True):
        assert (entry.kind, entry.state, entry.visit_id) == ("roster", "expected", visit_id)
        assert entry.data == {
            "name": p.name,
            "birth_date": p.birth_date.isoformat(),
            "nik": p.nik,
            "application_type": p.application_type,
            "phone": p.phone,
            "booking_code": None,
            "booking_date": None,
            "session": None,
            "source": "coordinator",
            "row": row,
            "warnings": [],
        }
        assert session.find("nik", p.nik, kind="roster") == [("roster", entry.id)]


def test_english_headers_mixed_date_styles_and_a_title_row(session, visit_id, files):
    persons = people(3, seed=12)
    styles = ["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"]
    path = files / "list.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        handle.write("DAFTAR PEMOHON PASPOR SMAN 1 KARAWANG,,,,\n")
        writer = csv.writer(handle)
        writer.writerow(["Full Name", "Date of Birth", "NIK", "New or replacement", "Phone"])
        for p, style in zip(persons, styles, strict=True):
            kind = "new" if p.application_type == "new" else "Replacement"
            writer.writerow([p.name, p.birth_date.strftime(style), p.nik, kind, p.phone])

    result = import_roster(OfficerSession(session), visit_id, path)

    assert (result.imported, result.rejected) == (3, [])
    entries = roster_entries(session, visit_id)
    assert [e.data["row"] for e in entries] == [3, 4, 5]  # the header is on row 2
    assert [e.data["birth_date"] for e in entries] == [p.birth_date.isoformat() for p in persons]


def test_a_coordinator_list_with_a_date_column_but_no_booking_code(session, visit_id, files):
    persons = people(2, seed=30)
    header = [*COORDINATOR_HEADER, "Tanggal", "Kode Booking"]
    rows = [[*coordinator_row(i, p), "01/01/2026", ""] for i, p in enumerate(persons, 1)]
    rows[1][7] = persons[1].booking_code
    result = import_roster(
        OfficerSession(session), visit_id, write_csv(files / "a.csv", header, rows)
    )
    # With a booking code column, the date of a row with a code is checked: another day.
    assert [(r.row, codes(r)) for r in result.rejected] == [(3, ["roster.other_day"])]

    rows = [[*coordinator_row(i, p), "01/01/2026"] for i, p in enumerate(persons, 1)]
    path = write_csv(files / "b.csv", [*COORDINATOR_HEADER, "Tanggal"], rows)
    result = import_roster(OfficerSession(session), new_visit(session), path)
    assert (result.imported, result.ignored_columns) == (2, ("No", "Tanggal"))


def test_xlsx_with_date_cells_text_nik_and_number_phones(session, visit_id, files):
    persons = people(6, seed=13)
    rows: list[list[object]] = [["Nama", "Tgl. Lahir", "NIK", "Jenis Permohonan", "No. HP"]]
    for i, p in enumerate(persons):
        born: object = datetime.combine(p.birth_date, datetime.min.time())
        if i == 1:
            born = p.birth_date.strftime("%d-%m-%Y")  # text dates work in workbooks too
        # Excel shows 0812… typed into a number cell as 812…: the leading 0 is restored.
        phone: object = int(p.phone.removeprefix("+62")) if i % 2 else national(p.phone)
        rows.append([p.name, born, p.nik, TYPE_WORD[p.application_type], phone])
    path = write_xlsx(files / "daftar.xlsx", rows)

    result = import_roster(OfficerSession(session), visit_id, path)

    assert (result.source, result.imported, result.rejected) == ("coordinator", 6, [])
    entries = roster_entries(session, visit_id)
    assert [e.data["nik"] for e in entries] == [p.nik for p in persons]
    assert [e.data["birth_date"] for e in entries] == [p.birth_date.isoformat() for p in persons]
    assert [e.data["phone"] for e in entries] == [p.phone for p in persons]


def test_excel_separator_hint_is_not_counted_as_a_row(session, visit_id, files):
    persons = people(2, seed=28)
    path = files / "excel.csv"
    rows = [coordinator_row(i, p) for i, p in enumerate(persons, start=1)]
    rows[1][3] = "123"
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        handle.write("sep=;\r\n")
        csv.writer(handle, delimiter=";").writerows([COORDINATOR_HEADER, *rows])

    result = import_roster(OfficerSession(session), visit_id, path)

    assert result.imported == 1
    assert [r.row for r in result.rejected] == [3]  # as Excel numbers it: the header is row 1


def test_xlsx_data_on_a_later_sheet_below_a_title(session, visit_id, files):
    persons = people(3, seed=29)
    book = openpyxl.Workbook()
    book.active.title = "Surat"
    book.active.append(["Surat permohonan layanan Eazy Passport"])
    sheet = book.create_sheet("Pemohon")
    sheet.append(["DAFTAR PEMOHON"])
    sheet.append([])
    sheet.append(["NAMA", "TANGGAL LAHIR", "NIK", "JENIS PERMOHONAN", "KETERANGAN"])
    for p in persons:
        sheet.append([p.name, p.birth_date, p.nik, p.application_type.upper(), "guru"])
    path = files / "surat.xlsx"
    book.save(path)

    result = import_roster(OfficerSession(session), visit_id, path)

    assert (result.imported, result.rejected) == (3, [])
    assert result.ignored_columns == ("KETERANGAN",)
    assert [e.data["row"] for e in roster_entries(session, visit_id)] == [4, 5, 6]


def test_xlsx_nik_stored_as_a_number_is_refused(session, visit_id, files):
    p, q = people(2, seed=14)
    rows = [
        ["Nama", "Tanggal Lahir", "NIK", "Jenis Permohonan"],
        [p.name, p.birth_date, int(p.nik), "baru"],
        [q.name, q.birth_date, q.nik, "baru"],
    ]
    result = import_roster(
        OfficerSession(session), visit_id, write_xlsx(files / "angka.xlsx", rows)
    )

    assert result.imported == 1
    assert [(r.row, codes(r)) for r in result.rejected] == [(2, ["roster.nik_numeric"])]


# -- online bookings ------------------------------------------------------------------------------


def test_bookings_file_checks_day_and_session(session, visit_id, files):
    persons = people(5, seed=15)
    header = ["Kode Booking", "Tanggal", "Sesi", "Nama", "NIK"]
    day = VISIT_DAY.strftime("%d/%m/%Y")
    rows = [
        [persons[0].booking_code, day, "Pagi", persons[0].name, persons[0].nik],
        [persons[1].booking_code.lower(), VISIT_DAY.isoformat(), "pagi", "", ""],
        [persons[2].booking_code, day, "Sesi Siang (12.00-16.00)", persons[2].name, ""],
        [persons[3].booking_code, "02/12/2026", "pagi", persons[3].name, persons[3].nik],
        [persons[4].booking_code, day, "malam", persons[4].name, persons[4].nik],
        ["AB-1", day, "pagi", "", ""],
    ]
    path = write_csv(files / "booking.csv", header, rows, delimiter=",")

    result = import_roster(OfficerSession(session), visit_id, path)

    assert result.source == "booking"
    assert result.imported == 3
    assert [(r.row, codes(r)) for r in result.rejected] == [
        (5, ["roster.other_day"]),
        (6, ["roster.session"]),
        (7, ["booking.format"]),
    ]
    assert [(w.row, codes(w)) for w in result.warnings] == [(4, ["roster.other_session"])]
    entries = roster_entries(session, visit_id)
    assert [e.data["booking_code"] for e in entries] == [p.booking_code for p in persons[:3]]
    assert entries[0].data["nik"] == persons[0].nik
    assert entries[1].data["nik"] is None
    assert entries[2].data["session"] == "siang"
    assert entries[2].data["warnings"] == ["roster.other_session"]
    assert all(e.data["booking_date"] == VISIT_DAY.isoformat() for e in entries)
    found = session.find("booking_code", persons[1].booking_code, kind="roster")
    assert found == [("roster", entries[1].id)]


# -- bad rows -------------------------------------------------------------------------------------


def test_bad_rows_are_reported_by_row_number_and_not_imported(session, visit_id, files):
    p = people(12, seed=16)
    rows = [coordinator_row(i, person) for i, person in enumerate(p, start=1)]
    rows[2][3] = p[2].nik[:-1]  # row 4
    rows[3][1] = "José Rizal"  # row 5
    rows[4][5] = "021 5551234"  # row 6: a landline
    rows[5][2] = "31/02/1990"  # row 7
    rows[6][4] = "hilang"  # row 8: lost passports need the office
    rows[7][4] = "pindah"  # row 9
    rows[8][3] = ""  # row 10
    rows[9][2] = (p[9].birth_date + timedelta(days=1)).strftime("%d/%m/%Y")  # row 11
    rows.insert(10, ["", "", "", "", "", ""])  # row 12: blank, skipped
    rows[12][5] = ""  # row 14: the phone is optional
    path = write_csv(files / "daftar.csv", COORDINATOR_HEADER, rows)
    before = state(session)

    result = import_roster(OfficerSession(session), visit_id, path)

    assert [(r.row, codes(r)) for r in result.rejected] == [
        (4, ["nik.length"]),
        (5, ["name.charset"]),
        (6, ["phone.not_mobile"]),
        (7, ["roster.date"]),
        (8, ["application.office_only"]),
        (9, ["application.unknown_type"]),
        (10, ["roster.missing"]),
    ]
    fields = {r.row: r.findings[0].field for r in result.rejected}
    assert fields == {
        4: "nik",
        5: "name",
        6: "phone",
        7: "birth_date",
        8: "application_type",
        9: "application_type",
        10: "nik",
    }
    assert [(w.row, codes(w)) for w in result.warnings] == [(11, ["nik.birth_date_mismatch"])]
    assert (result.rows, result.imported) == (12, 5)
    entries = roster_entries(session, visit_id)
    assert [e.data["row"] for e in entries] == [2, 3, 11, 13, 14]
    assert entries[2].data["warnings"] == ["nik.birth_date_mismatch"]
    assert entries[4].data["phone"] is None
    for rejected in (p[3], p[4], p[5], p[6], p[7]):  # valid NIKs on rejected rows
        assert session.find("nik", rejected.nik) == []
    assert state(session)[0] == before[0] + 5


def test_duplicates_within_the_file_reject_the_later_row(session, visit_id, files):
    p = people(4, seed=17)
    rows = [coordinator_row(i, person) for i, person in enumerate(p, start=1)]
    again = coordinator_row(5, p[0])
    again[1] = "Orang Lain"  # a different name, the same NIK
    rows.append(again)  # row 6
    path = write_csv(files / "dup.csv", COORDINATOR_HEADER, rows)

    result = import_roster(OfficerSession(session), visit_id, path)

    assert result.imported == 4
    assert [(r.row, codes(r)) for r in result.rejected] == [(6, ["roster.duplicate"])]
    finding = result.rejected[0].findings[0]
    assert finding.field == "nik"
    assert "baris 2" in finding.text("id")
    assert "row 2" in finding.text("en")


def test_duplicate_booking_codes_within_the_file(session, visit_id, files):
    p = people(3, seed=18)
    day = VISIT_DAY.isoformat()
    rows = [[x.booking_code, day, "pagi"] for x in p] + [[p[1].booking_code, day, "pagi"]]
    path = write_csv(files / "b.csv", ["Booking code", "Date", "Session"], rows, delimiter=",")

    result = import_roster(OfficerSession(session), visit_id, path)

    assert result.imported == 3
    assert [(r.row, codes(r)) for r in result.rejected] == [(5, ["roster.duplicate"])]
    assert result.rejected[0].findings[0].field == "booking_code"


def test_a_nik_already_in_the_visit_roster_is_a_bad_row(session, visit_id, files):
    p = people(6, seed=19)
    import_roster(OfficerSession(session), visit_id, coordinator_csv(files / "a.csv", p[:4]))
    second = coordinator_csv(files / "b.csv", [p[3], p[4], p[1], p[5]])

    result = import_roster(OfficerSession(session), visit_id, second)

    assert result.imported == 2
    assert [(r.row, codes(r)) for r in result.rejected] == [
        (2, ["roster.already_in_roster"]),
        (4, ["roster.already_in_roster"]),
    ]
    assert len(roster_entries(session, visit_id)) == 6
    # Another visit's roster may hold the same people.
    other = new_visit(session)
    assert import_roster(OfficerSession(session), other, second).imported == 4


# -- unusable files -------------------------------------------------------------------------------


def _random_bytes(path):
    path.write_bytes(random.Random(5).randbytes(4096))


def _empty(path):
    path.write_bytes(b"")


def _bom_only(path):
    path.write_bytes(b"\xef\xbb\xbf\r\n")


def _header_only(path):
    write_csv(path, COORDINATOR_HEADER, [])


def _missing_columns(path):
    p = people(2, seed=20)
    write_csv(path, ["Nama", "NIK"], [[x.name, x.nik] for x in p])


def _no_header(path):
    write_csv(path, ["Budi", "3201010101909001"], [["Siti", "3201014101909002"]])


def _column_twice(path):
    write_csv(path, ["Nama", "Tanggal Lahir", "NIK", "NIK", "Jenis Permohonan"], [])


def _old_excel(path):
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))


def _broken_xlsx(path):
    path.write_bytes(b"PK\x03\x04" + random.Random(6).randbytes(2048))


def _directory(path):
    path.mkdir()


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (_random_bytes, "roster.unreadable"),
        (_empty, "roster.empty"),
        (_bom_only, "roster.empty"),
        (_header_only, "roster.empty"),
        (_missing_columns, "roster.columns"),
        (_no_header, "roster.columns"),
        (_column_twice, "roster.column_twice"),
        (_old_excel, "roster.old_excel"),
        (_broken_xlsx, "roster.unreadable"),
        (_directory, "roster.unreadable"),
        (lambda path: None, "roster.unreadable"),  # no such file
    ],
    ids=lambda v: getattr(v, "__name__", v) if callable(v) else v,
)
def test_an_unusable_file_is_a_clear_error_and_imports_nothing(
    session, visit_id, files, make, code
):
    path = files / "roster.csv"
    make(path)
    before = state(session)

    with pytest.raises(InvalidInput) as caught:
        import_roster(OfficerSession(session), visit_id, path)

    assert [f.code for _, f in caught.value.findings] == [code]
    assert caught.value.exit_code == 2
    assert "Tidak ada yang diimpor" in caught.value.text("id")
    assert "Nothing was imported" in caught.value.text("en")
    assert state(session) == before


def test_missing_columns_are_named(session, visit_id, files):
    path = files / "roster.csv"
    _missing_columns(path)
    with pytest.raises(InvalidInput) as caught:
        import_roster(OfficerSession(session), visit_id, path)
    assert "Tanggal Lahir, Jenis Permohonan" in caught.value.text("id")
    assert "birth date, new or replacement" in caught.value.text("en")


def test_an_unknown_visit_is_not_found(session, files):
    path = coordinator_csv(files / "a.csv", people(1))
    with pytest.raises(NotFound):
        import_roster(OfficerSession(session), new_id(), path)


# -- one transaction ------------------------------------------------------------------------------


def test_the_import_is_one_transaction_with_its_audit_entries(session, visit_id, files):
    p = people(8, seed=21)
    rows = [coordinator_row(i, person) for i, person in enumerate(p, start=1)]
    rows[4][3] = "12345"  # row 6 is bad
    path = write_csv(files / "daftar.csv", COORDINATOR_HEADER, rows)
    depth, _, audit_entries = state(session)

    result = import_roster(OfficerSession(session), visit_id, path)

    assert result.imported == 7
    assert session.vault.outbox_depth() == depth + 7
    assert outbox.gaps(session.conn) == []
    assert session.vault.verify_audit().ok
    actions = session.conn.execute(
        "SELECT action, subject, detail FROM audit WHERE seq > ? ORDER BY seq", (audit_entries,)
    ).fetchall()
    # One action, one audit entry; its outbox range names every entry it wrote.
    assert [a for a, _, _ in actions] == ["roster_imported"]
    assert actions[-1][1] == f"visit:{visit_id}"
    assert json.loads(actions[-1][2]) == {
        "source": "coordinator",
        "rows": 8,
        "imported": 7,
        "rejected": 1,
        "warned": 0,
        "count": 7,
        "outbox_first": depth + 1,
        "outbox_last": depth + 7,
    }
    named = session.conn.execute(
        "SELECT kind FROM outbox WHERE seq BETWEEN ? AND ?", (depth + 1, depth + 7)
    ).fetchall()
    assert named == [("roster",)] * 7
    versions = session.conn.execute(
        "SELECT DISTINCT at FROM record_versions WHERE kind = 'roster'"
    ).fetchall()
    assert len(versions) == 1  # one action, one timestamp


@pytest.mark.parametrize("where", ["fieldkit.vault.outbox.append_many", "summary"])
def test_a_crash_mid_import_leaves_nothing(session, visit_id, files, monkeypatch, where):
    path = coordinator_csv(files / "daftar.csv", people(20, seed=22))
    before = state(session)

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    if where == "summary":  # the last statement of the transaction, after every record
        monkeypatch.setattr("fieldkit.vault.roster.importing.audit.append", crash)
    else:
        monkeypatch.setattr(where, crash)
    with pytest.raises(RuntimeError):
        import_roster(OfficerSession(session), visit_id, path)

    assert state(session) == before
    assert session.conn.execute("SELECT COUNT(*) FROM record_versions").fetchone()[0] == 1
    assert session.conn.execute("SELECT COUNT(*) FROM blind_index").fetchone()[0] == 0
    assert session.vault.verify_audit().ok
    assert session.conn.in_transaction is False


def test_progress_is_reported_at_most_about_100_times(session, visit_id, files):
    path = coordinator_csv(files / "big.csv", people(1500, seed=23))
    calls = []

    result = import_roster(
        OfficerSession(session), visit_id, path, progress=lambda d, t: calls.append((d, t))
    )

    assert result.imported == 1500
    assert 2 <= len(calls) <= 101
    assert calls[-1] == (1500, 1500)
    assert all(t == 1500 for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert all(d < 1500 for d, _ in calls[:-1])  # complete only once committed


# -- nothing in clear on disk ---------------------------------------------------------------------


def test_no_personal_data_in_any_file_of_the_vault_home(
    session, visit_id, files, home, tmp_path, monkeypatch
):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where a temporary file would go
    persons = people(40, seed=24)
    csv_path = coordinator_csv(files / "daftar.csv", persons[:20], bom=True)
    xlsx_rows: list[list[object]] = [["Kode Booking", "Tanggal", "Sesi", "Nama", "NIK"]]
    xlsx_rows += [[p.booking_code, VISIT_DAY, "pagi", p.name, p.nik] for p in persons[20:]]
    xlsx_path = write_xlsx(files / "booking.xlsx", xlsx_rows)
    assert import_roster(OfficerSession(session), visit_id, csv_path).imported == 20
    assert import_roster(OfficerSession(session), visit_id, xlsx_path).imported == 20
    session.note("checkpoint")  # one more write after the import, as in real use

    needles = set()
    for p in persons:
        needles |= {p.nik, p.phone, national(p.phone), p.phone.removeprefix("+62")}
        needles |= {p.booking_code, p.birth_date.isoformat(), p.birth_date.strftime("%d/%m/%Y")}
        needles |= {p.name, p.name.title()} if len(p.name) >= 8 else set()
    encoded = {n.encode() for n in needles}
    # The search works: the input file itself holds the same bytes.
    assert any(n in csv_path.read_bytes() for n in encoded)

    stored = [path for path in home.rglob("*") if path.is_file()]
    assert {path.name for path in stored} >= {"vault.db"}
    hits = [
        (path.name, needle) for path in stored for needle in encoded if needle in path.read_bytes()
    ]
    assert hits == []
    assert list(scratch.iterdir()) == []


# -- the command line -----------------------------------------------------------------------------


@pytest.fixture
def cli(home):
    """Run ``fieldkit`` with ``roster`` registered, against a vault in ``home``.

    A copy of the top-level group, so the real one is left as main.py builds it.
    """
    fieldkit = type(main)(
        name=main.name,
        commands={**main.commands, "roster": roster},
        params=main.params,
        callback=main.callback,
        context_settings=main.context_settings,
    )
    env = {
        "FIELDKIT_HOME": str(home),
        "FIELDKIT_OFFICER": OFFICER,
        "FIELDKIT_PASSPHRASE": PASSPHRASE,
        "FIELDKIT_INSECURE_TEST_KDF": "1",
        "FIELDKIT_LANG": "",
    }

    def run(*args):
        return CliRunner().invoke(fieldkit, list(args), env=env)

    return run


@pytest.fixture
def cli_visit(session):
    visit_id = new_visit(session)
    session.vault.close()
    return visit_id


def _file_with_bad_row_4(files, count=5):
    p = people(count, seed=25)
    rows = [coordinator_row(i, person) for i, person in enumerate(p, start=1)]
    rows[2][3] = p[2].nik[:15]
    return write_csv(files / "daftar.csv", COORDINATOR_HEADER, rows), p


def test_cli_import_reports_counts_and_rejected_rows_in_indonesian(cli, cli_visit, files):
    path, _ = _file_with_bad_row_4(files)

    result = cli("roster", "import", str(path), "--visit", cli_visit)

    assert result.exit_code == 0, result.output
    assert "4 dari 5 baris diimpor" in result.stdout
    assert "baris 4: nik: [nik.length] NIK harus 16 angka; tertulis 15 angka." in result.stdout


def test_cli_import_in_english(cli, cli_visit, files):
    path, _ = _file_with_bad_row_4(files)

    result = cli("--lang", "en", "roster", "import", str(path), "--visit", cli_visit)

    assert result.exit_code == 0, result.output
    assert "4 of 5 rows imported" in result.stdout
    assert "row 4: nik: [nik.length] A NIK has 16 digits; 15 were given." in result.stdout


def test_cli_import_json(cli, cli_visit, files, home):
    path, persons = _file_with_bad_row_4(files)

    result = cli("roster", "import", str(path), "--visit", cli_visit, "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True
    assert (document["source"], document["rows"], document["imported"]) == ("coordinator", 5, 4)
    assert len(document["ids"]) == 4
    assert document["rejected"][0]["row"] == 4
    assert document["rejected"][0]["findings"][0]["code"] == "nik.length"
    assert document["rejected"][0]["findings"][0]["field"] == "nik"
    assert document["warnings"] == []

    listed = cli("roster", "list", "--visit", cli_visit, "--json")
    assert listed.exit_code == 0, listed.output
    entries = json.loads(listed.stdout)["entries"]
    assert [e["id"] for e in entries] == document["ids"]
    assert [e["nik"] for e in entries] == [p.nik for i, p in enumerate(persons) if i != 2]

    vault = Vault.open(home)
    try:
        views = vault.conn.execute(
            "SELECT subject, detail FROM audit WHERE action = 'roster_viewed'"
        ).fetchall()
        assert views == [(f"visit:{cli_visit}", '{"entries":4}')]
        assert vault.verify_audit().ok
    finally:
        vault.close()


def test_cli_list_for_people(cli, cli_visit, files):
    path, persons = _file_with_bad_row_4(files)
    assert cli("roster", "import", str(path), "--visit", cli_visit).exit_code == 0

    result = cli("roster", "list", "--visit", cli_visit)

    assert result.exit_code == 0, result.output
    assert "4 orang" in result.stdout
    assert persons[0].name in result.stdout
    assert persons[2].name not in result.stdout


def test_cli_unusable_file_exits_2_with_a_clear_message(cli, cli_visit, files):
    path = files / "kosong.csv"
    _missing_columns(path)

    human = cli("roster", "import", str(path), "--visit", cli_visit)
    assert human.exit_code == 2
    assert "Tidak ada yang diimpor" in human.stderr
    assert "[roster.columns]" in human.stderr
    assert "Traceback" not in human.output

    as_json = cli("roster", "import", str(path), "--visit", cli_visit, "--json")
    assert as_json.exit_code == 2
    document = json.loads(as_json.stdout)
    assert document["ok"] is False
    assert document["imported"] == 0
    assert [f["code"] for f in document["findings"]] == ["roster.columns"]

    missing = cli("--lang", "en", "roster", "import", str(files / "nope.csv"), "--visit", cli_visit)
    assert missing.exit_code == 2
    assert "it does not exist" in missing.stderr

    garbage = files / "acak.xlsx"
    _broken_xlsx(garbage)
    broken = cli("--lang", "en", "roster", "import", str(garbage), "--visit", cli_visit)
    assert broken.exit_code == 2
    assert "cannot be read" in broken.stderr


def test_cli_every_row_rejected_exits_2(cli, cli_visit, files):
    p = people(2, seed=26)
    rows = [coordinator_row(i, x) for i, x in enumerate(p, start=1)]
    for row in rows:
        row[4] = "hilang"
    path = write_csv(files / "hilang.csv", COORDINATOR_HEADER, rows)

    result = cli("roster", "import", str(path), "--visit", cli_visit, "--json")

    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert (document["ok"], document["imported"], len(document["rejected"])) == (False, 0, 2)


def test_cli_unknown_visit_exits_1(cli, cli_visit, files):
    path, _ = _file_with_bad_row_4(files)
    result = cli("roster", "import", str(path), "--visit", new_id())
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_cli_shows_a_progress_bar_for_a_large_file_but_not_with_json(cli, cli_visit, files):
    path = coordinator_csv(files / "besar.csv", people(1200, seed=27))

    shown = cli("roster", "import", str(path), "--visit", cli_visit)
    assert shown.exit_code == 0, shown.output
    assert "Mengimpor daftar pemohon" in shown.stderr

    quiet = cli("roster", "import", str(path), "--visit", cli_visit, "--json")
    assert quiet.exit_code == 2  # every row is already in the roster
    assert "Mengimpor" not in quiet.stderr
    json.loads(quiet.stdout)
