"""Application types, applicant categories and the documents each application needs.

Sources: imigrasi.go.id "paspor biasa" and Kanim pages (summarised in DOMAIN.md, "Documents by
application type"); the seed article for the minimum everyone brings (online registration
proof, KTP, KK) and for which applications a visit away from the office may serve.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from fieldkit.domain.calendar import VisitKind
from fieldkit.domain.dates import age_on
from fieldkit.domain.findings import Checked, Finding, Lang, Message, error

# Age at which an Indonesian gets a KTP and counts as an adult for passports; marriage before
# that age also makes a person an adult (UU 24/2013 on civil registration).
ADULT_AGE = 17

# Passports issued before 2009 predate the current biometric records, so their holders prove
# their identity again with the full "new" set (imigrasi.go.id).
BIOMETRIC_RECORDS_FROM = date(2009, 1, 1)


class ApplicationType(StrEnum):
    """Why the applicant wants a passport."""

    NEW = "new"
    EXPIRED = "expired"
    LOST = "lost"
    DAMAGED = "damaged"

    @property
    def label(self) -> Message:
        """The type in both working languages."""
        return _TYPE_LABELS[self]


_TYPE_LABELS: dict[ApplicationType, Message] = {
    ApplicationType.NEW: Message("Paspor baru", "New passport"),
    ApplicationType.EXPIRED: Message(
        "Penggantian paspor habis berlaku atau halaman penuh",
        "Replacement of an expired or full passport",
    ),
    ApplicationType.LOST: Message("Penggantian paspor hilang", "Replacement of a lost passport"),
    ApplicationType.DAMAGED: Message(
        "Penggantian paspor rusak", "Replacement of a damaged passport"
    ),
}


class ApplicantCategory(StrEnum):
    """Adult or minor: decides whose KTP is shown and which papers prove identity."""

    ADULT = "adult"
    MINOR = "minor"

    @property
    def label(self) -> Message:
        """The category in both working languages."""
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS: dict[ApplicantCategory, Message] = {
    ApplicantCategory.ADULT: Message(
        "Dewasa (17 tahun ke atas atau sudah menikah)", "Adult (17 or older, or married)"
    ),
    ApplicantCategory.MINOR: Message(
        "Anak (di bawah 17 tahun dan belum menikah)", "Minor (under 17 and unmarried)"
    ),
}


def applicant_category(birth_date: date, married: bool, on: date) -> ApplicantCategory:
    """Return MINOR for an applicant under 17 on ``on`` who has never married, else ADULT.

    The 17th birthday itself counts as adult; someone born on 29 February turns 17 on 1 March in
    a common year (see :func:`fieldkit.domain.dates.age_on`).
    """
    if married or age_on(birth_date, on) >= ADULT_AGE:
        return ApplicantCategory.ADULT
    return ApplicantCategory.MINOR


class Document(StrEnum):
    """A paper the applicant shows at the counter (or, for the BAP, one the office draws up)."""

    ONLINE_REGISTRATION_PROOF = "online_registration_proof"
    KTP = "ktp"
    PARENT_KTP = "parent_ktp"
    KK = "kk"
    BIRTH_CERTIFICATE = "birth_certificate"
    MARRIAGE_CERTIFICATE = "marriage_certificate"
    DIPLOMA = "diploma"
    BAPTISM_LETTER = "baptism_letter"
    NATURALISATION_LETTER = "naturalisation_letter"
    NAME_CHANGE_ORDER = "name_change_order"
    PARENTS_MARRIAGE_BOOK = "parents_marriage_book"
    POWER_OF_ATTORNEY = "power_of_attorney"
    DIVORCE_DEED = "divorce_deed"
    CUSTODY_ORDER = "custody_order"
    OLD_PASSPORT = "old_passport"
    POLICE_LOSS_REPORT = "police_loss_report"
    DAMAGED_PASSPORT = "damaged_passport"
    EXAMINATION_REPORT = "examination_report"

    @property
    def label(self) -> Message:
        """The document's name as officers say it, in both working languages."""
        return _DOCUMENT_LABELS[self]


_DOCUMENT_LABELS: dict[Document, Message] = {
    Document.ONLINE_REGISTRATION_PROOF: Message(
        "Bukti pendaftaran online (kode booking M-Paspor)",
        "Proof of online registration (M-Paspor booking code)",
    ),
    Document.KTP: Message("KTP elektronik (e-KTP)", "Electronic identity card (e-KTP)"),
    Document.PARENT_KTP: Message(
        "KTP ayah atau ibu", "Identity card (KTP) of the father or mother"
    ),
    Document.KK: Message("Kartu Keluarga (KK)", "Family card (Kartu Keluarga, KK)"),
    Document.BIRTH_CERTIFICATE: Message("Akta kelahiran", "Birth certificate"),
    Document.MARRIAGE_CERTIFICATE: Message(
        "Akta perkawinan/buku nikah", "Marriage certificate/book"
    ),
    Document.DIPLOMA: Message("Ijazah", "School diploma"),
    Document.BAPTISM_LETTER: Message("Surat baptis", "Baptism letter"),
    Document.NATURALISATION_LETTER: Message(
        "Surat keputusan pewarganegaraan", "Naturalisation letter"
    ),
    Document.NAME_CHANGE_ORDER: Message(
        "Penetapan pengadilan tentang ganti nama", "Court order on the change of name"
    ),
    Document.PARENTS_MARRIAGE_BOOK: Message(
        "Buku nikah/akta perkawinan orang tua", "Parents' marriage book/certificate"
    ),
    Document.POWER_OF_ATTORNEY: Message(
        "Surat kuasa bermeterai dari orang tua yang tidak hadir",
        "Signed and stamped power of attorney from the parent who is not present",
    ),
    Document.DIVORCE_DEED: Message("Akta perceraian", "Divorce deed"),
    Document.CUSTODY_ORDER: Message(
        "Penetapan pengadilan tentang hak asuh anak", "Court order on custody of the child"
    ),
    Document.OLD_PASSPORT: Message("Paspor lama", "Old passport"),
    Document.POLICE_LOSS_REPORT: Message(
        "Surat keterangan hilang dari kepolisian", "Police report of the loss"
    ),
    Document.DAMAGED_PASSPORT: Message("Paspor yang rusak", "The damaged passport"),
    Document.EXAMINATION_REPORT: Message(
        "Berita Acara Pemeriksaan (BAP), dibuat di Kantor Imigrasi",
        "Examination report (BAP), drawn up at the immigration office",
    ),
}


_CONNECTIVE: dict[Lang, str] = {"id": "atau", "en": "or"}


@dataclass(frozen=True, slots=True)
class Requirement:
    """One line of the checklist: any one of ``alternatives`` satisfies it.

    ``condition`` says when the line applies at all (None: always); ``note`` says what the
    document must show, when that matters to the officer checking it.
    """

    alternatives: tuple[Document, ...]
    condition: Message | None = None
    note: Message | None = None

    @property
    def documents(self) -> frozenset[Document]:
        """The documents that satisfy this requirement."""
        return frozenset(self.alternatives)

    def label(self, lang: Lang = "id") -> str:
        """Return the alternatives joined the way people list them: ``A, B, atau C``."""
        names = [doc.label.text(lang) for doc in self.alternatives]
        if len(names) <= 1:
            return "".join(names)
        if len(names) == 2:  # two items take no comma in either language
            return f"{names[0]} {_CONNECTIVE[lang]} {names[1]}"
        # Both PUEBI (Indonesian) and our English keep the comma before the last item.
        return f"{', '.join(names[:-1])}, {_CONNECTIVE[lang]} {names[-1]}"

    def text(self, lang: Lang = "id") -> str:
        """Return the label followed by its condition, if any, as one checklist line."""
        if self.condition is None:
            return self.label(lang)
        return f"{self.label(lang)} ({self.condition.text(lang)})"


def _one(*alternatives: Document, condition: Message | None = None) -> Requirement:
    return Requirement(alternatives, condition)


_ONLINE_REGISTRATION = _one(
    Document.ONLINE_REGISTRATION_PROOF,
    condition=Message(
        "kecuali kelompok prioritas: lansia 60 tahun ke atas, penyandang disabilitas, "
        "anak di bawah 5 tahun",
        "except priority groups: people aged 60 or over, people with disabilities, "
        "children under 5",
    ),
)

_NEW_ADULT: tuple[Requirement, ...] = (
    _one(Document.KTP),
    _one(Document.KK),
    Requirement(
        (
            Document.BIRTH_CERTIFICATE,
            Document.MARRIAGE_CERTIFICATE,
            Document.DIPLOMA,
            Document.BAPTISM_LETTER,
        ),
        note=Message(
            "harus memuat nama, tempat dan tanggal lahir, serta nama orang tua",
            "must show the name, place and date of birth, and the parents' names",
        ),
    ),
    _one(
        Document.NATURALISATION_LETTER,
        condition=Message(
            "jika menjadi WNI melalui pewarganegaraan",
            "if the applicant became a citizen by naturalisation",
        ),
    ),
    _one(
        Document.NAME_CHANGE_ORDER,
        condition=Message("jika pernah ganti nama", "if the name was changed"),
    ),
)

_DIVORCED = Message("jika orang tua bercerai", "if the parents are divorced")

_NEW_MINOR: tuple[Requirement, ...] = (
    _one(Document.PARENT_KTP),
    _one(Document.KK),
    _one(Document.BIRTH_CERTIFICATE, Document.BAPTISM_LETTER),
    _one(Document.PARENTS_MARRIAGE_BOOK),
    _one(
        Document.POWER_OF_ATTORNEY,
        condition=Message(
            "jika ayah atau ibu tidak hadir", "if the father or the mother is not present"
        ),
    ),
    _one(Document.DIVORCE_DEED, condition=_DIVORCED),
    _one(Document.CUSTODY_ORDER, condition=_DIVORCED),
)

_NEW: dict[ApplicantCategory, tuple[Requirement, ...]] = {
    ApplicantCategory.ADULT: _NEW_ADULT,
    ApplicantCategory.MINOR: _NEW_MINOR,
}

_EXAMINATION = _one(Document.EXAMINATION_REPORT)


def required_documents(
    app_type: ApplicationType,
    category: ApplicantCategory,
    *,
    old_passport_issued: date | None = None,
) -> tuple[Requirement, ...]:
    """Return the checklist for an application, following DOMAIN.md's table.

    Every list starts with the proof of online registration (the seed's minimum for everyone;
    priority groups are exempt, as the requirement's condition says).

    - NEW: adult — KTP, KK, one identity paper (birth/marriage certificate, diploma, baptism
      letter), naturalisation letter and name-change order when they apply; minor — a parent's
      KTP, KK, birth certificate or baptism letter, parents' marriage book, power of attorney
      when a parent is absent, divorce deed and custody order when the parents are divorced.
    - EXPIRED (expired or full): an adult whose old passport was issued on or after
      2009-01-01 brings the old passport and the KTP only. An older passport needs the full
      "new" set as well. When ``old_passport_issued`` is None (unknown), the full set is asked
      for: asking too much costs the applicant a folder of photocopies, asking too little
      costs a second trip, and the issue date is printed on the passport the officer holds.
    - LOST: police loss report, KTP, KK, birth certificate or diploma, and the BAP.
    - DAMAGED: the damaged passport, KTP, KK, and the BAP.

    A minor has no KTP, so every minor's replacement is the replacement's own evidence (old
    passport, police report or damaged passport) plus the minor "new" set, and the BAP for lost
    and damaged passports; for a minor the 2009 rule does not change anything.
    """
    # Plain strings from a CLI compare equal to the members but are not them: normalise once.
    app_type, category = ApplicationType(app_type), ApplicantCategory(category)
    new_set = _NEW[category]
    if app_type is ApplicationType.NEW:
        body = new_set
    elif category is ApplicantCategory.MINOR:
        evidence = {
            ApplicationType.EXPIRED: Document.OLD_PASSPORT,
            ApplicationType.LOST: Document.POLICE_LOSS_REPORT,
            ApplicationType.DAMAGED: Document.DAMAGED_PASSPORT,
        }[app_type]
        examination = () if app_type is ApplicationType.EXPIRED else (_EXAMINATION,)
        body = (_one(evidence), *new_set, *examination)
    elif app_type is ApplicationType.EXPIRED:
        recent = old_passport_issued is not None and old_passport_issued >= BIOMETRIC_RECORDS_FROM
        body = (
            (_one(Document.OLD_PASSPORT), _one(Document.KTP))
            if recent
            else (
                _one(Document.OLD_PASSPORT),
                *new_set,
            )
        )
    elif app_type is ApplicationType.LOST:
        body = (
            _one(Document.POLICE_LOSS_REPORT),
            _one(Document.KTP),
            _one(Document.KK),
            _one(Document.BIRTH_CERTIFICATE, Document.DIPLOMA),
            _EXAMINATION,
        )
    else:
        body = (
            _one(Document.DAMAGED_PASSPORT),
            _one(Document.KTP),
            _one(Document.KK),
            _EXAMINATION,
        )
    return (_ONLINE_REGISTRATION, *body)


# Applications a visit away from the office may take: the rest need a BAP drawn up at the office.
_AWAY_FROM_OFFICE = frozenset({ApplicationType.NEW, ApplicationType.EXPIRED})

_VISIT_NAMES: dict[VisitKind, Message] = {
    VisitKind.EAZY: Message("layanan paspor keliling (Eazy Passport)", "the Eazy Passport visit"),
    VisitKind.SIMPATIK: Message(
        "layanan Paspor Simpatik hari Sabtu", "the Paspor Simpatik Saturday"
    ),
}


def _office_only(app_type: ApplicationType, visit: VisitKind) -> Message:
    where = _VISIT_NAMES[visit]
    if app_type is ApplicationType.LOST:
        return Message(
            f"Bapak/Ibu, mohon maaf, penggantian paspor yang hilang tidak dapat dilayani di "
            f"{where.id}. Untuk paspor hilang, petugas harus membuat Berita Acara Pemeriksaan "
            "(BAP) di Kantor Imigrasi. Silakan datang ke Kantor Imigrasi dengan membawa surat "
            "keterangan hilang dari kepolisian, KTP, KK, dan akta kelahiran atau ijazah.",
            f"Sir/Madam, we are sorry: a lost passport cannot be replaced at {where.en}. For a "
            "lost passport an officer has to draw up an examination report (BAP) at the "
            "immigration office. Please come to the Kantor Imigrasi and bring the police report "
            "of the loss, your KTP, your KK, and your birth certificate or diploma.",
        )
    return Message(
        f"Bapak/Ibu, mohon maaf, penggantian paspor yang rusak tidak dapat dilayani di "
        f"{where.id}. Untuk paspor rusak, petugas harus membuat Berita Acara Pemeriksaan (BAP) "
        "di Kantor Imigrasi. Silakan datang ke Kantor Imigrasi dengan membawa paspor yang rusak, "
        "KTP, dan KK.",
        f"Sir/Madam, we are sorry: a damaged passport cannot be replaced at {where.en}. For a "
        "damaged passport an officer has to draw up an examination report (BAP) at the "
        "immigration office. Please come to the Kantor Imigrasi and bring the damaged passport, "
        "your KTP and your KK.",
    )


def may_serve(
    app_type: ApplicationType | str, visit_kind: VisitKind | str
) -> Checked[ApplicationType]:
    """Return ``app_type`` when it may be served at this kind of visit, else an error.

    At the office everything is served. On an Eazy Passport visit or a Paspor Simpatik Saturday
    only new passports and replacements of expired or full passports are: lost and damaged
    passports need a BAP at the office, so they get ``application.office_only`` with words the
    officer can read aloud to the applicant. Unknown words give ``application.unknown_type`` or
    ``visit.unknown_kind``.
    """
    findings: list[Finding] = []
    try:
        kind = ApplicationType(app_type)
    except ValueError:
        kind = None
        findings.append(
            error(
                "application.unknown_type",
                "application_type",
                f"Jenis permohonan {app_type!r} tidak dikenal; pilih salah satu: "
                f"{_choices(ApplicationType)}.",
                f"Unknown application type {app_type!r}; choose one of: "
                f"{_choices(ApplicationType)}.",
            )
        )
    try:
        visit = VisitKind(visit_kind)
    except ValueError:
        visit = None
        findings.append(
            error(
                "visit.unknown_kind",
                "visit_kind",
                f"Jenis layanan {visit_kind!r} tidak dikenal; pilih salah satu: "
                f"{_choices(VisitKind)}.",
                f"Unknown kind of visit {visit_kind!r}; choose one of: {_choices(VisitKind)}.",
            )
        )
    if kind is None or visit is None:
        return Checked.invalid(*findings)
    if visit is not VisitKind.OFFICE and kind not in _AWAY_FROM_OFFICE:
        message = _office_only(kind, visit)
        return Checked.invalid(
            error("application.office_only", "application_type", message.id, message.en)
        )
    return Checked.of(kind)


def _choices(enum: type[StrEnum]) -> str:
    return ", ".join(member.value for member in enum)
