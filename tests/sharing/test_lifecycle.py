"""The sharing request's lifecycle: only the table's moves exist, each for its one role, and
rejection, requests for changes and forced releases need a reason."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mastplan.errors import InvalidTransitionError, PermissionDeniedError
from mastplan.sharing.lifecycle import TRANSITIONS, Action, RequestState, Role, next_state

S, A, R = RequestState, Action, Role

# The lifecycle of the issue, written out by hand: (state, action) -> (role, next state)
EXPECTED = {
    (S.DRAFT, A.SUBMIT): (R.OPERATOR, S.SUBMITTED),
    (S.CHANGES_REQUESTED, A.SUBMIT): (R.OPERATOR, S.SUBMITTED),
    (S.SUBMITTED, A.REVIEW): (R.OWNER, S.UNDER_REVIEW),
    (S.UNDER_REVIEW, A.APPROVE): (R.OWNER, S.APPROVED),
    (S.UNDER_REVIEW, A.REJECT): (R.OWNER, S.REJECTED),
    (S.UNDER_REVIEW, A.REQUEST_CHANGES): (R.OWNER, S.CHANGES_REQUESTED),
    (S.DRAFT, A.WITHDRAW): (R.OPERATOR, S.WITHDRAWN),
    (S.SUBMITTED, A.WITHDRAW): (R.OPERATOR, S.WITHDRAWN),
    (S.UNDER_REVIEW, A.WITHDRAW): (R.OPERATOR, S.WITHDRAWN),
    (S.CHANGES_REQUESTED, A.WITHDRAW): (R.OPERATOR, S.WITHDRAWN),
    (S.APPROVED, A.INSTALL): (R.OPERATOR, S.INSTALLED),
    (S.INSTALLED, A.ACTIVATE): (R.OWNER, S.ACTIVE),
    (S.ACTIVE, A.RELEASE): (R.OPERATOR, S.RELEASED),
    (S.APPROVED, A.FORCE_RELEASE): (R.REGULATOR, S.RELEASED),
    (S.INSTALLED, A.FORCE_RELEASE): (R.REGULATOR, S.RELEASED),
    (S.ACTIVE, A.FORCE_RELEASE): (R.REGULATOR, S.RELEASED),
}
NEEDS_REASON = {A.REJECT, A.REQUEST_CHANGES, A.FORCE_RELEASE}


def test_every_state_action_and_role_is_decided_by_the_table():
    for state, action, role in itertools.product(S, A, R):
        expected = EXPECTED.get((state, action))
        if expected is None:
            with pytest.raises(InvalidTransitionError):
                next_state(state, action, role, reason="because")
        elif expected[0] != role:
            with pytest.raises(PermissionDeniedError):
                next_state(state, action, role, reason="because")
        else:
            assert next_state(state, action, role, reason="because").target == expected[1]


def test_reasons_are_required_where_the_issue_says():
    for (state, action), (role, _) in EXPECTED.items():
        if action in NEEDS_REASON:
            for missing in (None, "", "   "):
                with pytest.raises(InvalidTransitionError, match="needs a reason"):
                    next_state(state, action, role, reason=missing)
        else:
            next_state(state, action, role)  # no reason needed


def test_approval_books_capacity_and_releases_free_it():
    booking = {(t.source, t.action) for t in TRANSITIONS if t.reserves_capacity}
    freeing = {(t.source, t.action) for t in TRANSITIONS if t.frees_capacity}
    assert booking == {(S.UNDER_REVIEW, A.APPROVE)}
    assert freeing == {(S.ACTIVE, A.RELEASE), (S.APPROVED, A.FORCE_RELEASE),
                       (S.INSTALLED, A.FORCE_RELEASE), (S.ACTIVE, A.FORCE_RELEASE)}  # fmt: skip


def test_the_messages_say_what_is_possible_and_who_may():
    with pytest.raises(InvalidTransitionError, match=r"cannot approve.*possible: review, withdraw"):
        next_state(S.SUBMITTED, A.APPROVE, R.OWNER)
    with pytest.raises(PermissionDeniedError, match="only the owner can approve"):
        next_state(S.UNDER_REVIEW, A.APPROVE, R.OPERATOR)
    with pytest.raises(InvalidTransitionError, match="it is final"):
        next_state(S.RELEASED, A.RELEASE, R.OPERATOR)


@given(st.lists(st.tuples(st.sampled_from(list(A)), st.sampled_from(list(R))), max_size=30))
def test_no_walk_escapes_the_lifecycle(moves):
    # from a draft, any sequence of attempted moves only ever visits states the table reaches,
    # and a withdrawn, rejected or released request never moves again
    state = S.DRAFT
    for action, role in moves:
        try:
            t = next_state(state, action, role, reason="r")
        except (InvalidTransitionError, PermissionDeniedError):
            continue
        assert state not in (S.WITHDRAWN, S.REJECTED, S.RELEASED)
        assert (state, action) in EXPECTED
        state = t.target
