"""``pkr-pilot accounts new|import|list``: keystore accounts (Web3 Secret Storage, scrypt).

Passwords come from a hidden prompt (asked twice when a keystore is created) or from
``$PKR_PILOT_PASSWORD`` (for automation). A private key is read from a hidden prompt or,
with ``--key-stdin``, from standard input; never from the command line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ._context import CliContext, pass_cli, read_password

__all__ = ["accounts_group"]

F = TypeVar("F", bound=Callable[..., Any])


def _keystore_dir_option(func: F) -> F:
    return click.option(
        "--keystore-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Keystore folder (default .pkr-pilot/keystores).",
    )(func)


# Hidden on purpose: a lower scrypt cost makes a stolen file easier to crack. Tests use it.
def _scrypt_option(func: F) -> F:
    return click.option("--scrypt-n", type=click.IntRange(min=16), default=None, hidden=True)(func)


@click.group("accounts")
def accounts_group() -> None:
    """Create, import and list keystore accounts (use them with --account NAME)."""


@accounts_group.command("new")
@click.argument("name")
@_keystore_dir_option
@_scrypt_option
@pass_cli
def new_command(cli: CliContext, name: str, keystore_dir: Path | None, scrypt_n: int | None) -> None:
    """Create NAME with a fresh random key."""
    from ..accounts import DEFAULT_SCRYPT_N, create_keystore

    name = _keystore_name(name)
    folder = _folder(cli, keystore_dir)
    _refuse_taken(folder, name)
    password = read_password(f"Password for {name}", confirm=True)
    entry = create_keystore(folder, name, password, scrypt_n=scrypt_n or DEFAULT_SCRYPT_N)
    click.echo(f"created {name}: {entry.address}")
    click.echo(f"  keystore {entry.path}")
    click.echo("  back up the file and its password; without both the key is lost")


@accounts_group.command(
    "import",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.argument("name")
@click.option("--key-stdin", is_flag=True, help="Read the private key (hex) from standard input.")
@_keystore_dir_option
@_scrypt_option
@click.pass_context
def import_command(
    ctx: click.Context, name: str, key_stdin: bool, keystore_dir: Path | None, scrypt_n: int | None
) -> None:
    """Store an existing private key as NAME (asked at a hidden prompt, or --key-stdin)."""
    from ..accounts import DEFAULT_SCRYPT_N, create_keystore
    from ..errors import UserInputError

    if ctx.args:
        # Whatever it was (a key, most likely), it is not echoed back.
        raise UserInputError(
            "refusing extra arguments: a private key is never read from the command line",
            hint="it may be in your shell history now, so treat that key as exposed; "
            "run `pkr-pilot accounts import NAME` and paste it at the hidden prompt, or use --key-stdin",
        )
    cli = ctx.ensure_object(CliContext)
    name = _keystore_name(name)
    folder = _folder(cli, keystore_dir)
    _refuse_taken(folder, name)
    if key_stdin:
        key = click.get_text_stream("stdin").readline().strip()
    else:
        key = click.prompt("Private key (hex)", hide_input=True, default="", show_default=False)
    if not key:
        raise UserInputError("no private key given", hint="paste it at the prompt, or pipe it with --key-stdin")
    password = read_password(f"Password for {name}", confirm=True)
    entry = create_keystore(folder, name, password, private_key=key, scrypt_n=scrypt_n or DEFAULT_SCRYPT_N)
    click.echo(f"imported {name}: {entry.address}")
    click.echo(f"  keystore {entry.path}")


@accounts_group.command("list")
@_keystore_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_cli
def list_command(cli: CliContext, keystore_dir: Path | None, as_json: bool) -> None:
    """List keystore accounts: name and address (no password needed)."""
    from ..accounts import list_keystores

    folder = _folder(cli, keystore_dir)
    entries = list_keystores(folder)
    if as_json:
        rows = [
            {"name": e.name, "address": e.address, "path": str(e.path), "problem": e.problem}
            for e in entries
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    if not entries:
        click.echo(f"no keystores in {folder} (create one with `pkr-pilot accounts new NAME`)")
        return
    width = max(len(e.name) for e in entries)
    for e in entries:
        click.echo(f"{e.name:<{width}}  {e.address}" if e.address else f"{e.name:<{width}}  (unreadable: {e.problem})")


def _keystore_name(text: str) -> str:
    """NAME or keystore:NAME; a key-like text is refused without being echoed."""
    from ..accounts import parse_account_spec
    from ..errors import UserInputError

    spec = parse_account_spec(text)
    if spec.kind == "dev":
        raise UserInputError(f"{text} names a public test key", hint="choose another keystore name")
    if spec.kind == "ape":
        raise UserInputError(
            f"{text} names an Ape account", hint="manage it with `ape accounts`; use it as --account ape:ALIAS"
        )
    return spec.name


def _folder(cli: CliContext, keystore_dir: Path | None) -> Path:
    if keystore_dir is not None:
        return keystore_dir.expanduser().absolute()
    return cli.project().paths.keystores


def _refuse_taken(folder: Path, name: str) -> None:
    """Fail before asking for secrets when the name is taken (create_keystore checks again)."""
    from ..accounts import keystore_path
    from ..errors import AccountError

    path = keystore_path(folder, name)
    if path.exists():
        raise AccountError(
            f"a keystore named {name!r} already exists ({path})",
            hint="choose another name; existing keystores are never overwritten",
        )
