"""State the CLI passes to every command through ``click.Context.obj``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from ..errors import UserInputError

if TYPE_CHECKING:
    from ..config import Project
    from ..tx import TxSigner

__all__ = ["CliContext", "pass_cli", "read_password"]

PASSWORD_ENV = "PKR_PILOT_PASSWORD"  # noqa: S105 - the name of the variable, not a password


@dataclass
class CliContext:
    """Global options and the lazily loaded project."""

    debug: bool = False
    solc: str | None = None
    _project: Project | None = field(default=None, repr=False)

    def project(self) -> Project:
        if self._project is None:
            from ..config import load_project

            self._project = load_project(solc=self.solc)
        return self._project


pass_cli = click.make_pass_decorator(CliContext, ensure=True)


def read_password(prompt: str, *, confirm: bool = False, env: str = PASSWORD_ENV) -> str:
    """A password from ``$PKR_PILOT_PASSWORD`` or a hidden prompt; never echoed.

    ``confirm`` asks twice (used when creating a keystore).
    """
    from_env = os.environ.get(env)
    if from_env:
        return from_env
    try:
        value: str = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    except click.Abort:
        raise UserInputError("no password given", hint=f"type it at the prompt or set {env}") from None
    if not value:
        raise UserInputError("empty password", hint=f"type it at the prompt or set {env}")
    return value


def load_signer(project: Project, spec: str, *, chain_id: int, role: str) -> TxSigner:
    """The account ``spec`` names, to sign as ``role`` on ``chain_id``; a keystore's password comes
    from ``$PKR_PILOT_PASSWORD`` or a hidden prompt that names the keystore and the role."""
    from ..accounts import load_account

    return load_account(
        project, spec, chain_id=chain_id, password=lambda name: read_password(f"Password for keystore {name} ({role})")
    )
