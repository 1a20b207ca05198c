"""Import a visit's roster: the coordinator's applicant list, or the online bookings.

A roster entry (kind ``roster``, state ``expected``) is a person the team expects at a visit.
:func:`import_roster` reads a CSV or XLSX file, checks every row with the domain rules and
stores the good rows as one action, in one transaction; bad rows are reported by their
spreadsheet row number (the header row is row 1 when it is the first row) and not stored.

Files
-----
- **CSV**: UTF-8 with or without a byte-order mark (UTF-16 with a BOM and Windows-1252 are
  read too), fields separated by ``;`` (what Excel writes on Indonesian Windows), ``,`` or a
  tab. The separator is the one with which a header row is recognised.
- **XLSX** (Excel 2007 and later): the first worksheet whose header row is recognised. Dates may
  be date cells or text. Old ``.xls`` workbooks are refused with a request to save as XLSX.
- The header row is the first of the first 10 rows that names the required columns (rows above
  it, such as a letter's title, are ignored). Blank rows are skipped. Unrecognised columns
  (a running number ``No``, ``Keterangan``) are ignored and listed in the result.

Header names are matched case-insensitively, ignoring punctuation and anything in parentheses
(``Tgl. Lahir (dd/mm/yyyy)`` is ``tgl lahir``).

Coordinator's list (source ``coordinator``; the four first columns are required)
    ==================  ===============================================================
    field               accepted headers
    ==================  ===============================================================
    name                name, full name, nama, nama lengkap, nama pemohon, nama sesuai ktp
    birth_date          birth date, date of birth, dob, tanggal lahir, tgl lahir, tgl lhr
    nik                 nik, nik ktp, no nik, nomor nik, no ktp, nomor ktp,
                        nomor induk kependudukan
    application_type    new or replacement, application type, type, jenis permohonan,
                        permohonan, jenis, baru atau penggantian
    phone (optional)    phone, phone number, mobile, no hp, nomor hp, hp, no wa, no hp wa,
                        whatsapp, no telp, no telepon, nomor telepon, telepon
    ==================  ===============================================================

Online bookings (source ``booking``; chosen when the three booking columns are present)
    ==================  ===============================================================
    booking_code        booking code, kode booking, no booking, nomor booking,
                        kode pendaftaran, kode antrian
    booking_date        date, booking date, appointment date, tanggal, tanggal booking,
                        tanggal kedatangan, tanggal layanan, tanggal kunjungan
    session             session, sesi, sesi layanan
    optional            any of the coordinator's columns (name, NIK, birth date, ...)
    ==================  ===============================================================

A coordinator's list may carry a booking code column; date and session columns are read only
with it (otherwise they are ignored like any unknown column), and only on rows that have a
booking code.

Values
------
- Dates: date cells, or text ``dd/mm/yyyy``, ``dd-mm-yyyy``, ``dd.mm.yyyy`` (day first, as
  written in Indonesia) or ``yyyy-mm-dd``. A birth date after today is an error.
- NIK: checked with :func:`fieldkit.domain.nik.parse_nik` against the stated birth date; a
  mismatch is a warning kept with the row. A NIK stored as a *number* (an XLSX number cell, or
  ``3.2E+15`` in a CSV) is refused: Excel keeps only 15 significant digits, so the last digit
  may already be lost; the column must be formatted as text.
- Application type: ``new``/``baru``; ``expired``/``replacement``/``penggantian``/
  ``perpanjangan``/``habis berlaku``/``penuh`` mean a replacement of an expired or full
  passport; ``lost``/``hilang`` and ``damaged``/``rusak`` are refused away from the office
  (:func:`fieldkit.domain.applications.may_serve`).
- Phone: normalised to E.164 (+628…); a number cell that lost its leading 0 gets it back.
- Session: ``pagi``/``morning``, ``siang``/``sore``/``afternoon`` (``Sesi Pagi (08.00-12.00)``
  is read as ``pagi``). A booking for another day than the visit's is an error; for the other
  session of the same day, a warning.
- A NIK or booking code that an earlier row of the same file has, or that is already in this
  visit's roster, makes the row bad.

Nothing of a row's content is logged or written anywhere except inside the encrypted records;
the file is read into memory, never copied to a temporary file.

Modules: :mod:`.fields` (entry fields, required columns, labels), :mod:`.headers` (header
names to fields), :mod:`.sheets` (reading CSV and XLSX), :mod:`.values` (cell text and
dates), :mod:`.checks` (a row against the domain rules), :mod:`.rejections` (what a row can
be told), :mod:`.unusable` (refusing the whole file), :mod:`.importing` (the import and its
transaction), :mod:`.listing` (a visit's entries).
"""

from fieldkit.domain.roster import (
    APPLICATION_TYPE,
    BIRTH_DATE,
    BOOKING_CODE,
    BOOKING_DATE,
    ENTRY_FIELDS,
    NAME,
    NIK,
    PHONE,
    REQUIRED_COLUMNS,
    SESSION,
    Source,
)
from fieldkit.vault.roster.headers import HEADER_ALIASES, HEADER_SCAN_ROWS
from fieldkit.vault.roster.importing import (
    PROGRESS_CALLS,
    Progress,
    RosterImport,
    RowProblem,
    import_roster,
)
from fieldkit.vault.roster.listing import roster_entries
from fieldkit.vault.roster.sheets import CSV_DELIMITERS

__all__ = [
    "APPLICATION_TYPE",
    "BIRTH_DATE",
    "BOOKING_CODE",
    "BOOKING_DATE",
    "CSV_DELIMITERS",
    "ENTRY_FIELDS",
    "HEADER_ALIASES",
    "HEADER_SCAN_ROWS",
    "NAME",
    "NIK",
    "PHONE",
    "PROGRESS_CALLS",
    "REQUIRED_COLUMNS",
    "SESSION",
    "Progress",
    "RosterImport",
    "RowProblem",
    "Source",
    "import_roster",
    "roster_entries",
]
