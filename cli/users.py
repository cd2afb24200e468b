"""`ledger user ...`: the web desk's users (issue #13), kept in the store's database apart from
the events (`ledger.accounts`)."""
from __future__ import annotations

import sys

import click

from ledger.errors import InputError

from .app import CONTEXT, N_, StoreOptions, _console, _emit_json, _table, db_option, main, tr

ROLES = (N_("supervisor"), N_("reception"), N_("consultant"), N_("viewer"))  # shown through the catalog


@main.group("user", context_settings=CONTEXT)
def user_group() -> None:
    """The web desk's users: add, list, disable, change a password, make an API token.

    Passwords are asked at the terminal (twice), or read from standard input (one line) when it
    is not a terminal; they are kept as argon2 hashes only.

    \b
    Example:
      ledger user add 主任 --team renda --role supervisor
      echo 'a long passphrase' | ledger user add front1 --team renda --role reception
      ledger user list --team renda
    """


def _password(name: str) -> str:
    from ledger import accounts

    if sys.stdin.isatty():
        password = click.prompt(tr("Password for {name}", name=name), hide_input=True, confirmation_prompt=True,
                                default="", show_default=False)
    else:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password[:-1] if password.endswith("\r") else password
    accounts.check_password(password, name)
    return password


def _store(db: str | None, create: bool = False):
    """The users' store: only `user add` may create it (an office may add users before its first import)."""
    return StoreOptions(db, None, False, None, create=create).open_store()


@user_group.command("add")
@click.argument("name")
@click.option("--team", required=True, metavar="TEAM", help="The team the user works in (and may see).")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the user may do.")
@click.option("--consultant", metavar="C", help="For a consultant: their consultant id (their own customers on the desk).")
@db_option
def user_add(name: str, team: str, role: str, consultant: str | None, db: str | None) -> None:
    """Add a user NAME of --team with --role; the password is asked (or read from stdin).

    \b
    Example:
      ledger user add 主任 --team renda --role supervisor
      ledger user add li_na --team renda --role consultant --consultant c2
    """
    from ledger import accounts

    accounts.check_name(name)
    password = _password(name)
    with _store(db, create=True) as store:
        user = accounts.add_user(store, name, team, role, password, consultant)
    click.echo(tr("added {name} ({role}, team {team})", name=user.name, role=tr(user.role), team=user.team), err=True)


@user_group.command("list")
@click.option("--team", metavar="TEAM", help="Only this team's users.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on standard output.")
@db_option
def user_list(team: str | None, as_json: bool, db: str | None) -> None:
    """The users, by team and name.

    \b
    Example:
      ledger user list --team renda --json
    """
    from ledger import accounts

    with _store(db) as store:
        found = accounts.users(store, team)
    if as_json:
        return _emit_json({"users": [user.to_json_dict() for user in found]})
    table = _table(tr("Users"), [tr("name"), tr("team"), tr("role"), tr("disabled"), tr("created")])
    for user in found:
        table.add_row(user.name, user.team, tr(user.role), tr("yes") if user.disabled else "",
                      user.to_json_dict()["created"])
    _console().print(table)


@user_group.command("disable")
@click.argument("name")
@db_option
def user_disable(name: str, db: str | None) -> None:
    """Disable NAME: no more logins; their sessions and API tokens stop working at once."""
    from ledger import accounts

    with _store(db) as store:
        accounts.disable_user(store, name)
    click.echo(tr("disabled {name}", name=name), err=True)


@user_group.command("passwd")
@click.argument("name")
@db_option
def user_passwd(name: str, db: str | None) -> None:
    """Set NAME's password (asked, or read from stdin); their open sessions are closed."""
    from ledger import accounts

    with _store(db) as store:
        if accounts.get_user(store, name) is None:
            raise InputError(tr("unknown user {name}; `ledger user list` shows them", name=repr(name[:40])))
        accounts.set_password(store, name, _password(name))
    click.echo(tr("password of {name} changed", name=name), err=True)


@user_group.command("token")
@click.argument("name")
@db_option
def user_token(name: str, db: str | None) -> None:
    """Make a new API token for NAME and print it once (only its hash is kept).

    \b
    Example:
      curl -H "Authorization: Bearer $(ledger user token crm)" http://127.0.0.1:8000/api/renda/disputes
    """
    from ledger import accounts

    with _store(db) as store:
        token = accounts.new_token(store, name)
    click.echo(token)
