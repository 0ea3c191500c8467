"""``mastplan serve`` and the credentials of the web platform: passwords and API tokens."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated

import typer
from rich.table import Table

from mastplan.cli.common import (
    DatabaseOpt,
    ReasonOpt,
    UserOpt,
    _run,
    _session,
    console,
    err_console,
)
from mastplan.config import current_user, database_url

token_app = typer.Typer(help="API tokens for integrations (scoped, revocable).",
                        no_args_is_help=True)  # fmt: skip


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    insecure_cookies: Annotated[
        bool,
        typer.Option(help="Send the session cookie over plain HTTP (a laptop without TLS)."),
    ] = False,
    database: DatabaseOpt = None,
) -> None:
    """Run the web platform: the bilingual UI at / and the REST API under /api/v1."""
    import uvicorn

    from mastplan.api.app import create_app

    def body() -> None:
        app = create_app(database_url(database), secure_cookies=not insecure_cookies)
        console.print(f"mastplan on http://{host}:{port}/ (API docs: /api/v1/docs)")
        uvicorn.run(app, host=host, port=port, log_level="info")

    _run(body)


def passwd(
    name: Annotated[str, typer.Argument(help="The user.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    user: UserOpt = None,
    reason: ReasonOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Set a user's password (argon2id; at least 10 characters)."""
    from mastplan.api.security import set_password
    from mastplan.registry.users import command_actor

    def body() -> None:
        if password_stdin:
            secret = sys.stdin.readline().rstrip("\n")
        else:
            secret = typer.prompt("password", hide_input=True, confirmation_prompt=True)
        with _session(database) as session:
            set_password(session, command_actor(session, current_user(user), reason), name, secret)
        console.print(f"password of {name} set")

    _run(body)


@token_app.command("create")
def token_create_cmd(
    name: Annotated[str, typer.Argument(help="What the token is for.")],
    owner: Annotated[str, typer.Option("--user", help="The user the token acts as.")],
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="read or write (repeat) [default: read].")
    ] = None,
    days: Annotated[int | None, typer.Option(help="Expires after this many days.")] = None,
    user: UserOpt = None,
    reason: ReasonOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Make an API token; its secret is printed once and never stored."""
    from mastplan.api.security import create_token
    from mastplan.registry.users import command_actor

    def body() -> None:
        with _session(database) as session:
            secret, token = create_token(
                session, command_actor(session, current_user(user), reason), owner, name,
                scope or ["read"], dt.timedelta(days=days) if days else None,
            )  # fmt: skip
        err_console.print(f"token {token.id} for {owner} ({', '.join(token.scopes)}); its "
                          "secret, shown this once:")  # fmt: skip
        typer.echo(secret)  # alone on standard output, for scripts

    _run(body)


@token_app.command("list")
def token_list_cmd(
    owner: Annotated[str | None, typer.Option("--user", help="Only this user's.")] = None,
    database: DatabaseOpt = None,
) -> None:
    """The tokens, without their secrets."""
    from mastplan.api.security import list_tokens

    def body() -> None:
        with _session(database) as session:
            table = Table("id", "user", "name", "scopes", "created", "expires", "revoked")
            for t in list_tokens(session, owner):
                table.add_row(str(t.id), t.user.name, t.name, ",".join(t.scopes),
                              f"{t.created_at:%Y-%m-%d}", f"{t.expires_at or ''}"[:10],
                              f"{t.revoked_at or ''}"[:10])  # fmt: skip
            console.print(table)

    _run(body)


@token_app.command("revoke")
def token_revoke_cmd(
    token_id: Annotated[int, typer.Argument(help="Token id.")],
    user: UserOpt = None,
    reason: ReasonOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Revoke a token at once."""
    from mastplan.api.security import revoke_token
    from mastplan.registry.users import command_actor

    def body() -> None:
        with _session(database) as session:
            revoke_token(session, command_actor(session, current_user(user), reason), token_id)
        console.print(f"token {token_id} revoked")

    _run(body)
