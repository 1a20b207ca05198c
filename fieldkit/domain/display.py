"""The words an officer reads for what an applicant record stores, in Indonesian and English.

A record keeps stable English codes (``application_type: "expired"``, ``sex: "F"``, ``product:
"electronic"``); people read words. :func:`value_label` maps a field's stored value to its
words; it is pure, and an unknown field or value gives None, so a caller shows what is stored
instead of guessing. The fields' own labels are :data:`fieldkit.domain.applicant.LABELS` and,
for what a captured record holds besides, :data:`RECORD_FIELD_LABELS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from fieldkit.domain.applications import ApplicationType, Document
from fieldkit.domain.findings import Message
from fieldkit.domain.nik import Sex
from fieldkit.domain.products import VALIDITY_YEARS, PassportKind

# The words used after "Jenis permohonan:" (short forms of ApplicationType.label).
APPLICATION_TYPE_WORDS: dict[ApplicationType, Message] = {
    ApplicationType.NEW: Message("baru", "new"),
    ApplicationType.EXPIRED: Message(
        "penggantian (habis berlaku atau halaman penuh)", "replacement (expired or full)"
    ),
    ApplicationType.LOST: Message("penggantian (paspor hilang)", "replacement (lost passport)"),
    ApplicationType.DAMAGED: Message(
        "penggantian (paspor rusak)", "replacement (damaged passport)"
    ),
}

# The words used after "Jenis paspor:".
PASSPORT_KIND_WORDS: dict[PassportKind, Message] = {
    PassportKind.ORDINARY: Message("biasa", "ordinary"),
    PassportKind.ELECTRONIC: Message("elektronik", "electronic"),
}

# As the KTP writes it (LAKI-LAKI, PEREMPUAN).
SEX_WORDS: dict[Sex, Message] = {
    Sex.MALE: Message("laki-laki", "male"),
    Sex.FEMALE: Message("perempuan", "female"),
}

MARRIED_WORDS: dict[bool, Message] = {
    True: Message("sudah menikah", "married"),
    False: Message("belum menikah", "not married"),
}

# A document's name as the checklist gives it.
DOCUMENT_NAMES: dict[Document, Message] = {document: document.label for document in Document}

# Labels of the fields a captured record holds besides the applicant's own (LABELS).
RECORD_FIELD_LABELS: dict[str, Message] = {
    "fee": Message("Biaya", "Fee"),
    "documents_seen": Message("Dokumen yang diperiksa", "Documents seen"),
    "payment": Message("Pembayaran", "Payment"),
    "biometrics_ref": Message("Rujukan biometrik", "Biometrics reference"),
    "decision": Message("Keputusan", "Decision"),
    "notes": Message("Catatan", "Notes"),
}

# The fields :func:`value_label` has words for.
LABELLED_FIELDS = frozenset(
    {"application_type", "product", "sex", "married", "validity_years", "documents_seen"}
)


def _words(words: Mapping[Any, Message], enum: type[StrEnum], value: object) -> Message | None:
    """The words for ``value`` when it is the code of a member of ``enum``, else None."""
    if not isinstance(value, str):
        return None
    try:
        return words[enum(value)]
    except ValueError:
        return None


def value_label(field: str, value: object) -> Message | None:
    """The words for ``value`` stored in ``field`` of an applicant record, or None.

    None for a field not in :data:`LABELLED_FIELDS` and for a value the field does not take
    (the caller then shows the stored value as it is). ``documents_seen`` is a list of
    :class:`~fieldkit.domain.applications.Document` codes: its words are their names, joined
    with ", " (None unless every item is a known code).
    """
    if field == "application_type":
        return _words(APPLICATION_TYPE_WORDS, ApplicationType, value)
    if field == "product":
        return _words(PASSPORT_KIND_WORDS, PassportKind, value)
    if field == "sex":
        return _words(SEX_WORDS, Sex, value)
    if field == "married":
        return MARRIED_WORDS[value] if isinstance(value, bool) else None
    if field == "validity_years":
        if type(value) is not int or value not in VALIDITY_YEARS:
            return None
        return Message(f"{value} tahun", f"{value} years")
    if field == "documents_seen":
        if not isinstance(value, list):
            return None
        names = [_words(DOCUMENT_NAMES, Document, item) for item in value]
        if any(name is None for name in names):
            return None
        known = [name for name in names if name is not None]
        return Message(", ".join(m.id for m in known), ", ".join(m.en for m in known))
    return None
