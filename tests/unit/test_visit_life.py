"""Every change of a visit's state, allowed and refused (fieldkit.domain.visitlife)."""

import pytest

from fieldkit.domain.counter import VisitState
from fieldkit.domain.visitlife import ALLOWED, check_state_change

PLANNED, OPEN, CLOSED, WITHDRAWN = (
    VisitState.PLANNED,
    VisitState.OPEN,
    VisitState.CLOSED,
    VisitState.WITHDRAWN,
)


def test_planned_to_open():
    checked = check_state_change("planned", "open")
    assert checked.ok and checked.value is OPEN


def test_open_to_closed():
    checked = check_state_change(OPEN, CLOSED)
    assert checked.ok and checked.value is CLOSED


def test_a_correction_keeps_a_closed_visit_closed():
    assert check_state_change(CLOSED, CLOSED).value is CLOSED


def test_closed_to_open_is_refused():
    checked = check_state_change(CLOSED, OPEN)
    assert not checked.ok
    assert [f.code for f in checked.errors] == ["visit.closed"]
    assert "cannot be opened again" in checked.errors[0].message.en


def test_a_planned_visit_cannot_be_closed_before_it_is_opened():
    checked = check_state_change(PLANNED, CLOSED)
    assert [f.code for f in checked.errors] == ["visit.not_open"]


def test_opening_an_open_visit_is_not_a_state_change():
    assert [f.code for f in check_state_change(OPEN, OPEN).errors] == ["visit.already_open"]


@pytest.mark.parametrize("target", list(VisitState))
def test_nothing_follows_withdrawn(target):
    checked = check_state_change(WITHDRAWN, target)
    assert not checked.ok
    assert [f.code for f in checked.errors] == ["visit.withdrawn"]


@pytest.mark.parametrize("start", [PLANNED, OPEN, CLOSED])
def test_hq_may_withdraw_a_visit_in_any_other_state(start):
    assert check_state_change(start, WITHDRAWN).ok


@pytest.mark.parametrize("target", [PLANNED])
@pytest.mark.parametrize("start", [OPEN, CLOSED])
def test_no_visit_goes_back_to_planned(start, target):
    assert not check_state_change(start, target).ok


def test_every_pair_is_decided_by_the_table():
    for start in VisitState:
        for target in VisitState:
            assert check_state_change(start, target).ok == ((start, target) in ALLOWED)


@pytest.mark.parametrize(("start", "target"), [("reopened", "open"), ("open", None), (3, "closed")])
def test_an_unknown_state_is_a_finding_not_an_exception(start, target):
    checked = check_state_change(start, target)
    assert [f.code for f in checked.errors] == ["visit.state"]
    assert checked.errors[0].message.id and checked.errors[0].message.en
