"""Application types, applicant categories, the document checklists and where each is served.

Expectations are written from DOMAIN.md's "Documents by application type" table, not read from
the module: each checklist is compared as sets of alternatives, split into lines that always
apply and lines that apply only under a condition.
"""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldkit.domain.applications import (
    ApplicantCategory,
    ApplicationType,
    Document,
    Requirement,
    applicant_category,
    may_serve,
    required_documents,
)
from fieldkit.domain.calendar import VisitKind
from fieldkit.domain.findings import Message

D = Document
ADULT, MINOR = ApplicantCategory.ADULT, ApplicantCategory.MINOR


def alts(*docs):
    return frozenset(docs)


# --- applicant category -----------------------------------------------------------------------

CATEGORY_CASES = [
    # birth date, married, on, expected, why
    (date(2008, 3, 15), False, date(2025, 3, 14), MINOR, "day before the 17th birthday"),
    (date(2008, 3, 15), False, date(2025, 3, 15), ADULT, "on the 17th birthday"),
    (date(2008, 3, 15), True, date(2025, 3, 14), ADULT, "married at 16 counts as adult"),
    (date(2012, 1, 1), True, date(2025, 1, 1), ADULT, "married minor of 13 is still adult"),
    (date(2008, 2, 29), False, date(2025, 2, 28), MINOR, "leap-day birth: not yet 17 on 28 Feb"),
    (date(2008, 2, 29), False, date(2025, 3, 1), ADULT, "leap-day birth: 17 on 1 March"),
    (date(2024, 6, 1), False, date(2025, 1, 1), MINOR, "baby"),
    (date(1960, 1, 1), False, date(2025, 1, 1), ADULT, "65 years old"),
]


@pytest.mark.parametrize(("born", "married", "on", "expected", "why"), CATEGORY_CASES)
def test_applicant_category(born, married, on, expected, why):
    assert applicant_category(born, married, on) is expected, why


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)),
    on=st.dates(min_value=date(1900, 1, 1), max_value=date(2060, 12, 31)),
    married=st.booleans(),
)
def test_minor_means_under_17_and_unmarried(born, married, on):
    # The 17th birthday computed independently: 29 February moves to 1 March in common years.
    try:
        seventeenth = born.replace(year=born.year + 17)
    except ValueError:
        seventeenth = date(born.year + 17, 3, 1)
    expected = MINOR if on < seventeenth and not married else ADULT
    assert applicant_category(born, married, on) is expected


# --- document checklists ----------------------------------------------------------------------

REGISTRATION = alts(D.ONLINE_REGISTRATION_PROOF)  # the seed's minimum for everyone

NEW_ADULT_ALWAYS = {
    alts(D.KTP),
    alts(D.KK),
    alts(D.BIRTH_CERTIFICATE, D.MARRIAGE_CERTIFICATE, D.DIPLOMA, D.BAPTISM_LETTER),
}
NEW_ADULT_IF = {alts(D.NATURALISATION_LETTER), alts(D.NAME_CHANGE_ORDER)}

NEW_MINOR_ALWAYS = {
    alts(D.PARENT_KTP),
    alts(D.KK),
    alts(D.BIRTH_CERTIFICATE, D.BAPTISM_LETTER),
    alts(D.PARENTS_MARRIAGE_BOOK),
}
# Power of attorney when a parent is absent; divorce deed and custody order for divorced parents.
NEW_MINOR_IF = {alts(D.POWER_OF_ATTORNEY), alts(D.DIVORCE_DEED), alts(D.CUSTODY_ORDER)}

NEW = {ADULT: (NEW_ADULT_ALWAYS, NEW_ADULT_IF), MINOR: (NEW_MINOR_ALWAYS, NEW_MINOR_IF)}

BAP = alts(D.EXAMINATION_REPORT)
EVIDENCE = {
    ApplicationType.EXPIRED: alts(D.OLD_PASSPORT),
    ApplicationType.LOST: alts(D.POLICE_LOSS_REPORT),
    ApplicationType.DAMAGED: alts(D.DAMAGED_PASSPORT),
}
ADULT_REPLACEMENTS = {
    ApplicationType.LOST: {
        alts(D.POLICE_LOSS_REPORT),
        alts(D.KTP),
        alts(D.KK),
        alts(D.BIRTH_CERTIFICATE, D.DIPLOMA),
        BAP,
    },
    ApplicationType.DAMAGED: {alts(D.DAMAGED_PASSPORT), alts(D.KTP), alts(D.KK), BAP},
}

BEFORE_2009 = date(2008, 12, 31)
FROM_2009 = date(2009, 1, 1)
ISSUE_DATES = [None, date(1999, 7, 1), BEFORE_2009, FROM_2009, date(2020, 5, 5)]


def expected_checklist(app_type, category, issued):
    """(always, conditional) alternatives, straight from DOMAIN.md's table."""
    always, conditional = (set(part) for part in NEW[category])
    conditional.add(REGISTRATION)
    if app_type is ApplicationType.NEW:
        return always, conditional
    if category is MINOR:
        # No KTP below 17: the replacement's evidence plus the minor "new" set (+ BAP).
        always.add(EVIDENCE[app_type])
        if app_type is not ApplicationType.EXPIRED:
            always.add(BAP)
        return always, conditional
    if app_type is ApplicationType.EXPIRED:
        if issued is not None and issued >= FROM_2009:
            return {alts(D.OLD_PASSPORT), alts(D.KTP)}, {REGISTRATION}
        always.add(alts(D.OLD_PASSPORT))  # older (or unknown): the full "new" set as well
        return always, conditional
    return set(ADULT_REPLACEMENTS[app_type]), {REGISTRATION}


def split(requirements):
    always = {r.documents for r in requirements if r.condition is None}
    conditional = {r.documents for r in requirements if r.condition is not None}
    return always, conditional


@pytest.mark.parametrize("issued", ISSUE_DATES)
@pytest.mark.parametrize("category", list(ApplicantCategory))
@pytest.mark.parametrize("app_type", list(ApplicationType))
def test_required_documents_follow_the_table(app_type, category, issued):
    got = required_documents(app_type, category, old_passport_issued=issued)
    assert split(got) == expected_checklist(app_type, category, issued)
    # No line is listed twice, and the proof of online registration comes first.
    assert len({r.documents for r in got}) == len(got)
    assert got[0].documents == REGISTRATION


@pytest.mark.parametrize(
    ("issued", "full_set"),
    [(BEFORE_2009, True), (FROM_2009, False), (None, True)],
)
def test_2009_boundary_for_expired_adult(issued, full_set):
    docs = {
        d
        for r in required_documents(ApplicationType.EXPIRED, ADULT, old_passport_issued=issued)
        for d in r.alternatives
    }
    assert {D.OLD_PASSPORT, D.KTP} <= docs
    assert (D.KK in docs) is full_set
    assert (D.BIRTH_CERTIFICATE in docs) is full_set


@pytest.mark.parametrize("app_type", list(ApplicationType))
def test_minor_never_asked_for_own_ktp_and_adult_never_for_parent_ktp(app_type):
    for category, absent, present in [(MINOR, D.KTP, D.PARENT_KTP), (ADULT, D.PARENT_KTP, D.KTP)]:
        for issued in ISSUE_DATES:
            docs = {
                d
                for r in required_documents(app_type, category, old_passport_issued=issued)
                for d in r.alternatives
            }
            assert absent not in docs
            assert present in docs  # the seed's minimum: a KTP at every counter


def test_every_document_appears_in_some_checklist():
    used = {
        d
        for app_type in ApplicationType
        for category in ApplicantCategory
        for issued in ISSUE_DATES
        for r in required_documents(app_type, category, old_passport_issued=issued)
        for d in r.alternatives
    }
    assert used == set(Document)


def test_plain_words_give_the_same_checklist():
    assert required_documents("lost", "minor") == required_documents(
        ApplicationType.LOST, ApplicantCategory.MINOR
    )


@pytest.mark.parametrize("enum", [ApplicationType, ApplicantCategory, Document])
def test_every_member_has_a_label_in_both_languages(enum):
    labels = [member.label for member in enum]
    assert all(isinstance(label, Message) and label.id and label.en for label in labels)
    assert len({label.id for label in labels}) == len(labels)
    assert len({label.en for label in labels}) == len(labels)
    assert all(member.value == member.value.lower() for member in enum)


@pytest.mark.parametrize(
    ("docs", "lang", "pattern"),
    [
        ((D.KTP,), "id", "{0}"),
        ((D.BIRTH_CERTIFICATE, D.DIPLOMA), "id", "{0} atau {1}"),
        ((D.BIRTH_CERTIFICATE, D.DIPLOMA), "en", "{0} or {1}"),
        ((D.BIRTH_CERTIFICATE, D.DIPLOMA, D.BAPTISM_LETTER), "id", "{0}, {1}, atau {2}"),
        ((D.BIRTH_CERTIFICATE, D.DIPLOMA, D.BAPTISM_LETTER), "en", "{0}, {1}, or {2}"),
    ],
)
def test_requirement_label_joins_alternatives(docs, lang, pattern):
    names = [d.label.text(lang) for d in docs]
    assert Requirement(docs).label(lang) == pattern.format(*names)


def test_requirement_text_adds_the_condition():
    condition = Message("jika pernah ganti nama", "if the name was changed")
    requirement = Requirement((D.NAME_CHANGE_ORDER,), condition)
    assert requirement.text("en") == f"{D.NAME_CHANGE_ORDER.label.en} (if the name was changed)"
    assert requirement.text("id").endswith("(jika pernah ganti nama)")
    assert Requirement((D.KK,)).text("id") == D.KK.label.id


# --- where each application may be served -----------------------------------------------------

# DOMAIN.md: visits and Simpatik Saturdays serve new passports and expiry replacements only.
SERVED_AWAY = {ApplicationType.NEW, ApplicationType.EXPIRED}


@pytest.mark.parametrize("visit", list(VisitKind))
@pytest.mark.parametrize("app_type", list(ApplicationType))
def test_may_serve_matrix(app_type, visit):
    checked = may_serve(app_type, visit)
    allowed = visit is VisitKind.OFFICE or app_type in SERVED_AWAY
    assert checked.ok is allowed
    if allowed:
        assert checked.value is app_type
        assert checked.findings == ()
        return
    (finding,) = checked.findings
    assert finding.code == "application.office_only"
    # Words the officer reads to the applicant: polite, why (BAP at the office), what to do.
    assert finding.message.id.startswith("Bapak/Ibu")
    for text in (finding.message.id, finding.message.en):
        assert "BAP" in text
        assert "Kantor Imigrasi" in text
    if app_type is ApplicationType.LOST:
        assert "kepolisian" in finding.message.id
        assert "police" in finding.message.en
    else:
        assert "paspor yang rusak" in finding.message.id


def test_may_serve_reads_plain_words():
    assert may_serve("expired", "simpatik").value is ApplicationType.EXPIRED
    assert may_serve("damaged", "eazy").findings[0].code == "application.office_only"


def test_may_serve_reports_unknown_words_without_raising():
    checked = may_serve("stolen", "bus")
    assert not checked.ok
    assert {f.code for f in checked.findings} == {"application.unknown_type", "visit.unknown_kind"}


@given(st.one_of(st.none(), st.integers(), st.text()), st.one_of(st.none(), st.text()))
def test_may_serve_never_raises(app_type, visit):
    checked = may_serve(app_type, visit)
    assert checked.ok == (checked.value is not None)
