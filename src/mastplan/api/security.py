"""Passwords, browser sessions and API tokens, and the log of who logged in or was refused.

Passwords are argon2id hashes (argon2-cffi); session cookies and API tokens are random
secrets stored only as SHA-256 digests. Failed logins are logged and throttled per user name
and per client: after ``MAX_FAILURES`` within ``FAILURE_WINDOW`` further attempts are refused
without checking the password. Every function takes a session and runs in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mastplan.api.models import ApiToken, AuthEvent, WebSession
from mastplan.errors import MastplanError, NotFoundError
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.models import User
from mastplan.registry.users import get_user

__all__ = [
    "SCOPES",
    "LoginError",
    "create_session",
    "create_token",
    "end_session",
    "list_tokens",
    "log_event",
    "login",
    "revoke_token",
    "session_user",
    "set_password",
    "token_user",
]

SCOPES = ("read", "write")
MIN_PASSWORD_LENGTH = 10
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
SESSION_LIFETIME = dt.timedelta(hours=12)
_HASHER = PasswordHasher()


class LoginError(MastplanError):
    """A login refused: always the same words, whatever was wrong."""

    def __init__(self, throttled: bool = False) -> None:
        super().__init__("too many failed logins: try again later" if throttled
                         else "wrong user name or password")  # fmt: skip
        self.throttled = throttled


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def log_event(
    session: Session, kind: str, user_name: str | None, client: str | None, **detail: Any
) -> None:
    """Record an authentication or authorisation event (in the caller's transaction)."""
    session.add(AuthEvent(kind=kind, user_name=user_name, client=client, detail=detail))


def set_password(session: Session, actor: Actor, user_name: str, password: str) -> User:
    """Give ``user_name`` a password (argon2id); audited without the hash."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise MastplanError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    with transaction(session):
        user = get_user(session, user_name)
        user.password_hash = _HASHER.hash(password)
        session.flush()
        from mastplan.registry.audit import record

        record(session, actor, "password", "users", str(user.id), after={"name": user.name})
        return user


def _failures(session: Session, user_name: str, client: str | None) -> int:
    since = _now() - FAILURE_WINDOW
    who = [AuthEvent.user_name == user_name]
    if client:
        who.append(AuthEvent.client == client)
    return session.scalar(
        select(func.count(AuthEvent.id)).where(
            AuthEvent.kind == "login_failed", AuthEvent.at >= since, or_(*who)
        )
    )


def login(session: Session, user_name: str, password: str, client: str | None) -> User:
    """The active user whose password this is; :class:`LoginError` otherwise (logged)."""
    with transaction(session):
        if _failures(session, user_name, client) >= MAX_FAILURES:
            log_event(session, "login_throttled", user_name, client)
            raise LoginError(throttled=True)
        user = session.scalar(select(User).where(User.name == user_name))
        ok = False
        if user is not None and user.active and user.password_hash:
            try:
                ok = _HASHER.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                ok = False
        if not ok:
            log_event(session, "login_failed", user_name, client)
        else:
            log_event(session, "login_ok", user_name, client)
    if not ok:
        raise LoginError()
    return user


def create_session(session: Session, user: User) -> tuple[str, str]:
    """A new browser session for ``user``: the cookie value and the CSRF token."""
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    with transaction(session):
        session.add(WebSession(user_id=user.id, session_hash=_digest(secret), csrf_token=csrf,
                               expires_at=_now() + SESSION_LIFETIME))  # fmt: skip
    return secret, csrf


def session_user(session: Session, cookie: str) -> tuple[User, WebSession] | None:
    """The user of a live session cookie, or ``None``."""
    web = session.scalar(select(WebSession).where(WebSession.session_hash == _digest(cookie)))
    if web is None or web.ended_at is not None or _aware(web.expires_at) <= _now():
        return None
    return (web.user, web) if web.user.active else None


def end_session(session: Session, web: WebSession) -> None:
    """Log a session out."""
    with transaction(session):
        web.ended_at = _now()
        log_event(session, "logout", web.user.name, None)


def create_token(
    session: Session,
    actor: Actor,
    user_name: str,
    name: str,
    scopes: Sequence[str] = ("read",),
    expires_in: dt.timedelta | None = None,
) -> tuple[str, ApiToken]:
    """A new API token of ``user_name`` with ``scopes``: the secret (shown once) and its row."""
    bad = sorted(set(scopes) - set(SCOPES))
    if bad or not scopes:
        raise MastplanError(f"scopes must be among {', '.join(SCOPES)}, got {list(scopes)}")
    secret = "mp_" + secrets.token_urlsafe(32)
    with transaction(session):
        user = get_user(session, user_name)
        token = crud.create(session, actor, ApiToken(
            user_id=user.id, name=name, token_hash=_digest(secret), scopes=sorted(set(scopes)),
            expires_at=_now() + expires_in if expires_in else None,
        ))  # fmt: skip
    return secret, token


def token_user(session: Session, secret: str) -> tuple[User, ApiToken] | None:
    """The user and token of a live API token, or ``None``."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and _aware(token.expires_at) <= _now():
        return None
    if not token.user.active:
        return None
    return token.user, token


def list_tokens(session: Session, user_name: str | None = None) -> list[ApiToken]:
    """Tokens (of one user), newest first; never their secrets."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user_name:
        query = query.join(User).where(User.name == user_name)
    return list(session.scalars(query))


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    """Revoke a token at once (audited)."""
    with transaction(session):
        token = session.get(ApiToken, token_id)
        if token is None:
            raise NotFoundError(f"no API token {token_id}")
        if token.revoked_at is not None:
            raise MastplanError(f"API token {token_id} was revoked already")
        return crud.update(session, actor, token, {"revoked_at": _now()})
