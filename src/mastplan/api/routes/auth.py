"""Login and logout for browsers (session cookie + CSRF token), and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from mastplan.api.deps import DB, SESSION_COOKIE, Authed, client_of
from mastplan.api.schemas import ERRORS, problem
from mastplan.api.security import LoginError, create_session, end_session, login, session_user

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERRORS)


class Credentials(BaseModel):
    """A user name and password."""

    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class Me(BaseModel):
    """The authenticated user."""

    name: str
    organisation: str
    role: str
    via: str
    scopes: list[str]


class LoggedIn(BaseModel):
    """A new session: who, and the CSRF token to send with every write."""

    name: str
    organisation: str
    role: str
    csrf_token: str


def _me(user, via: str, scopes) -> Me:
    return Me(name=user.name, organisation=user.organisation.code, role=user.role.value, via=via,
              scopes=sorted(scopes))  # fmt: skip


@router.post("/login", response_model=LoggedIn, responses={
    **problem(401, "wrong user name or password"),
    **problem(429, "too many failed logins: try again later"),
})  # fmt: skip
def login_endpoint(body: Credentials, request: Request, response: Response, session: DB):
    """Log in with a password: sets an HttpOnly session cookie and returns the CSRF token.
    Wrong names and wrong passwords get the same answer; repeated failures are throttled."""
    try:
        user = login(session, body.name, body.password, client_of(request))
    except LoginError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=429 if exc.throttled else 401)
    secret, csrf = create_session(session, user)
    response.set_cookie(
        SESSION_COOKIE, secret, httponly=True, samesite="strict", path="/",
        secure=request.app.state.secure_cookies, max_age=12 * 3600,
    )  # fmt: skip
    return LoggedIn(name=user.name, organisation=user.organisation.code, role=user.role.value,
                    csrf_token=csrf)  # fmt: skip


@router.post("/logout", status_code=204)
def logout_endpoint(request: Request, response: Response, session: DB, who: Authed) -> None:
    """End this browser session."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        hit = session_user(session, cookie)
        if hit is not None:
            end_session(session, hit[1])
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", response_model=Me)
def me_endpoint(who: Authed) -> Me:
    """The caller: name, organisation, role, and how it authenticated."""
    return _me(who.user, who.via, who.scopes)
