"""Regulator controls: the maker-checker desk (``mint-request``, ``mint-approve``, ``mint-execute``,
``mint-cancel``, ``mint-requests``), wallet tiers (``tier set|limits|exempt``), ``allowlist on|off``,
``limits on|off`` and the governance delay (``timelock schedule|execute upgrade|unpause``).

Examples::

    pkr-pilot mint-request --network localhost --to 0xAbC… --amount 150,000 --ref BANK-TX-0042
    pkr-pilot mint-approve 7 --network localhost            # as a checker (not the maker)
    pkr-pilot mint-execute 7 --network localhost
    pkr-pilot tier limits 1 --max-balance 200,000 --max-daily-outflow unlimited --ref BOARD-12 --network localhost
    pkr-pilot timelock schedule unpause --ref INC-9-END --network localhost
    pkr-pilot timelock execute upgrade --implementation 0xNew… --ref UPG-2 --network localhost
"""

from __future__ import annotations

from typing import Any

import click

from ._context import CliContext, pass_cli
from ._ops_common import json_option, money, network_option, op_options, render_json, stack_session
from .ops_cmd import run_action

__all__ = [
    "allowlist_command",
    "limits_command",
    "mint_approve_command",
    "mint_cancel_command",
    "mint_execute_command",
    "mint_request_command",
    "mint_requests_command",
    "tier_group",
    "timelock_group",
]


@click.command("mint-request")
@click.option("--to", "to", required=True, help="Recipient address.")
@click.option("--amount", required=True, help="Amount in PKRP, e.g. 150,000.")
@op_options(ref_help="Bank transfer id of the deposit (minted once, ever).")
@pass_cli
def mint_request_command(cli: CliContext, /, to: str, amount: str, ref: str, **kwargs: Any) -> None:
    """File a mint request on the desk (MAKER_ROLE); prints the request id."""
    from .. import ops

    run_action(cli, kwargs, "mint-request", lambda op, o: ops.mint_request(op, to, amount, ref=ref, options=o))


@click.command("mint-approve")
@click.argument("request_id")
@op_options(ref=False)
@pass_cli
def mint_approve_command(cli: CliContext, /, request_id: str, **kwargs: Any) -> None:
    """Approve desk mint request REQUEST_ID (CHECKER_ROLE, never its maker)."""
    from .. import ops

    run_action(cli, kwargs, "mint-approve", lambda op, o: ops.mint_approve(op, request_id, options=o))


@click.command("mint-execute")
@click.argument("request_id")
@op_options(ref=False)
@pass_cli
def mint_execute_command(cli: CliContext, /, request_id: str, **kwargs: Any) -> None:
    """Execute approved desk mint request REQUEST_ID (maker or checker)."""
    from .. import ops

    run_action(cli, kwargs, "mint-execute", lambda op, o: ops.mint_execute(op, request_id, options=o))


@click.command("mint-cancel")
@click.argument("request_id")
@op_options(ref=False)
@pass_cli
def mint_cancel_command(cli: CliContext, /, request_id: str, **kwargs: Any) -> None:
    """Cancel pending desk mint request REQUEST_ID (its maker or the desk admin); frees its ref."""
    from .. import ops

    run_action(cli, kwargs, "mint-cancel", lambda op, o: ops.mint_cancel(op, request_id, options=o))


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


# --------------------------------------------------------------------------- tiers, limits, allowlist


@click.group("tier")
def tier_group() -> None:
    """Wallet tiers and their limits."""


@tier_group.command("set")
@click.argument("account")
@click.argument("tier")
@op_options(ref_help="KYC case id.")
@pass_cli
def tier_set_command(cli: CliContext, /, account: str, tier: str, ref: str, **kwargs: Any) -> None:
    """Put ACCOUNT in wallet TIER (0 = unverified), as KYC_ROLE."""
    from .. import ops

    run_action(cli, kwargs, "tier-set", lambda op, o: ops.set_tier(op, account, tier, ref=ref, options=o))


@tier_group.command("limits")
@click.argument("tier")
@click.option("--max-balance", required=True, help="Maximum balance in PKRP, or 'unlimited'.")
@click.option("--max-daily-outflow", required=True, help="Maximum outflow per calendar day in PKRP, or 'unlimited'.")
@op_options(ref_help="Decision reference.")
@pass_cli
def tier_limits_command(
    cli: CliContext, /, tier: str, max_balance: str, max_daily_outflow: str, ref: str, **kwargs: Any
) -> None:
    """Set the limits of wallet TIER (admin)."""
    from .. import ops

    run_action(
        cli, kwargs, "tier-limits",
        lambda op, o: ops.set_tier_limits(
            op, tier, max_balance=max_balance, max_daily_outflow=max_daily_outflow, ref=ref, options=o
        ),
    )


@tier_group.command("exempt")
@click.argument("account")
@click.argument("switch", type=click.Choice(["on", "off"]))
@op_options(ref_help="Decision reference.")
@pass_cli
def tier_exempt_command(cli: CliContext, /, account: str, switch: str, ref: str, **kwargs: Any) -> None:
    """Exempt ACCOUNT (a desk, the redemption address) from limits and allowlist mode: on|off."""
    from .. import ops

    run_action(cli, kwargs, "tier-exempt", lambda op, o: ops.set_exempt(op, account, switch == "on", ref=ref, options=o))


@click.command("allowlist")
@click.argument("switch", type=click.Choice(["on", "off"]))
@op_options(ref_help="Decision reference.")
@pass_cli
def allowlist_command(cli: CliContext, /, switch: str, ref: str, **kwargs: Any) -> None:
    """Switch allowlist mode on (only tier > 0 or exempt accounts may receive) or off."""
    from .. import ops

    run_action(cli, kwargs, "allowlist", lambda op, o: ops.allowlist(op, switch == "on", ref=ref, options=o))


@click.command("limits")
@click.argument("switch", type=click.Choice(["on", "off"]))
@op_options(ref_help="Decision reference.")
@pass_cli
def limits_command(cli: CliContext, /, switch: str, ref: str, **kwargs: Any) -> None:
    """Switch tier limit enforcement on or off."""
    from .. import ops

    run_action(cli, kwargs, "limits", lambda op, o: ops.limits(op, switch == "on", ref=ref, options=o))


# --------------------------------------------------------------------------- timelock


@click.group("timelock")
def timelock_group() -> None:
    """Schedule and execute token upgrades and unpause through the governance timelock."""


_WHAT = click.argument("what", type=click.Choice(["upgrade", "unpause"]))
_IMPL = click.option("--implementation", help="New implementation address (upgrade only).")
_DATA = click.option("--data", "call_data", default="", help="Call data for upgradeToAndCall (0x hex; default none).")


@timelock_group.command("schedule")
@_WHAT
@_IMPL
@_DATA
@click.option("--delay", type=int, help="Seconds (default: the timelock's minimum delay).")
@op_options(ref_help="Names the operation (its salt): the same ref and operation are scheduled once.")
@pass_cli
def timelock_schedule_command(
    cli: CliContext, /, what: str, implementation: str | None, call_data: str, delay: int | None, ref: str,
    **kwargs: Any,
) -> None:
    """Schedule WHAT (upgrade or unpause) on the timelock (PROPOSER_ROLE)."""
    from .. import ops

    run_action(
        cli, kwargs, "timelock-schedule",
        lambda op, o: ops.timelock_schedule(
            op, what, ref=ref, implementation=implementation, data=call_data, delay=delay, options=o
        ),
    )


@timelock_group.command("execute")
@_WHAT
@_IMPL
@_DATA
@op_options(ref_help="The ref the operation was scheduled with.")
@pass_cli
def timelock_execute_command(
    cli: CliContext, /, what: str, implementation: str | None, call_data: str, ref: str, **kwargs: Any
) -> None:
    """Execute a scheduled WHAT once its delay has passed (EXECUTOR_ROLE)."""
    from .. import ops

    run_action(
        cli, kwargs, "timelock-execute",
        lambda op, o: ops.timelock_execute(op, what, ref=ref, implementation=implementation, data=call_data, options=o),
    )
