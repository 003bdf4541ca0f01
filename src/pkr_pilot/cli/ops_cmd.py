"""Token operations: ``mint``, ``burn``, ``transfer``, ``freeze`` …, ``minter``, ``roles``, ``reserves``,
``balance`` and ``status``. Parsing and rendering only: every command calls :mod:`pkr_pilot.ops`.

Examples::

    pkr-pilot mint --network localhost --to 0xAbC… --amount 1,250.50 --ref BANK-TX-0042
    pkr-pilot freeze 0xAbC… --network localhost --ref CASE-2025-17 --yes
    pkr-pilot seize --network localhost --from 0xAbC… --to 0xDeF… --amount 500 --ref COURT-ORDER-9
    pkr-pilot status --network localhost --json
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from ._context import CliContext, pass_cli
from ._ops_common import (
    OpArgs,
    json_option,
    money,
    network_option,
    op_options,
    operator_session,
    render,
    render_json,
    stack_session,
)

if TYPE_CHECKING:
    from ..ops import OperationResult, Operator, RunOptions

__all__ = [
    "balance_command",
    "burn_command",
    "freeze_amount_command",
    "freeze_command",
    "mint_command",
    "minter_group",
    "pause_command",
    "reserves_group",
    "roles_group",
    "seize_command",
    "status_command",
    "transfer_command",
    "unfreeze_amount_command",
    "unfreeze_command",
    "unpause_command",
]

Action = Callable[["Operator", "RunOptions"], "OperationResult"]


def run_action(cli: CliContext, kwargs: dict[str, Any], action: str, call: Action) -> None:
    """Open an operator for ``action``, run ``call`` and render the result."""
    args = OpArgs.pop(kwargs)
    with operator_session(cli, args, action) as op:
        result = call(op, args.run_options())
        render(result, as_json=args.as_json, network=op.network, stack=op.stack)


AMOUNT_HELP = "Amount in PKRP, e.g. 1,250.50 (at most the token's decimals)."


# --------------------------------------------------------------------------- supply


@click.command("mint")
@click.option("--to", "to", required=True, help="Recipient address (checksummed or all lower case).")
@click.option("--amount", required=True, help=AMOUNT_HELP)
@op_options(ref_help="Bank transfer id of the deposit (minted once, ever).")
@pass_cli
def mint_command(cli: CliContext, /, to: str, amount: str, ref: str, **kwargs: Any) -> None:
    """Mint on deposit (as a configured minter)."""
    from .. import ops

    run_action(cli, kwargs, "mint", lambda op, o: ops.mint(op, to, amount, ref=ref, options=o))


@click.command("burn")
@click.option("--amount", required=True, help=AMOUNT_HELP)
@op_options(ref_help="Redemption payout id.")
@pass_cli
def burn_command(cli: CliContext, /, amount: str, ref: str, **kwargs: Any) -> None:
    """Burn from the signer's own balance on redemption (minter or BURNER_ROLE)."""
    from .. import ops

    run_action(cli, kwargs, "burn", lambda op, o: ops.burn(op, amount, ref=ref, options=o))


@click.command("transfer")
@click.option("--to", "to", required=True, help="Recipient address.")
@click.option("--amount", required=True, help=AMOUNT_HELP)
@op_options(ref_help="Payment reference (kept in the operations journal).")
@pass_cli
def transfer_command(cli: CliContext, /, to: str, amount: str, ref: str, **kwargs: Any) -> None:
    """Transfer from the signer's balance (e.g. a treasury payment)."""
    from .. import ops

    run_action(cli, kwargs, "transfer", lambda op, o: ops.transfer(op, to, amount, ref=ref, options=o))


# --------------------------------------------------------------------------- compliance


@click.command("freeze")
@click.argument("account")
@op_options(ref_help="Compliance alert or case number.")
@pass_cli
def freeze_command(cli: CliContext, /, account: str, ref: str, **kwargs: Any) -> None:
    """Fully freeze ACCOUNT: it can neither send nor receive."""
    from .. import ops

    run_action(cli, kwargs, "freeze", lambda op, o: ops.freeze(op, account, ref=ref, options=o))


@click.command("unfreeze")
@click.argument("account")
@op_options(ref_help="Case number of the decision lifting the freeze.")
@pass_cli
def unfreeze_command(cli: CliContext, /, account: str, ref: str, **kwargs: Any) -> None:
    """Lift the full freeze of ACCOUNT (a partial freeze stays)."""
    from .. import ops

    run_action(cli, kwargs, "unfreeze", lambda op, o: ops.unfreeze(op, account, ref=ref, options=o))


@click.command("freeze-amount")
@click.argument("account")
@click.option("--amount", required=True, help=AMOUNT_HELP)
@op_options(ref_help="Case number.")
@pass_cli
def freeze_amount_command(cli: CliContext, /, account: str, amount: str, ref: str, **kwargs: Any) -> None:
    """Freeze AMOUNT more of ACCOUNT's balance (may exceed the balance)."""
    from .. import ops

    run_action(cli, kwargs, "freeze-amount", lambda op, o: ops.freeze_amount(op, account, amount, ref=ref, options=o))


@click.command("unfreeze-amount")
@click.argument("account")
@click.option("--amount", required=True, help=AMOUNT_HELP)
@op_options(ref_help="Case number.")
@pass_cli
def unfreeze_amount_command(cli: CliContext, /, account: str, amount: str, ref: str, **kwargs: Any) -> None:
    """Release AMOUNT of ACCOUNT's frozen amount."""
    from .. import ops

    run_action(
        cli, kwargs, "unfreeze-amount", lambda op, o: ops.unfreeze_amount(op, account, amount, ref=ref, options=o)
    )


@click.command("seize")
@click.option("--from", "source", required=True, help="The frozen account to seize from.")
@click.option("--to", "to", required=True, help="Recipient (not frozen).")
@click.option("--amount", required=True, help=AMOUNT_HELP)
@op_options(ref_help="Court order number.")
@pass_cli
def seize_command(cli: CliContext, /, source: str, to: str, amount: str, ref: str, **kwargs: Any) -> None:
    """Move frozen funds by court order (SEIZER_ROLE)."""
    from .. import ops

    run_action(cli, kwargs, "seize", lambda op, o: ops.seize(op, source, to, amount, ref=ref, options=o))


@click.command("pause")
@op_options(ref_help="Incident number (kept in the operations journal).")
@pass_cli
def pause_command(cli: CliContext, /, ref: str, **kwargs: Any) -> None:
    """Pause transfers, mints and burns (freeze and seize keep working)."""
    from .. import ops

    run_action(cli, kwargs, "pause", lambda op, o: ops.pause(op, ref=ref, options=o))


@click.command("unpause")
@op_options(ref_help="Incident number (kept in the operations journal).")
@pass_cli
def unpause_command(cli: CliContext, /, ref: str, **kwargs: Any) -> None:
    """Resume normal operation (UNPAUSER_ROLE; behind a timelock use `timelock schedule unpause`)."""
    from .. import ops

    run_action(cli, kwargs, "unpause", lambda op, o: ops.unpause(op, ref=ref, options=o))


# --------------------------------------------------------------------------- minters, roles, reserves


@click.group("minter")
def minter_group() -> None:
    """Configure or remove minters (MINTER_ADMIN_ROLE)."""


@minter_group.command("configure")
@click.argument("minter")
@click.option("--allowance", required=True, help="Minting allowance in PKRP (replaces the current one).")
@op_options()
@pass_cli
def minter_configure_command(cli: CliContext, /, minter: str, allowance: str, ref: str, **kwargs: Any) -> None:
    """Configure MINTER with a minting allowance."""
    from .. import ops

    run_action(
        cli, kwargs, "minter-configure", lambda op, o: ops.configure_minter(op, minter, allowance, ref=ref, options=o)
    )


@minter_group.command("remove")
@click.argument("minter")
@op_options()
@pass_cli
def minter_remove_command(cli: CliContext, /, minter: str, ref: str, **kwargs: Any) -> None:
    """Remove MINTER."""
    from .. import ops

    run_action(cli, kwargs, "minter-remove", lambda op, o: ops.remove_minter(op, minter, ref=ref, options=o))


@click.group("roles")
def roles_group() -> None:
    """Grant, revoke and list roles of the token, the desk and the timelock."""


_CONTRACT_OPTION = click.option(
    "--contract",
    type=click.Choice(["token", "desk", "timelock"]),
    help="Where the role lives (default: the contract that defines it).",
)


@roles_group.command("grant")
@click.argument("role")
@click.argument("account")
@_CONTRACT_OPTION
@op_options(ref_help="Decision or ticket number (kept in the operations journal).")
@pass_cli
def roles_grant_command(cli: CliContext, /, role: str, account: str, contract: str | None, ref: str, **kwargs: Any) -> None:
    """Grant ROLE (e.g. FREEZER_ROLE, freezer, MAKER_ROLE) to ACCOUNT."""
    from .. import ops

    run_action(
        cli, kwargs, "roles-grant",
        lambda op, o: ops.grant_role(op, role, account, ref=ref, contract=contract, options=o),
    )


@roles_group.command("revoke")
@click.argument("role")
@click.argument("account")
@_CONTRACT_OPTION
@op_options(ref_help="Decision or ticket number (kept in the operations journal).")
@pass_cli
def roles_revoke_command(cli: CliContext, /, role: str, account: str, contract: str | None, ref: str, **kwargs: Any) -> None:
    """Revoke ROLE from ACCOUNT."""
    from .. import ops

    run_action(
        cli, kwargs, "roles-revoke",
        lambda op, o: ops.revoke_role(op, role, account, ref=ref, contract=contract, options=o),
    )


@roles_group.command("list")
@network_option
@json_option
@pass_cli
def roles_list_command(cli: CliContext, /, network_name: str, as_json: bool) -> None:
    """Role holders of every contract (from RoleGranted/RoleRevoked events, checked with hasRole)."""
    from .. import ops

    with stack_session(cli, network_name) as (_project, _network, _chain, stack):
        roles = ops.roles_list(stack)
    if as_json:
        render_json(roles)
        return
    for contract, by_role in roles.items():
        click.echo(contract)
        for role, holders in by_role.items():
            click.echo(f"  {role:<20} {', '.join(holders)}")


@click.group("reserves")
def reserves_group() -> None:
    """Reserve attestations (ATTESTOR_ROLE)."""


@reserves_group.command("attest")
@click.option("--amount", required=True, help="Reserves held, in PKRP.")
@click.option(
    "--as-of",
    "as_of",
    default="now",
    show_default=True,
    help="Date of the reserves: now (the latest block's time), unix seconds, 2025-01-31 (UTC midnight) "
    "or ISO 8601 with a zone.",
)
@op_options(ref_help="The attestation report's hash (0x + 64 hex) or id: recorded on chain as reportHash.")
@pass_cli
def reserves_attest_command(cli: CliContext, /, amount: str, as_of: str, ref: str, **kwargs: Any) -> None:
    """Record a reserve attestation."""
    from .. import ops

    run_action(
        cli, kwargs, "reserves-attest", lambda op, o: ops.attest_reserves(op, amount, as_of=as_of, report=ref, options=o)
    )


# --------------------------------------------------------------------------- views


@click.command("balance")
@click.argument("account")
@network_option
@json_option
@pass_cli
def balance_command(cli: CliContext, /, account: str, network_name: str, as_json: bool) -> None:
    """Balance, frozen and available amounts, tier and minter allowance of ACCOUNT."""
    from .. import ops

    with stack_session(cli, network_name) as (_project, _network, _chain, stack):
        report = ops.balance(stack, account)
        if as_json:
            render_json(report.to_json())
            return
        click.echo(f"{report.account} (block {report.block})")
        click.echo(f"  balance    {money(report.balance, stack)}")
        frozen = "  (fully frozen: nothing can move)" if report.fully_frozen else ""
        click.echo(f"  frozen     {money(report.frozen_amount, stack)}{frozen}")
        click.echo(f"  available  {money(report.available, stack)}")
        click.echo(f"  tier       {report.tier}")
        if report.is_minter:
            click.echo(f"  minter, allowance {money(report.minter_allowance, stack)}")


@click.command("status")
@network_option
@json_option
@pass_cli
def status_command(cli: CliContext, /, network_name: str, as_json: bool) -> None:
    """Supply, reserves and their age, collateralisation, cap, pause, minters, roles, frozen accounts."""
    from .. import ops

    with stack_session(cli, network_name) as (_project, network, chain, stack):
        report = ops.status(stack)
    if as_json:
        render_json({"network": network.name, "chain_id": chain.chain_id, **report.to_json()})
        return
    _print_status(report, network.name, chain.chain_id)


def _print_status(r: Any, network: str, chain_id: int) -> None:
    from ..human import duration, percent, timestamp

    click.echo(f"{r.name} ({r.symbol}) at {r.token} on {network} (chain id {chain_id}), "
               f"block {r.block} at {timestamp(r.timestamp, with_unix=False)}")
    click.echo(f"  total supply      {r.fmt(r.total_supply)}")
    click.echo(f"  supply cap        {r.fmt(r.supply_cap)}")
    stale = "  STALE: minting blocked" if r.attestation_stale else ""
    click.echo(f"  reserves          {r.fmt(r.reserves.amount)} as of {timestamp(r.reserves.as_of, with_unix=False)} "
               f"(age {_age(r.reserves_age)}, max {_age(r.max_attestation_age)}){stale}")
    ratio = "n/a (no supply)" if r.total_supply == 0 else percent(r.reserves.amount, r.total_supply)
    click.echo(f"  collateralisation {ratio} (reserves / supply)")
    click.echo(f"  mint headroom     {r.fmt(r.mint_headroom)}")
    click.echo(f"  paused            {'YES' if r.paused else 'no'}")
    click.echo(f"  limits / allowlist {'on' if r.limits_enabled else 'off'} / {'on' if r.allowlist_enabled else 'off'}")
    click.echo("  minters" + ("" if r.minters else "           none"))
    for minter, allowance in r.minters.items():
        click.echo(f"    {minter}  allowance {r.fmt(allowance)}")
    click.echo("  frozen" + ("" if r.frozen else "            none"))
    for account, (full, amount) in r.frozen.items():
        parts = (["fully frozen"] if full else []) + ([f"{r.fmt(amount)} frozen"] if amount else [])
        click.echo(f"    {account}  {', '.join(parts)}")
    if r.desk:
        p = r.desk_policy
        click.echo(f"  mint desk         {r.desk}: {r.pending_requests} pending; threshold {r.fmt(p.threshold)}, "
                   f"{p.approvals_required} approvals above it")
    if r.timelock:
        click.echo(f"  timelock          {r.timelock}: min delay {duration(r.timelock_min_delay, with_seconds=False)}")
    click.echo("  roles")
    for contract, by_role in r.roles.items():
        for role, holders in by_role.items():
            click.echo(f"    {contract}.{role:<20} {', '.join(holders)}")


def _age(seconds: int) -> str:
    from ..human import duration

    return duration(seconds, with_seconds=False)
