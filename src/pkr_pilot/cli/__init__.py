"""The ``pkr-pilot`` command line: parsing and rendering only.

Each command lives in its own module and is imported only when invoked, so
``pkr-pilot --help`` stays fast. A :class:`~pkr_pilot.errors.PilotError`
becomes one line on stderr and the error's exit code; ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import importlib
import json
import signal
import sys
import warnings
from typing import Any

import click

from ..errors import PilotError
from ._context import CliContext

__all__ = ["cli", "main"]

#: command name -> (module:attribute, one-line help shown by --help).
COMMANDS: dict[str, tuple[str, str]] = {
    "compile": ("pkr_pilot.cli.compile_cmd:compile_command", "Compile contracts/ into build/ (cached)."),
    "node": ("pkr_pilot.cli.node_cmd:node_command", "Run a persistent local anvil node."),
    "accounts": ("pkr_pilot.cli.accounts_cmd:accounts_group", "Create, import and list keystore accounts."),
    "deploy": ("pkr_pilot.cli.deploy_cmd:deploy_command", "Deploy the stack (resumable; --upgrade after a layout check)."),
    "verify": ("pkr_pilot.cli.deploy_cmd:verify_command", "Check deployed code, roles, minters and settings against build and config."),
    "events": ("pkr_pilot.cli.events_cmd:events_group", "Export the token's events (CSV or JSON) with block times and refs."),
    "reconcile": ("pkr_pilot.cli.reconcile_cmd:reconcile_command", "Check supply, reserves, freezes and balances against the events; non-zero on a mismatch."),
    "simulate": ("pkr_pilot.cli.simulate_cmd:simulate_command", "Run a pilot scenario (TOML) and write its report with charts."),
    "bench": ("pkr_pilot.cli.bench_cmd:bench_group", "Benchmarks on a fresh local anvil: bulk, scale (and gas)."),
    "disburse": ("pkr_pilot.cli.disburse_cmd:disburse_command", "Pay a CSV of address,amount,ref rows in bulk (validated whole, resumable)."),
    "mint": ("pkr_pilot.cli.actions_cmd:mint_command", "Mint on deposit (minter; a ref mints once)."),
    "burn": ("pkr_pilot.cli.actions_cmd:burn_command", "Burn on redemption from the signer's balance."),
    "transfer": ("pkr_pilot.cli.actions_cmd:transfer_command", "Transfer from the signer's balance."),
    "freeze": ("pkr_pilot.cli.actions_cmd:freeze_command", "Fully freeze an account (compliance alert)."),
    "unfreeze": ("pkr_pilot.cli.actions_cmd:unfreeze_command", "Lift a full freeze."),
    "freeze-amount": ("pkr_pilot.cli.actions_cmd:freeze_amount_command", "Freeze part of an account's balance."),
    "unfreeze-amount": ("pkr_pilot.cli.actions_cmd:unfreeze_amount_command", "Release part of a frozen amount."),
    "seize": ("pkr_pilot.cli.actions_cmd:seize_command", "Move frozen funds by court order."),
    "pause": ("pkr_pilot.cli.actions_cmd:pause_command", "Pause transfers, mints and burns."),
    "unpause": ("pkr_pilot.cli.actions_cmd:unpause_command", "Resume after a pause."),
    "minter": ("pkr_pilot.cli.actions_cmd:minter_group", "Configure or remove minters."),
    "roles": ("pkr_pilot.cli.actions_cmd:roles_group", "Grant, revoke and list roles."),
    "reserves": ("pkr_pilot.cli.actions_cmd:reserves_group", "Record a reserve attestation."),
    "balance": ("pkr_pilot.cli.ops_cmd:balance_command", "Balance, frozen and available amounts of an account."),
    "status": ("pkr_pilot.cli.ops_cmd:status_command", "Supply, reserves, collateralisation, minters, roles, frozen accounts."),
    "mint-request": ("pkr_pilot.cli.actions_cmd:mint_request_command", "File a maker-checker mint request on the desk."),
    "mint-approve": ("pkr_pilot.cli.actions_cmd:mint_approve_command", "Approve a desk mint request (checker)."),
    "mint-execute": ("pkr_pilot.cli.actions_cmd:mint_execute_command", "Execute an approved desk mint request."),
    "mint-cancel": ("pkr_pilot.cli.actions_cmd:mint_cancel_command", "Cancel a pending desk mint request."),
    "mint-requests": ("pkr_pilot.cli.ops_cmd:mint_requests_command", "List pending desk requests."),
    "tier": ("pkr_pilot.cli.actions_cmd:tier_group", "Set wallet tiers, tier limits and exemptions."),
    "allowlist": ("pkr_pilot.cli.actions_cmd:allowlist_command", "Switch allowlist mode on or off."),
    "limits": ("pkr_pilot.cli.actions_cmd:limits_command", "Switch tier limit enforcement on or off."),
    "timelock": ("pkr_pilot.cli.actions_cmd:timelock_group", "Schedule or execute an upgrade or unpause through the timelock."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            target, _ = self._lazy[cmd_name]
            module_name, attr = target.split(":")
            command = getattr(importlib.import_module(module_name), attr)
            if not isinstance(command, click.Command):
                raise TypeError(f"{target} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text comes from the table, so --help imports no command module.
        rows = [(name, self._lazy[name][1]) for name in sorted(self._lazy)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option(
    "--solc",
    metavar="PATH",
    envvar="PKR_PILOT_SOLC",
    help="Use this solc binary (env PKR_PILOT_SOLC).",
)
@click.version_option(package_name="pkr-pilot")
@click.pass_context
def cli(ctx: click.Context, debug: bool, solc: str | None) -> None:
    """pkr-pilot: compile, deploy, operate and test the PKR pilot stablecoin."""
    ctx.obj = CliContext(debug=debug, solc=solc)


def _show_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None, line: str | None = None
) -> None:
    """Warnings meant for the operator (a torn journal line) as one ``warning:`` line on stderr."""
    click.echo(f"warning: {message}", err=True)


#: Options of the top-level group that may also be written after the command name.
_FRONT_FLAGS = ("--debug",)
#: Options of (most) commands that may also be written before the command name.
_LEAF_OPTIONS = {"--json": False, "--network": True, "--yes": False, "-y": False}


def normalise_args(args: list[str]) -> list[str]:
    """Accept the global options anywhere on the command line.

    ``--debug`` after the command name moves to the front (it belongs to the top-level group);
    ``--json``, ``--network NAME`` and ``--yes``/``-y`` before the command name move to the
    command that takes them (``pkr-pilot --json status --network localhost``). Everything after
    ``--`` is left alone.
    """
    head, tail = (args[: args.index("--")], args[args.index("--"):]) if "--" in args else (list(args), [])
    front = [flag for flag in _FRONT_FLAGS if flag in head]
    rest = [a for a in head if a not in _FRONT_FLAGS]
    leaf, position = _leaf_command(rest)
    moved: list[str] = []
    if leaf is not None and position is not None:
        accepted = {opt for p in leaf.params for opt in (*p.opts, *p.secondary_opts)}
        kept: list[str] = []
        i = 0
        while i < position:
            token = rest[i]
            name = token.split("=", 1)[0]
            if name in _LEAF_OPTIONS and name in accepted:
                takes_value = _LEAF_OPTIONS[name] and "=" not in token
                moved.extend(rest[i : i + (2 if takes_value else 1)])
                i += 2 if takes_value else 1
                continue
            kept.append(token)
            i += 1
        rest = kept + rest[position:]
    return front + rest + moved + tail


def _leaf_command(args: list[str]) -> tuple[click.Command | None, int | None]:
    """The command ``args`` invoke and the index just past its name (skipping group options)."""
    command: click.Command = cli
    ctx = click.Context(cli)
    i = 0
    found: int | None = None
    while isinstance(command, click.Group) and i < len(args):
        token = args[i]
        if token.startswith("-"):
            name = token.split("=", 1)[0]
            i += 1
            option = next((p for p in command.params if name in p.opts), None)
            takes_value = _LEAF_OPTIONS.get(name, False) if option is None else not getattr(option, "is_flag", False)
            if takes_value and "=" not in token:
                i += 1  # its value (``--network NAME`` is skipped here and moved by the caller)
            continue
        sub = command.get_command(ctx, token)
        if sub is None:
            return None, None
        command = sub
        i += 1
        found = i
    return (command, found) if found is not None else (None, None)


def _sigterm_interrupts() -> None:
    """SIGTERM (a service manager, ``kill``) stops a command the way Ctrl-C does: a transaction already
    sent is reported (``sent, not yet confirmed: …``), nothing is left half-written."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (an embedding application): leave its signals alone
        pass


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the CLI and turn PilotError into a clean exit.

    With ``--json`` anywhere on the command line every error is one JSON object on stdout,
    ``{"error": message, "exit": code, …}``, whatever the command.
    """
    args = normalise_args(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if not debug:
        warnings.showwarning = _show_warning
    _sigterm_interrupts()
    as_json = "--json" in args[: args.index("--")] if "--" in args else "--json" in args
    try:
        # Without standalone mode click returns the code of ctx.exit(n) instead of exiting.
        rv = cli.main(args=args, prog_name="pkr-pilot", standalone_mode=False)
    except PilotError as exc:
        if debug:
            raise
        return _fail(exc.exit_code, exc.message if as_json else str(exc), as_json, **_error_details(exc))
    except click.exceptions.Abort:
        return _fail(130, "aborted", as_json)
    except click.ClickException as exc:
        if not as_json:
            exc.show()
            return exc.exit_code
        return _fail(exc.exit_code, exc.format_message(), as_json)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        return _fail(130, "interrupted", as_json)
    return rv if isinstance(rv, int) else 0


def _error_details(exc: PilotError) -> dict[str, Any]:
    from ..errors import ContractRevert

    details: dict[str, Any] = {"type": type(exc).__name__}
    if exc.hint:
        details["hint"] = exc.hint
    if isinstance(exc, ContractRevert):
        details["revert"] = exc.to_json()
    return details


def _fail(code: int, message: str, as_json: bool, **details: Any) -> int:
    if as_json:
        click.echo(json.dumps({"error": message, "exit": code, **details}, default=str))
    else:
        click.echo(f"error: {message}" if code != 130 else message, err=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
