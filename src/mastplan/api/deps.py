"""What every endpoint depends on: a database session per request, and who is calling.

A caller is a browser with a session cookie (unsafe methods also need the session's CSRF token
in ``X-CSRF-Token``) or an integration with ``Authorization: Bearer <token>`` (writes need the
token's ``write`` scope). Authorisation beyond that lives in the services: an operator asking
for another operator's request gets the same "not found" as for a missing one.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from mastplan.api.security import log_event, session_user, token_user
from mastplan.registry.models import User

SESSION_COOKIE = "mastplan_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def db(request: Request) -> Iterator[Session]:
    """A session of the app's engine for one request."""
    with request.app.state.sessions() as session:
        yield session


DB = Annotated[Session, Depends(db)]


@dataclass(frozen=True)
class Caller:
    """Who is calling and how: the registered user, and the scopes of the credential."""

    user: User
    scopes: frozenset[str]
    via: str  # "session" or "token"

    @property
    def name(self) -> str:
        return self.user.name


def client_of(request: Request) -> str | None:
    """The caller's address, for the auth log and the login throttle."""
    return request.client.host if request.client else None


def caller(request: Request, session: DB) -> Caller:
    """The authenticated caller; 401 without a valid credential, 403 for a write the
    credential may not make (a read-only token, a browser without its CSRF token)."""
    auth = request.headers.get("Authorization", "")
    found: Caller | None = None
    if auth.lower().startswith("bearer "):
        hit = token_user(session, auth[7:].strip())
        if hit is not None:
            found = Caller(hit[0], frozenset(hit[1].scopes), "token")
    elif request.cookies.get(SESSION_COOKIE):
        hit = session_user(session, request.cookies[SESSION_COOKIE])
        if hit is not None:
            user, web = hit
            if request.method not in SAFE_METHODS:
                sent = request.headers.get(CSRF_HEADER, "")
                if not hmac.compare_digest(sent, web.csrf_token):
                    log_event(session, "csrf_refused", user.name, client_of(request),
                              path=request.url.path)  # fmt: skip
                    session.commit()
                    raise HTTPException(403, "missing or wrong CSRF token")
            found = Caller(user, frozenset({"read", "write"}), "session")
    if found is None:
        raise HTTPException(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})
    if request.method not in SAFE_METHODS and "write" not in found.scopes:
        log_event(session, "scope_refused", found.name, client_of(request), path=request.url.path)
        session.commit()
        raise HTTPException(403, "this token may only read")
    session.commit()  # end the read; each service opens its own transaction
    request.state.caller_name = found.name  # for the log of a refusal (mastplan.api.app)
    return found


Authed = Annotated[Caller, Depends(caller)]
