"""The state-changing operations commands, one row each: ``mint``, ``burn``, ``transfer``, ``freeze`` …,
``minter``, ``roles grant|revoke``, ``reserves attest``, the maker-checker desk (``mint-request``,
``mint-approve``, ``mint-execute``, ``mint-cancel``), wallet tiers (``tier set|limits|exempt``),
``allowlist on|off``, ``limits on|off`` and the governance delay (``timelock schedule|execute``).

Each row names the action of :data:`pkr_pilot.ops.ACTIONS` it runs, its help and its own arguments;
:func:`action_command` adds the common options and runs it through :func:`pkr_pilot.ops.perform`.

Examples::

    pkr-pilot mint --network localhost --to 0xAbC… --amount 1,250.50 --ref BANK-TX-0042
    pkr-pilot freeze 0xAbC… --network localhost --ref CASE-2025-17 --yes
    pkr-pilot seize --network localhost --from 0xAbC… --to 0xDeF… --amount 500 --ref COURT-ORDER-9
    pkr-pilot mint-approve 7 --network localhost            # as a checker (not the maker)
    pkr-pilot tier limits 1 --max-balance 200,000 --max-daily-outflow unlimited --ref BOARD-12 --network localhost
    pkr-pilot timelock execute upgrade --implementation 0xNew… --ref UPG-2 --network localhost
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ._context import CliContext, pass_cli
from ._ops_common import OpArgs, op_options, operator_session, render
from .ops_cmd import roles_list_command

__all__ = ["ACTION_COMMANDS", "action_command"]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

AMOUNT_HELP = "Amount in PKRP, e.g. 1,250.50 (at most the token's decimals)."
_TO = click.option("--to", "to", required=True, help="Recipient address.")
_AMOUNT = click.option("--amount", required=True, help=AMOUNT_HELP)
_ACCOUNT = click.argument("account")
_REQUEST_ID = click.argument("request_id")
_CASE = "Case number."
_DECISION = "Decision reference."
_INCIDENT = "Incident number (kept in the operations journal)."
_TICKET = "Decision or ticket number (kept in the operations journal)."

#: The command of each action of :data:`pkr_pilot.ops.ACTIONS`, by action name.
ACTION_COMMANDS: dict[str, click.Command] = {}


def action_command(
    action: str, help: str, *params: Decorator, name: str | None = None, ref: bool = True, ref_help: str | None = None
) -> click.Command:
    """The command for ``action``: its own ``params``, the common options, one path to the library."""

    def command(cli: CliContext, /, **kwargs: Any) -> None:
        from .. import ops

        args = OpArgs.pop(kwargs)
        with operator_session(cli, args, action) as op:
            result = ops.perform(op, action, args.run_options(), **kwargs)
            render(result, as_json=args.as_json, network=op.network, stack=op.stack)

    f: Callable[..., Any] = op_options(ref=ref, ref_help=ref_help)(pass_cli(command))
    for param in reversed(params):
        f = param(f)
    ACTION_COMMANDS[action] = click.command(name or action, help=help)(f)
    return ACTION_COMMANDS[action]


# --------------------------------------------------------------------------- supply and compliance

mint_command = action_command(
    "mint", "Mint on deposit (as a configured minter).",
    click.option("--to", "to", required=True, help="Recipient address (checksummed or all lower case)."), _AMOUNT,
    ref_help="Bank transfer id of the deposit (minted once, ever).")
burn_command = action_command(
    "burn", "Burn from the signer's own balance on redemption (minter or BURNER_ROLE).", _AMOUNT,
    ref_help="Redemption payout id.")
transfer_command = action_command(
    "transfer", "Transfer from the signer's balance (e.g. a treasury payment).", _TO, _AMOUNT,
    ref_help="Payment reference (kept in the operations journal).")
freeze_command = action_command(
    "freeze", "Fully freeze ACCOUNT: it can neither send nor receive.", _ACCOUNT,
    ref_help="Compliance alert or case number.")
unfreeze_command = action_command(
    "unfreeze", "Lift the full freeze of ACCOUNT (a partial freeze stays).", _ACCOUNT,
    ref_help="Case number of the decision lifting the freeze.")
freeze_amount_command = action_command(
    "freeze-amount", "Freeze AMOUNT more of ACCOUNT's balance (may exceed the balance).", _ACCOUNT, _AMOUNT,
    ref_help=_CASE)
unfreeze_amount_command = action_command(
    "unfreeze-amount", "Release AMOUNT of ACCOUNT's frozen amount.", _ACCOUNT, _AMOUNT, ref_help=_CASE)
seize_command = action_command(
    "seize", "Move frozen funds by court order (SEIZER_ROLE).",
    click.option("--from", "source", required=True, help="The frozen account to seize from."),
    click.option("--to", "to", required=True, help="Recipient (not frozen)."), _AMOUNT,
    ref_help="Court order number.")
pause_command = action_command(
    "pause", "Pause transfers, mints and burns (freeze and seize keep working).", ref_help=_INCIDENT)
unpause_command = action_command(
    "unpause", "Resume normal operation (UNPAUSER_ROLE; behind a timelock use `timelock schedule unpause`).",
    ref_help=_INCIDENT)


# --------------------------------------------------------------------------- minters, roles, reserves


@click.group("minter")
def minter_group() -> None:
    """Configure or remove minters (MINTER_ADMIN_ROLE)."""


minter_group.add_command(action_command(
    "minter-configure", "Configure MINTER with a minting allowance.", click.argument("minter"),
    click.option("--allowance", required=True, help="Minting allowance in PKRP (replaces the current one)."),
    name="configure"))
minter_group.add_command(action_command("minter-remove", "Remove MINTER.", click.argument("minter"), name="remove"))


@click.group("roles")
def roles_group() -> None:
    """Grant, revoke and list roles of the token, the desk and the timelock."""


_ROLE_ARGS = (
    click.argument("role"), _ACCOUNT,
    click.option("--contract", type=click.Choice(["token", "desk", "timelock"]),
                 help="Where the role lives (default: the contract that defines it)."),
)
roles_group.add_command(action_command(
    "roles-grant", "Grant ROLE (e.g. FREEZER_ROLE, freezer, MAKER_ROLE) to ACCOUNT.", *_ROLE_ARGS,
    name="grant", ref_help=_TICKET))
roles_group.add_command(action_command(
    "roles-revoke", "Revoke ROLE from ACCOUNT.", *_ROLE_ARGS, name="revoke", ref_help=_TICKET))
roles_group.add_command(roles_list_command)


@click.group("reserves")
def reserves_group() -> None:
    """Reserve attestations (ATTESTOR_ROLE)."""


reserves_group.add_command(action_command(
    "reserves-attest", "Record a reserve attestation.",
    click.option("--amount", required=True, help="Reserves held, in PKRP."),
    click.option("--as-of", "as_of", default="now", show_default=True,
                 help="Date of the reserves: now (the latest block's time), unix seconds, 2025-01-31 (UTC midnight) "
                 "or ISO 8601 with a zone."),
    name="attest",
    ref_help="The attestation report's hash (0x + 64 hex) or id: recorded on chain as reportHash."))


# --------------------------------------------------------------------------- the mint desk

mint_request_command = action_command(
    "mint-request", "File a mint request on the desk (MAKER_ROLE); prints the request id.",
    _TO, click.option("--amount", required=True, help="Amount in PKRP, e.g. 150,000."),
    ref_help="Bank transfer id of the deposit (minted once, ever).")
mint_approve_command = action_command(
    "mint-approve", "Approve desk mint request REQUEST_ID (CHECKER_ROLE, never its maker).", _REQUEST_ID, ref=False)
mint_execute_command = action_command(
    "mint-execute", "Execute approved desk mint request REQUEST_ID (maker or checker).", _REQUEST_ID, ref=False)
mint_cancel_command = action_command(
    "mint-cancel", "Cancel pending desk mint request REQUEST_ID (its maker or the desk admin); frees its ref.",
    _REQUEST_ID, ref=False)


# --------------------------------------------------------------------------- tiers, limits, allowlist


@click.group("tier")
def tier_group() -> None:
    """Wallet tiers and their limits."""


_SWITCH = click.Choice(["on", "off"])
tier_group.add_command(action_command(
    "tier-set", "Put ACCOUNT in wallet TIER (0 = unverified), as KYC_ROLE.", _ACCOUNT, click.argument("tier"),
    name="set", ref_help="KYC case id."))
tier_group.add_command(action_command(
    "tier-limits", "Set the limits of wallet TIER (admin).", click.argument("tier"),
    click.option("--max-balance", required=True, help="Maximum balance in PKRP, or 'unlimited'."),
    click.option("--max-daily-outflow", required=True, help="Maximum outflow per calendar day in PKRP, or 'unlimited'."),
    name="limits", ref_help=_DECISION))
tier_group.add_command(action_command(
    "tier-exempt", "Exempt ACCOUNT (a desk, the redemption address) from limits and allowlist mode: on|off.",
    _ACCOUNT, click.argument("exempt", type=_SWITCH), name="exempt", ref_help=_DECISION))
allowlist_command = action_command(
    "allowlist", "Switch allowlist mode on (only tier > 0 or exempt accounts may receive) or off.",
    click.argument("enabled", type=_SWITCH), ref_help=_DECISION)
limits_command = action_command(
    "limits", "Switch tier limit enforcement on or off.", click.argument("enabled", type=_SWITCH), ref_help=_DECISION)


# --------------------------------------------------------------------------- timelock


@click.group("timelock")
def timelock_group() -> None:
    """Schedule and execute token upgrades and unpause through the governance timelock."""


_GOVERNED = (
    click.argument("what", type=click.Choice(["upgrade", "unpause"])),
    click.option("--implementation", help="New implementation address (upgrade only)."),
    click.option("--data", "data", default="", help="Call data for upgradeToAndCall (0x hex; default none)."),
)
timelock_group.add_command(action_command(
    "timelock-schedule", "Schedule WHAT (upgrade or unpause) on the timelock (PROPOSER_ROLE).", *_GOVERNED,
    click.option("--delay", type=int, help="Seconds (default: the timelock's minimum delay)."),
    name="schedule", ref_help="Names the operation (its salt): the same ref and operation are scheduled once."))
timelock_group.add_command(action_command(
    "timelock-execute", "Execute a scheduled WHAT once its delay has passed (EXECUTOR_ROLE).", *_GOVERNED,
    name="execute", ref_help="The ref the operation was scheduled with."))
