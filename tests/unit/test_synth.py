"""Synthetic applicants: deterministic, internally consistent, and obviously not real."""

from datetime import date

from fieldkit.domain.applications import ApplicationType
from fieldkit.domain.dates import age_on
from fieldkit.domain.identifiers import check_booking_code, check_person_name, check_phone
from fieldkit.domain.kk import parse_kk
from fieldkit.domain.nik import Sex, parse_nik
from fieldkit.domain.products import check_product
from fieldkit.domain.synth import SYNTH_EPOCH, is_synthetic_serial, synthetic_applicants

TODAY = date(2026, 11, 28)


def test_the_same_seed_gives_the_same_people_and_another_seed_others():
    first = [a.as_json() for a in synthetic_applicants(50, seed=7)]
    again = [a.as_json() for a in synthetic_applicants(50, seed=7)]
    other = [a.as_json() for a in synthetic_applicants(50, seed=8)]
    assert first == again
    assert first != other


def test_every_synthetic_applicant_passes_every_rule_and_is_consistent():
    people = list(synthetic_applicants(2000, seed=1))
    for person in people:
        nik = parse_nik(
            person.nik, stated_birth_date=person.birth_date, stated_sex=person.sex, today=TODAY
        )
        assert nik.ok and nik.findings == (), (person, nik.findings)
        assert nik.value.birth_date == person.birth_date
        assert nik.value.sex is person.sex
        assert is_synthetic_serial(nik.value.serial)
        kk = parse_kk(person.kk, today=TODAY)
        assert kk.ok and kk.findings == (), (person, kk.findings)
        assert kk.value.region.code == nik.value.region.code
        assert is_synthetic_serial(kk.value.serial)
        assert check_person_name(person.name).value == person.name
        assert check_phone(person.phone).value == person.phone
        assert check_booking_code(person.booking_code).value == person.booking_code
        product = check_product(
            person.product,
            person.validity_years,
            birth_date=person.birth_date,
            married=person.married,
            on=SYNTH_EPOCH,
        )
        assert product.ok, (person, product.findings)
        assert ApplicationType(person.application_type) in (
            ApplicationType.NEW,
            ApplicationType.EXPIRED,
        )
        assert (person.old_passport_issued is not None) == (person.application_type == "expired")
        if person.old_passport_issued:
            assert person.birth_date < person.old_passport_issued


def test_the_mix_looks_like_a_real_counter():
    people = list(synthetic_applicants(2000, seed=2))
    provinces = {p.nik[:2] for p in people}
    women = sum(p.sex is Sex.FEMALE for p in people)
    minors = sum(age_on(p.birth_date, SYNTH_EPOCH) < 17 for p in people)
    java = sum(p.nik[:2] in {"31", "32", "33", "34", "35", "36"} for p in people)
    assert len(provinces) >= 30
    assert 0.4 < women / len(people) < 0.6
    assert 0.03 < minors / len(people) < 0.25
    assert java / len(people) > 0.4
    assert len({p.nik for p in people}) == len(people)
    assert any("'" in p.name or "." in p.name or "-" in p.name for p in people)


def test_synthetic_serials_are_only_the_reserved_range():
    assert is_synthetic_serial("9000")
    assert is_synthetic_serial("9999")
    assert not is_synthetic_serial("8999")
    assert not is_synthetic_serial("0001")
    assert not is_synthetic_serial("٩٠٠٠")
