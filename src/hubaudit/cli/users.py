"""``hubaudit users …``: the web app's accounts. Passwords are typed at a prompt (or read
from standard input with ``--password-stdin``), never given as an argument."""

from __future__ import annotations

import sys

import click

from hubaudit.cli.common import EXIT_OK, Session, pass_session
from hubaudit.cli.params import EnumChoice

_ROLE = EnumChoice("hubaudit.model.users:Role")
_ROLE_HELP = "viewer reads; revops triages; council approves and rejects; admin does all"


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("password", hide_input=True, confirmation_prompt=True))


@click.group()
def users() -> None:
    """The web app's accounts: add, list, disable, set-role, reset-password."""


@users.command()
@click.argument("username")
@click.option("--role", type=_ROLE, required=True, help=_ROLE_HELP)
@click.option("--name", "display_name", metavar="TEXT", help="the name pages show")
@click.option(
    "--no-password",
    is_flag=True,
    help="a person who signs in only through the identity-aware proxy ([web] proxy_header)",
)
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@pass_session
def add(
    session: Session,
    username: str,
    role: str,
    display_name: str | None,
    no_password: bool,
    password_stdin: bool,
) -> int:
    """Add an account USERNAME (an email address for proxy sign-in)."""
    from hubaudit.model.users import Role
    from hubaudit.services.users import add_user

    password = None if no_password else _password(password_stdin)
    user = add_user(session.store(), username, Role(role), password, display_name)
    session.echo(f"added {user.username} ({user.role.value})")
    return EXIT_OK


@users.command("list")
@pass_session
def list_(session: Session) -> int:
    """Every account, its role and whether it is disabled."""
    from hubaudit.report.escape import terminal_safe
    from hubaudit.services.users import list_users

    for user in list_users(session.store()):
        how = "password" if user.has_password else "proxy only"
        state = "disabled" if user.disabled else "active"
        session.echo(
            f"{terminal_safe(user.username)}\t{user.role.value}\t{state}\t{how}\t"
            f"{terminal_safe(user.display_name)}"
        )
    return EXIT_OK


@users.command()
@click.argument("username")
@pass_session
def disable(session: Session, username: str) -> int:
    """Disable an account: it signs in no more and its sessions end now."""
    from hubaudit.services.users import disable_user

    user = disable_user(session.store(), username)
    session.echo(f"disabled {user.username}; its sessions have ended")
    return EXIT_OK


@users.command("set-role")
@click.argument("username")
@click.argument("role", type=_ROLE)
@pass_session
def set_role(session: Session, username: str, role: str) -> int:
    """Give an account another ROLE; its sessions end (it signs in again)."""
    from hubaudit.model.users import Role
    from hubaudit.services.users import set_role as change_role

    user = change_role(session.store(), username, Role(role))
    session.echo(f"{user.username} is now {user.role.value}")
    return EXIT_OK


@users.command("reset-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@pass_session
def reset_password(session: Session, username: str, password_stdin: bool) -> int:
    """Set a new password; the account's sessions end."""
    from hubaudit.services.users import reset_password as reset

    user = reset(session.store(), username, _password(password_stdin))
    session.echo(f"new password set for {user.username}; its sessions have ended")
    return EXIT_OK
