"""Users: a person belongs to one organisation and has one role (regulator, operator, owner,
district, viewer); the role must suit the organisation's kind. Writes are audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.errors import MastplanError, NotFoundError
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.enums import ROLE_ORG_KINDS, UserRole
from mastplan.registry.models import User
from mastplan.registry.organisations import get_organisation

__all__ = ["acting", "actor_for", "add_user", "command_actor", "get_user", "list_users"]


def get_user(session: Session, name: str) -> User:
    """The user called ``name``; :class:`NotFoundError` if there is none."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFoundError(f"no user {name!r} (add one with `mastplan user add`)")
    return user


def add_user(
    session: Session, actor: Actor, name: str, org_code: str, role: UserRole | str
) -> User:
    """Register ``name`` in organisation ``org_code`` with ``role`` (audited)."""
    name = name.strip()
    if not name:
        raise MastplanError("a user needs a name")
    try:
        role = UserRole(role)
    except ValueError:
        raise MastplanError(
            f"unknown role {role!r}; one of {', '.join(r.value for r in UserRole)}"
        ) from None
    with transaction(session):
        if session.scalar(select(User.id).where(User.name == name)) is not None:
            raise MastplanError(f"user {name!r} exists already")
        org = get_organisation(session, org_code)
        if org.kind not in ROLE_ORG_KINDS[role]:
            kinds = ", ".join(sorted(k.value for k in ROLE_ORG_KINDS[role]))
            raise MastplanError(
                f"a {role.value} belongs to an organisation of kind {kinds}; "
                f"{org.code} is a {org.kind.value}"
            )
        if role is UserRole.DISTRICT and org.district_code is None:
            raise MastplanError(f"a district user belongs to a district government; {org.code} "
                                "has no district")  # fmt: skip
        return crud.create(session, actor, User(name=name, organisation_id=org.id, role=role))


def list_users(session: Session) -> list[User]:
    """Every user, by name."""
    return list(session.scalars(select(User).order_by(User.name)))


def acting(session: Session, name: str, reason: str | None = None) -> tuple[User, Actor]:
    """The registered, active user ``name`` and the audit actor of its writes (its name and its
    organisation's code)."""
    user = get_user(session, name)
    if not user.active:
        raise MastplanError(f"user {name!r} is deactivated")
    return user, Actor(user.name, reason, organisation=user.organisation.code)


def actor_for(session: Session, name: str, reason: str | None = None) -> Actor:
    """The audit actor of a registered user (see :func:`acting`)."""
    return acting(session, name, reason)[1]


def command_actor(session: Session, name: str, reason: str | None = None) -> Actor:
    """The audit actor of a registry command run as ``name``: a registered user's carries its
    organisation; a name no user has (setting up, before users exist) stands alone. Ends the
    read, so the command's write transaction starts fresh."""
    user = session.scalar(select(User).where(User.name == name))
    if user is not None and not user.active:
        raise MastplanError(f"user {name!r} is deactivated")
    actor = Actor(name, reason, organisation=user.organisation.code if user else None)
    session.commit()
    return actor
