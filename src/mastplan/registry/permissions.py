"""Who may write: the shapes every service's role rule takes, and the one error they raise.

Reading is decided by the visibility filters (:mod:`mastplan.sharing.access`): what a user may
not see does not exist for it (``NotFoundError``, 404). Writing something the user *may* see but
its role or organisation may not change raises :class:`~mastplan.errors.PermissionDeniedError`
(403 over HTTP), with one line that names the user, what it tried and who can.
"""

from __future__ import annotations

from collections.abc import Iterable

from mastplan.errors import PermissionDeniedError
from mastplan.registry.enums import UserRole
from mastplan.registry.models import User

__all__ = ["deny", "refuse_viewer", "require_role"]


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def deny(user: User, what: str, who_can: str) -> PermissionDeniedError:
    """The refusal of ``what`` to ``user``: "NAME (ORG) cannot WHAT: only WHO_CAN can"."""
    org = user.organisation.code if user.organisation is not None else "no organisation"
    return PermissionDeniedError(f"{user.name} ({org}) cannot {what}: only {who_can} can")


def refuse_viewer(user: User, what: str) -> None:
    """Viewers read; they never write."""
    if user.role is UserRole.VIEWER:
        raise PermissionDeniedError(f"{user.name} is a viewer and cannot {what}")


def require_role(user: User, roles: Iterable[UserRole], what: str, who_can: str) -> None:
    """``user`` must have one of ``roles``: else "NAME is a ROLE and cannot WHAT: only WHO_CAN
    can"."""
    if user.role not in set(roles):
        raise PermissionDeniedError(
            f"{user.name} is {_a(user.role.value)} and cannot {what}: only {who_can} can"
        )
