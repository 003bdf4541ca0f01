"""Operations views (read only): ``balance``, ``status``, ``mint-requests`` and ``roles list``.
Parsing and rendering only: every command calls :mod:`pkr_pilot.ops`; the state-changing commands are
the rows of :mod:`pkr_pilot.cli.actions_cmd`.

Examples::

    pkr-pilot status --network localhost --json
    pkr-pilot balance 0xAbC… --network localhost
    pkr-pilot mint-requests --network localhost --burns
"""

from __future__ import annotations

from typing import Any

import click

from ._context import CliContext, pass_cli
from ._ops_common import json_option, money, network_option, render_json, stack_session

__all__ = ["balance_command", "mint_requests_command", "roles_list_command", "status_command"]


@click.command("list")
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


@click.command("mint-requests")
@network_option
@click.option("--burns", is_flag=True, help="List pending burn requests too.")
@json_option
@pass_cli
def mint_requests_command(cli: CliContext, /, network_name: str, burns: bool, as_json: bool) -> None:
    """List pending desk requests with their approvals and expiry."""
    from .. import ops

    with stack_session(cli, network_name) as (_project, _network, _chain, stack):
        pending = ops.mint_requests(stack, kind=None if burns else "Mint")
        decimals = stack.token.decimals
        if as_json:
            render_json([p.to_json(decimals) for p in pending])
            return
        if not pending:
            click.echo("no pending requests")
            return
        for p in pending:
            r = p.request
            data = p.to_json(decimals)
            state = "EXPIRED" if p.expired else ("ready to execute" if p.ready else "awaiting approval")
            target = f" to {r.to}" if r.kind == "Mint" else ""
            click.echo(
                f"#{r.id} {r.kind.lower()} {money(r.amount, stack)}{target} ref {data['ref_text']} "
                f"by {r.maker}: {r.approvals}/{r.approvals_needed} approvals, expires {data['expires_at_iso']} ({state})"
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
