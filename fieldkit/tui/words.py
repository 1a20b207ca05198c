"""Every word the field app shows, in Bahasa Indonesia and English.

The domain's findings and the application layer's errors carry their own
:class:`~fieldkit.domain.findings.Message`; this module holds the app's own words, the
descriptions of its key bindings (``key.<binding id>``) and Textual's built-in strings the
officer sees (the command palette's placeholder and system commands), so the whole screen
speaks one language. :func:`say` formats one in the chosen language.
"""

from __future__ import annotations

from fieldkit.domain.findings import Message
from fieldkit.settings import Lang

M = Message

WORDS: dict[str, Message] = {
    # -- key bindings (the footer, F1 help and the command palette) -----------------------------
    "key.help": M("bantuan", "help"),
    "key.lock": M("kunci", "lock"),
    "key.sync_now": M("sinkron", "sync"),
    "key.command_palette": M("perintah", "commands"),
    "key.quit": M("keluar", "quit"),
    "key.back": M("kembali", "back"),
    "key.open_visit": M("buka", "open"),
    "key.start_visit": M("mulai kunjungan", "start visit"),
    "key.kit": M("perlengkapan", "kit"),
    "key.end_visit": M("akhiri kunjungan", "end visit"),
    "key.language": M("English", "Bahasa Indonesia"),
    "key.walk_in": M("tanpa booking", "walk-in"),
    "key.serve": M("layani", "serve"),
    "key.queue": M("antrean", "queue"),
    "key.search": M("cari", "search"),
    "key.save": M("simpan", "save"),
    "key.accept": M("terima", "accept"),
    "key.decide": M("keputusan", "decision"),
    "key.next_field": M("kolom berikut", "next field"),
    "key.toggle": M("tandai", "mark"),
    "key.refer": M("rujuk", "refer"),
    "key.approve": M("setujui", "approve"),
    "key.submit": M("kirim", "submit"),
    "key.cancel": M("batal", "cancel"),
    "key.tick": M("centang", "tick"),
    "key.doc_seen": M("ada", "seen"),
    "key.doc_missing": M("tidak dibawa", "missing"),
    "key.doc_not_applicable": M("tidak berlaku", "n/a"),
    "session.pagi": M("pagi", "morning"),
    "session.siang": M("siang", "afternoon"),
    "astate.waiting": M("menunggu", "waiting"),
    "astate.at_counter": M("di loket", "at the counter"),
    "astate.accepted": M("diterima", "accepted"),
    "astate.pending_documents": M("kurang dokumen", "documents pending"),
    "astate.rejected": M("ditolak", "rejected"),
    "astate.referred": M("dirujuk", "referred"),
    "walkin.keys": M(
        "Enter: kolom berikut · Ctrl+S: simpan · Esc: batal",
        "Enter: next field · Ctrl+S: save · Esc: cancel",
    ),
    # -- Textual's own strings --------------------------------------------------------------------
    "palette.placeholder": M("Cari perintah…", "Search for commands…"),
    "system.theme": M("Tema", "Theme"),
    "system.theme.help": M("Ganti tema terang/gelap", "Change the light or dark theme"),
    "system.quit": M("Keluar", "Quit"),
    "system.quit.help": M("Tutup aplikasi (data sudah tersimpan)", "Close the app (data is saved)"),
    "system.keys": M("Tombol", "Keys"),
    "system.keys.help": M("Tampilkan bantuan tombol layar ini", "Show the keys of this screen"),
    "system.lock": M("Kunci laptop", "Lock the laptop"),
    "system.lock.help": M("Kunci sekarang; buka lagi dengan kata sandi", "Lock now; unlock again"),
    "system.sync": M("Sinkron sekarang", "Sync now"),
    "system.sync.help": M("Kirim data ke HQ sekarang", "Send records to HQ now"),
    "system.language": M("Bahasa: English", "Language: Bahasa Indonesia"),
    "system.language.help": M("Ganti bahasa (diingat)", "Change the language (remembered)"),
    "system.visits": M("Kunjungan", "Visits"),
    "system.visits.help": M("Daftar kunjungan", "The list of visits"),
    # -- unlock and setup -------------------------------------------------------------------------
    "app.title": M("fieldkit — layanan paspor keliling", "fieldkit — mobile passport service"),
    "unlock.title": M("Buka kunci laptop", "Unlock the laptop"),
    "unlock.officer": M("ID petugas", "Officer id"),
    "unlock.passphrase": M("Kata sandi", "Passphrase"),
    "unlock.hint": M(
        "Tulis ID petugas dan kata sandi, lalu tekan Enter.",
        "Type your officer id and passphrase, then press Enter.",
    ),
    "unlock.working": M("Membuka kunci…", "Unlocking…"),
    "unlock.wait": M(
        "Terlalu banyak percobaan gagal. Coba lagi dalam {seconds} detik.",
        "Too many failed attempts. Try again in {seconds} seconds.",
    ),
    "unlock.locked_note": M(
        "Laptop terkunci otomatis. Formulir yang sedang diisi disimpan terenkripsi "
        "dan dibuka lagi setelah Anda membuka kunci.",
        "The laptop locked itself. The form in progress is kept encrypted and comes back "
        "after you unlock.",
    ),
    "unlock.no_officer": M("Tulis ID petugas.", "Type the officer id."),
    "setup.title": M("Siapkan laptop ini", "Set up this laptop"),
    "setup.intro": M(
        "Belum ada brankas data di laptop ini. Buat akun supervisor pertama.",
        "There is no vault on this laptop yet. Create the first supervisor.",
    ),
    "setup.officer": M("ID supervisor", "Supervisor id"),
    "setup.name": M("Nama lengkap", "Full name"),
    "setup.passphrase": M("Kata sandi", "Passphrase"),
    "setup.confirm": M("Ulangi kata sandi", "Passphrase again"),
    "setup.rule": M(
        "Aturan kata sandi: minimal 12 karakter, beberapa kata, tidak sama dengan ID atau nama, "
        "bukan kata yang umum. Contoh pola: empat kata acak.",
        "Passphrase rule: at least 12 characters, several words, not your id or name, no "
        "common words. A pattern that works: four random words.",
    ),
    "setup.mismatch": M("Kedua kata sandi tidak sama.", "The two passphrases differ."),
    "setup.hq_url": M("Alamat HQ (boleh kosong)", "HQ address (may be empty)"),
    "setup.code": M("Kode pendaftaran dari HQ", "Enrollment code from HQ"),
    "setup.hq_hint": M(
        "Jika HQ terjangkau, isi alamat dan kode pendaftaran; bisa juga nanti lewat "
        "`fieldkit enroll`.",
        "If HQ is reachable, fill in its address and the enrollment code; or later with "
        "`fieldkit enroll`.",
    ),
    "setup.working": M(
        "Membuat brankas (kalibrasi kunci sekitar satu detik)…",
        "Creating the vault (key calibration takes about a second)…",
    ),
    "setup.enrolled": M("Terdaftar di HQ {url}.", "Enrolled with HQ {url}."),
    "setup.missing": M("Isi ID, nama dan kata sandi.", "Fill in the id, name and passphrase."),
    # -- visits -----------------------------------------------------------------------------------
    "visits.title": M("Kunjungan", "Visits"),
    "visits.none": M(
        "Belum ada kunjungan. Buat dengan `fieldkit visit create` atau sinkronkan dengan HQ.",
        "No visits yet. Plan one with `fieldkit visit create` or sync with HQ.",
    ),
    "visits.today": M("hari ini", "today"),
    "col.site": M("Lokasi", "Site"),
    "col.kind": M("Jenis", "Kind"),
    "col.date": M("Tanggal", "Date"),
    "col.session": M("Sesi", "Session"),
    "col.coordinator": M("Koordinator", "Coordinator"),
    "col.state": M("Status", "State"),
    "col.expected": M("Daftar", "Booked"),
    "col.arrived": M("Hadir", "Came"),
    "col.decided": M("Putus", "Done"),
    "col.pending": M("Tunggu", "Wait"),
    "col.synced": M("Kirim", "Sent"),
    "kind.eazy": M("Eazy Passport", "Eazy Passport"),
    "kind.simpatik": M("Paspor Simpatik (Sabtu)", "Paspor Simpatik (Saturday)"),
    "kind.office": M("Kantor", "Office"),
    "state.planned": M("direncanakan", "planned"),
    "state.open": M("dibuka", "open"),
    "state.closed": M("ditutup", "closed"),
    "state.withdrawn": M("dibatalkan HQ", "withdrawn by HQ"),
    "visits.opened": M("Kunjungan dibuka.", "Visit opened."),
    "visits.not_open": M(
        "Kunjungan belum dibuka: tekan {keys} untuk membukanya di lokasi.",
        "The visit is not open: press {keys} to open it on site.",
    ),
    # -- kit --------------------------------------------------------------------------------------
    "kit.title": M("Perlengkapan sebelum berangkat", "The kit, before departure"),
    "kit.packed": M("Semua sudah dikemas.", "Everything is packed."),
    "kit.packing": M("{done} dari {total} sudah dicentang.", "{done} of {total} ticked."),
    # -- check-in ---------------------------------------------------------------------------------
    "checkin.title": M("Kedatangan", "Check-in"),
    "checkin.search": M(
        "Kode booking, NIK atau nama",
        "Booking code, NIK or name",
    ),
    "checkin.none": M("Tidak ada yang cocok dengan {query!r}.", "Nothing matches {query!r}."),
    "checkin.more": M("Ketik lebih banyak untuk mempersempit.", "Type more to narrow it down."),
    "checkin.queue": M("NOMOR ANTREAN", "QUEUE NUMBER"),
    "checkin.refer": M("RUJUK KE SUPERVISOR", "REFER TO SUPERVISOR"),
    "checkin.serve_hint": M(
        "Tekan {keys} untuk melayani pemohon ini.", "Press {keys} to serve this applicant."
    ),
    "checkin.indexing": M("Menyiapkan pencarian nama…", "Preparing the name search…"),
    "checkin.ready": M("{count} entri daftar siap dicari.", "{count} roster entries searchable."),
    "checkin.booked": M("booking {code}", "booking {code}"),
    "roster.expected": M("terdaftar", "expected"),
    "roster.arrived": M("sudah hadir", "arrived"),
    "roster.no_show": M("tidak hadir", "no-show"),
    "roster.withdrawn": M("dibatalkan", "withdrawn"),
    "queue.title": M("Antrean", "Queue"),
    "queue.empty": M("Antrean kosong.", "The queue is empty."),
    # -- walk-ins ---------------------------------------------------------------------------------
    "walkin.title": M("Pemohon tanpa booking", "Walk-in without a booking"),
    "walkin.name": M("Nama", "Name"),
    "walkin.birth_date": M("Tanggal lahir (TTTT-BB-HH)", "Date of birth (YYYY-MM-DD)"),
    "walkin.nik": M("NIK (boleh kosong)", "NIK (may be empty)"),
    "walkin.group": M("Alasan prioritas", "Priority group"),
    "walkin.reason": M("Keterangan", "Reason in words"),
    "group.elderly": M("Lansia (60 tahun ke atas)", "Elderly (60 or over)"),
    "group.disability": M("Penyandang disabilitas", "Person with a disability"),
    "group.under_five": M("Anak di bawah 5 tahun", "Child under 5"),
    "group.simpatik_quota": M("Kuota Sabtu Simpatik", "Simpatik Saturday quota"),
    # -- the applicant ----------------------------------------------------------------------------
    "applicant.title": M("Pemohon {queue}", "Applicant {queue}"),
    "field.name": M("Nama", "Name"),
    "field.nik": M("NIK", "NIK"),
    "field.kk": M("Nomor KK", "Family card (KK) number"),
    "field.sex": M("Jenis kelamin (M laki-laki / F perempuan)", "Sex (M male / F female)"),
    "field.birth_date": M("Tanggal lahir", "Date of birth"),
    "field.birth_place": M("Tempat lahir", "Place of birth"),
    "field.phone": M("Nomor HP", "Phone"),
    "field.married": M("Kawin (ya/tidak)", "Married (yes/no)"),
    "field.application_type": M("Jenis permohonan", "Application type"),
    "field.old_passport_issued": M("Paspor lama terbit", "Old passport issued"),
    "field.product": M("Jenis paspor", "Passport"),
    "field.validity_years": M("Masa berlaku (tahun)", "Validity (years)"),
    "field.billing_code": M("Kode billing SIMPONI", "SIMPONI billing code"),
    "field.paid": M("Sudah dibayar", "Paid"),
    "field.ntpn": M("NTPN", "NTPN"),
    "field.biometrics_ref": M("Referensi biometrik", "Biometrics reference"),
    "field.notes": M("Catatan", "Notes"),
    "applicant.documents": M("Dokumen asli (spasi: tandai)", "Originals (space: mark)"),
    "applicant.fee": M("Biaya: {fee}", "Fee: {fee}"),
    "applicant.no_fee": M("Biaya: belum dapat dihitung", "Fee: not known yet"),
    "applicant.ready": M("Siap diterima.", "Ready to accept."),
    "applicant.open": M("Belum dapat diterima:", "Not ready to accept:"),
    "applicant.saved": M("Tersimpan (versi {version}).", "Saved (version {version})."),
    "applicant.decided": M("Keputusan dicatat: {kind}.", "Decision recorded: {kind}."),
    "applicant.eligible": M("Dapat dilayani di kunjungan ini.", "May be served at this visit."),
    "applicant.ack": M("Sudah diperiksa: {text}", "Checked: {text}"),
    "applicant.refer": M(
        "Kemungkinan cocok dengan daftar cegah: rujuk ke supervisor. Jangan beri tahu pemohon "
        "alasannya.",
        "Possible watchlist match: refer to the supervisor. Do not tell the applicant why.",
    ),
    "applicant.unsaved": M(
        "Ada perubahan yang belum disimpan. Simpan dulu?",
        "There are unsaved changes. Save them first?",
    ),
    "applicant.restored": M(
        "Formulir yang sedang diisi sebelum terkunci dikembalikan.",
        "The form you were filling in before the lock is back.",
    ),
    "doc.unmarked": M("·", "·"),
    "docstate.seen": M("ada", "seen"),
    "docstate.missing": M("tidak dibawa", "missing"),
    "docstate.not_applicable": M("tidak berlaku", "not applicable"),
    "decision.title": M("Keputusan", "Decision"),
    "decision.accepted": M("Diterima", "Accepted"),
    "decision.pending_documents": M("Kurang dokumen", "Documents pending"),
    "decision.rejected": M("Ditolak", "Rejected"),
    "decision.referred": M("Dirujuk ke kantor", "Referred to the office"),
    "decision.reason": M("Alasan", "Reason"),
    "decision.text": M("Keterangan (untuk dibacakan)", "Words (to read out)"),
    "resolve.title": M("Daftar cegah: keputusan supervisor", "Watchlist: the supervisor's answer"),
    "resolve.cleared": M("Bukan orang yang dicegah", "Not the person on the list"),
    "resolve.confirmed": M("Cocok: jangan dilayani", "A match: do not serve"),
    "resolve.supervisor_only": M(
        "Hanya supervisor yang dapat menyelesaikan ini; buka kunci sebagai supervisor.",
        "Only a supervisor can resolve this; unlock as a supervisor.",
    ),
    # -- end of visit -----------------------------------------------------------------------------
    "closing.title": M("Akhir kunjungan", "End of visit"),
    "closing.supervisor": M("ID supervisor", "Supervisor id"),
    "closing.passphrase": M("Kata sandi supervisor", "Supervisor's passphrase"),
    "closing.closed": M(
        "Kunjungan ditutup dan masuk antrean kirim ke HQ.",
        "The visit is closed and queued for HQ.",
    ),
    "summary.line": M(
        "Terdaftar {expected} · hadir {arrived} · tanpa booking {walk_ins} · belum datang "
        "{still} · diputus {decided} · belum diputus {undecided}",
        "Expected {expected} · arrived {arrived} · walk-ins {walk_ins} · still expected "
        "{still} · decided {decided} · undecided {undecided}",
    ),
    "summary.fees": M(
        "Biaya: ditagih {expected}, dibayar {paid}", "Fees: due {expected}, paid {paid}"
    ),
    "summary.missing": M(
        "Kurang dokumen: {count} pemohon", "Missing documents: {count} applicants"
    ),
    # -- sync -------------------------------------------------------------------------------------
    "sync.online": M("daring", "online"),
    "sync.offline": M("luring", "offline"),
    "sync.not_enrolled": M("belum terdaftar", "not enrolled"),
    "sync.waiting": M("{count} menunggu", "{count} waiting"),
    "sync.oldest": M("tertua {age}", "oldest {age}"),
    "sync.last": M("HQ terima {when}", "HQ ack {when}"),
    "sync.never": M("belum pernah", "never"),
    "sync.running": M("mengirim {done}/{total}", "sending {done}/{total}"),
    "sync.done": M("semua diterima HQ", "all acknowledged by HQ"),
    "sync.revoked": M("perangkat dicabut HQ", "device revoked by HQ"),
    "sync.problem": M("masalah: {text}", "problem: {text}"),
    "age.minutes": M("{n} mnt", "{n} min"),
    "age.hours": M("{n} jam", "{n} h"),
    "age.days": M("{n} hari", "{n} d"),
    "age.now": M("baru saja", "just now"),
    # -- help and common --------------------------------------------------------------------------
    "help.title": M("Bantuan: tombol di layar ini", "Help: the keys on this screen"),
    "help.close": M("Tekan Esc untuk menutup.", "Press Esc to close."),
    "confirm.yes": M("Ya", "Yes"),
    "confirm.no": M("Tidak", "No"),
    "confirm.discard": M("Buang perubahan", "Discard changes"),
    "error.worker": M("Terjadi kesalahan: {text}", "Something went wrong: {text}"),
}


def say(lang: Lang, key: str, **values: object) -> str:
    """The words under ``key`` in ``lang``, with ``values`` filled in."""
    text = WORDS[key].text(lang)
    return text.format(**values) if values else text
