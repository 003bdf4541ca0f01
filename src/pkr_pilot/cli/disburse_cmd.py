"""``pkr-pilot disburse PAYMENTS.csv``: pay a file of (address, amount, ref) rows, resumably."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ._context import CliContext, pass_cli
from ._ops_common import json_option, network_option

__all__ = ["disburse_command"]

#: Exit code when rows are left unpaid (failed, skipped, rejected, pending): run again later.
INCOMPLETE_EXIT = 9
#: What each long phase of a disbursement counts (see ``run_disbursement``'s ``counter``).
PROGRESS_LABELS = {"evidence": "searching for paid refs: blocks", "send": "sending: rows", "confirm": "confirming: rows"}


@click.command(name="disburse")
@click.argument("payments", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@network_option
@click.option(
    "--account",
    "account_spec",
    help="Payer: keystore NAME / keystore:NAME, an Ape account ape:ALIAS, or dev:N on a local dev chain "
    "(default: accounts.payer, else accounts.default of the network).",
)
@click.option("--multicall", is_flag=True, help="Batch the payer's transfers into multicall transactions.")
@click.option(
    "--multicall-gas",
    type=click.IntRange(min=100_000),
    help="Gas limit per multicall transaction (default: 15,000,000 or 90% of the block gas limit).",
)
@click.option(
    "--strict-refs",
    is_flag=True,
    help="Pay with transferWithUniqueReference: the chain itself refuses a second payment of a ref (costs more gas).",
)
@click.option(
    "--settle-void",
    "settle_void",
    multiple=True,
    metavar="REF",
    help="Operator decision for an undecided row: its transaction did not pay it; pay it again (repeatable).",
)
@click.option(
    "--settle-paid",
    "settle_paid",
    multiple=True,
    metavar="REF",
    help="Operator decision for an undecided row: it was paid (checked elsewhere); never pay it (repeatable).",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Validate, check the balance and simulate every row; send nothing.")
@click.option("--batch-size", default=250, show_default=True, type=click.IntRange(min=1), help="Transactions per JSON-RPC batch.")
@click.option("--window", default=500, show_default=True, type=click.IntRange(min=1), help="Most transactions in flight at once.")
@json_option
@pass_cli
def disburse_command(
    cli: CliContext,
    payments: Path,
    network_name: str,
    account_spec: str | None,
    multicall: bool,
    multicall_gas: int | None,
    strict_refs: bool,
    settle_void: tuple[str, ...],
    settle_paid: tuple[str, ...],
    yes: bool,
    dry_run: bool,
    batch_size: int,
    window: int,
    as_json: bool,
) -> None:
    """Pay every row of PAYMENTS (CSV with the header address,amount[,ref]) from one account.

    The whole file is checked first (every bad row is listed with its line number and nothing
    is sent). Every row is paid with its ref on chain (the ref column, or one derived from the
    file's hash and the row's line). Running the same file again resumes it: a row is counted as
    paid only when the chain shows its PaymentReference event; rows whose transaction the chain
    cannot settle are listed as undecided and never paid again without --settle-void/--settle-paid.
    Exit code 0 when every row is paid, 9 when some are left (see the list), 2 for bad input.
    """
    from ..disburse import PaymentFileError, read_payments, run_disbursement
    from ..progress import ProgressPhases
    from ..tx import TxPolicy
    from ._ops_common import _load_signer, stack_session

    lines = ProgressPhases(PROGRESS_LABELS, quiet=as_json)

    def say(message: str) -> None:
        lines.note(f"... {message}")

    with stack_session(cli, network_name) as (project, network, chain, stack):
        decimals = stack.token.decimals
        try:
            file = read_payments(payments, decimals=decimals)
        except PaymentFileError as exc:
            _bad_rows(exc, as_json)
            raise click.exceptions.Exit(exc.exit_code) from None
        signer = _load_signer(project, network, chain.chain_id, account_spec, "payer")
        folder = project.paths.network_deployments(network.deployments_name) / "disbursements"

        def confirm(plan: object) -> bool:
            if yes:
                return True
            return click.confirm(f"{network.name} (chain {chain.chain_id}): {plan.text()}. Send?", err=True)  # type: ignore[attr-defined]

        try:
            result = run_disbursement(
                chain.w3,
                stack,
                signer,
                file,
                folder=folder,
                policy=TxPolicy.from_network(network),
                multicall=multicall,
                multicall_gas=multicall_gas,
                strict_refs=strict_refs,
                settle_void=settle_void,
                settle_paid=settle_paid,
                dry_run=dry_run,
                confirm=confirm,
                progress=say,
                counter=lines,
                batch_size=batch_size,
                window=window,
                stall_hook=_dev_miner(chain) if chain.is_dev else None,
            )
        except PaymentFileError as exc:
            _bad_rows(exc, as_json)
            raise click.exceptions.Exit(exc.exit_code) from None
        finally:
            lines.close()
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        _render(result)
    if not result.complete and not result.dry_run:
        raise click.exceptions.Exit(INCOMPLETE_EXIT)


def _dev_miner(chain: Any) -> Callable[[], None]:
    """On a dev chain: mine a block when nothing was mined for a while.

    anvil's automine leaves ready transactions in its pool when a block fills up and no new
    transaction arrives to wake it (foundry-rs/foundry#10122); a block on a dev chain is harmless.
    """
    from ..errors import ChainError

    def mine() -> None:
        with contextlib.suppress(ChainError):
            chain.rpc("evm_mine")

    return mine


def _bad_rows(exc: object, as_json: bool) -> None:
    problems = list(getattr(exc, "problems", []))
    if as_json:
        click.echo(json.dumps({"error": str(getattr(exc, "message", exc)), "exit": getattr(exc, "exit_code", 2),
                               "problems": problems}, indent=2))
        return
    click.echo(f"error: {getattr(exc, 'message', exc)}", err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)


def _render(result: object) -> None:
    from ..amounts import format_amount
    from ..disburse import DisbursementResult, RowStatus

    assert isinstance(result, DisbursementResult)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(result.counts().items()))
    verb = "would pay" if result.dry_run else "rows"
    click.echo(f"{result.file}: {len(result.rows)} {verb} ({counts}), mode {result.mode}, payer {result.payer}")
    if result.paid_now:
        click.echo(
            f"paid {result.paid_now} rows in {result.transactions} transactions, {result.send_seconds:.2f} s "
            f"({result.rows_per_second:,.0f} rows/s)"
        )
    paid = format_amount(result.total(*RowStatus.paid()), decimals=result.decimals)
    total = format_amount(result.total(), decimals=result.decimals)
    click.echo(f"paid so far {paid} of {total}; journal {result.journal}")
    for row in result.failures():
        where = f" (tx {row.tx_hash})" if row.tx_hash else ""
        click.echo(f"  line {row.line} ref {row.ref}: {row.status}: {row.error or ''}{where}")
    undecided = [row for row in result.rows if row.status is RowStatus.UNDECIDED]
    if undecided:
        click.echo(
            f"{len(undecided)} row(s) are undecided: the chain cannot say whether their transaction paid them, "
            "and they are never paid again by themselves. Wait for confirmations and run again, look the "
            "transaction up on another node, or decide: --settle-paid REF (it was paid) / --settle-void REF "
            "(it was not: pay it again)."
        )
    if not result.complete and not result.dry_run:
        click.echo("not every row is paid: fix the cause, then run the same command again (paid rows are skipped)")
