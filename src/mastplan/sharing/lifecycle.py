"""The lifecycle of a sharing request as one explicit transition table.

draft → submitted → under review → approved | rejected | changes requested → installed →
active → released; the operator may withdraw a request before approval, and resubmit one whose
changes were requested. Each move names the one role allowed to make it, and whether it needs a
reason (rejection, a forced release by the regulator). Nothing else moves a request: the table
is the rule, not scattered ifs. Pure: states and roles in, the next state out.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mastplan.errors import InvalidTransitionError, PermissionDeniedError
from mastplan.registry.enums import RequestState
from mastplan.registry.enums import UserRole as Role

__all__ = ["TRANSITIONS", "Action", "RequestState", "Role", "Transition", "next_state"]


class Action(StrEnum):
    """The moves of the workflow (the `mastplan sharing` sub-commands)."""

    SUBMIT = "submit"
    REVIEW = "review"
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request-changes"
    WITHDRAW = "withdraw"
    INSTALL = "install"
    ACTIVATE = "activate"
    RELEASE = "release"
    FORCE_RELEASE = "force-release"


@dataclass(frozen=True)
class Transition:
    """One allowed move: from a state, by an action, by a role, to a state."""

    source: RequestState
    action: Action
    role: Role
    target: RequestState
    reason_required: bool = False
    reserves_capacity: bool = False  # approval books the positions, payload and power
    frees_capacity: bool = False  # release and forced release give the booking back


S, A, R = RequestState, Action, Role

#: The whole lifecycle. Approval reserves capacity; release and forced release free it.
TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.DRAFT, A.SUBMIT, R.OPERATOR, S.SUBMITTED),
    Transition(S.CHANGES_REQUESTED, A.SUBMIT, R.OPERATOR, S.SUBMITTED),
    Transition(S.SUBMITTED, A.REVIEW, R.OWNER, S.UNDER_REVIEW),
    Transition(S.UNDER_REVIEW, A.APPROVE, R.OWNER, S.APPROVED, reserves_capacity=True),
    Transition(S.UNDER_REVIEW, A.REJECT, R.OWNER, S.REJECTED, reason_required=True),
    Transition(
        S.UNDER_REVIEW, A.REQUEST_CHANGES, R.OWNER, S.CHANGES_REQUESTED, reason_required=True
    ),
    *(Transition(s, A.WITHDRAW, R.OPERATOR, S.WITHDRAWN)  # before approval only
      for s in (S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.CHANGES_REQUESTED)),
    Transition(S.APPROVED, A.INSTALL, R.OPERATOR, S.INSTALLED),
    Transition(S.INSTALLED, A.ACTIVATE, R.OWNER, S.ACTIVE),
    Transition(S.ACTIVE, A.RELEASE, R.OPERATOR, S.RELEASED, frees_capacity=True),
    *(Transition(s, A.FORCE_RELEASE, R.REGULATOR, S.RELEASED, reason_required=True,
                 frees_capacity=True)
      for s in (S.APPROVED, S.INSTALLED, S.ACTIVE)),
)  # fmt: skip

_BY_KEY = {(t.source, t.action): t for t in TRANSITIONS}
if len(_BY_KEY) != len(TRANSITIONS):  # pragma: no cover - a table edit gone wrong
    raise RuntimeError("two transitions share a (state, action)")


def _a(word: str) -> str:
    """``word`` with its indefinite article."""
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word.replace('_', ' ')}"


def next_state(
    state: RequestState | str, action: Action | str, role: Role | str, reason: str | None = None
) -> Transition:
    """The transition ``action`` makes from ``state`` when a user of ``role`` asks for it.

    Raises :class:`~mastplan.errors.InvalidTransitionError` with one line naming the state,
    the action and what is missing (the move does not exist or needs a reason), and
    :class:`~mastplan.errors.PermissionDeniedError` when the move belongs to another role.
    """
    state, action, role = RequestState(state), Action(action), Role(role)
    t = _BY_KEY.get((state, action))
    if t is None:
        possible = sorted(a.value for (s, a) in _BY_KEY if s == state)
        raise InvalidTransitionError(
            f"{_a(state.value)} request cannot {action.value}"
            + (f" (possible: {', '.join(possible)})" if possible else " (it is final)")
        )
    if role != t.role:
        raise PermissionDeniedError(
            f"only the {t.role.value} can {action.value} {_a(state.value)} request, not "
            f"{_a(role.value)}"
        )
    if t.reason_required and not (reason and reason.strip()):
        raise InvalidTransitionError(f"{action.value} needs a reason")
    return t
