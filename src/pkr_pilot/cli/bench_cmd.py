"""``pkr-pilot bench``: benchmarks on a fresh local node (parsing and rendering only)."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from types import FrameType

import click

from ..bench.scale import PRUNE_HISTORY
from ._context import CliContext, pass_cli

__all__ = ["bench_group"]


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    sys.exit(128 + signum)


@click.group(name="bench")
def bench_group() -> None:
    """Benchmarks on a fresh local anvil started for the run."""


@bench_group.command(name="bulk")
@click.option("--count", default=2000, show_default=True, type=click.IntRange(min=1), help="Transfers per way.")
@click.option("--batch-size", default=250, show_default=True, type=click.IntRange(min=1), help="Transactions per JSON-RPC batch.")
@click.option("--window", default=500, show_default=True, type=click.IntRange(min=1), help="Most bulk transactions in flight.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON only.")
@pass_cli
def bench_bulk_command(cli: CliContext, count: int, batch_size: int, window: int, as_json: bool) -> None:
    """Plain web3.py vs the bulk engine vs Multicall: the same token transfers, one fresh anvil.

    Prints transfers (payments) per second for each way and the ratios bulk_vs_naive and
    multicall_vs_naive against the goals (15 and 50).
    """
    from ..bench.bulk import GOALS, run_bulk_bench
    from ..progress import Progress, ProgressLine

    line = ProgressLine("naive: transfers", count, quiet=as_json)

    def say(message: str) -> None:
        if message.startswith("bulk:"):
            line.close()  # the naive phase is over
        line.note(f"... {message}")

    def counted(event: Progress) -> None:
        line.update(event.done)

    # A plain SIGTERM would skip the clean-up that stops the benchmark's anvil.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        bench = run_bulk_bench(cli.project(), count=count, progress=say, batch_size=batch_size, window=window,
                               counter=counted)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if as_json:
        click.echo(json.dumps(bench.to_json(), indent=2))
        return
    met = bench.goals_met()
    rows = [
        ("naive web3.py", f"{bench.naive_tps:,.1f} tx/s", f"{bench.naive_seconds:.2f} s", f"{count} tx", ""),
        (
            "bulk engine",
            f"{bench.bulk_tps:,.1f} tx/s",
            f"{bench.bulk_seconds:.2f} s",
            f"{bench.bulk_transactions} tx",
            f"x{bench.bulk_vs_naive:.1f} (goal x{GOALS['bulk_vs_naive']:g}: {'met' if met['bulk_vs_naive'] else 'MISSED'})",
        ),
        (
            "multicall",
            f"{bench.multicall_pps:,.1f} payments/s",
            f"{bench.multicall_seconds:.2f} s",
            f"{bench.multicall_transactions} tx",
            f"x{bench.multicall_vs_naive:.1f} (goal x{GOALS['multicall_vs_naive']:g}: {'met' if met['multicall_vs_naive'] else 'MISSED'})",
        ),
    ]
    header = ("way", "rate", "time", "sent as", "vs naive")
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    click.echo(f"{count} token transfers per way, one fresh anvil ({' '.join(bench.anvil_args)})")
    for row in (header, *rows):
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    click.echo(
        f"signing: {bench.signing_backend} (eth-keys backend {bench.eth_keys_backend}); "
        f"every payment landed: {'yes' if bench.all_landed else 'NO'}"
    )


def _wallet_list(ctx: click.Context, param: click.Parameter, value: str) -> list[int]:
    try:
        sizes = [int(v.replace("_", "")) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of wallet counts") from None
    if not sizes:
        raise click.BadParameter("name at least one wallet count")
    return sizes


@bench_group.command(name="scale")
@click.option("--wallets", default="1000,10000,100000", show_default=True, callback=_wallet_list,
              help="Comma-separated wallet counts, one fresh anvil each.")
@click.option("--out", "out_root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the points' report folders (default reports/bench-scale/).")
@click.option("--prune-history", type=click.IntRange(min=0), default=PRUNE_HISTORY, show_default=True,
              help="States each point's anvil keeps in memory (a whole copy of the state each); 0: anvil's "
                   "default history, which needs over 13 GiB at 100,000 wallets.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON only.")
@pass_cli
def bench_scale_command(
    cli: CliContext, wallets: list[int], out_root: Path | None, prune_history: int, as_json: bool
) -> None:
    """The same mix of payments at several wallet counts: is the cost per transaction flat?

    Each point is a whole simulator run (setup, four steps of payments and compliance, the report)
    on a fresh anvil in a child process. Goal: seconds per transaction at the largest point within
    2x of the smallest. Runs at 100,000 wallets take tens of minutes on a small machine.
    """
    from ..bench.scale import GOAL_RATIO, run_scale_bench

    def say(message: str) -> None:
        if not as_json:
            click.echo(message, err=True)

    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    bench = run_scale_bench(cli.project(), wallets, progress=say, out_root=out_root,
                            prune_history=prune_history or None)
    if as_json:
        click.echo(json.dumps(bench.to_json(), indent=2))
        return
    header = ("wallets", "transactions", "seconds", "ms/tx", "Python peak MiB", "anvil peak MiB", "load avg (1 min)")
    rows = [
        (f"{p.wallets:,}", f"{p.transactions:,}", f"{p.seconds:,.1f}", f"{p.seconds_per_tx * 1000:.2f}",
         f"{p.peak_rss_mib:,.0f}", "n/a" if p.node_rss_mib is None else f"{p.node_rss_mib:,.0f}",
         f"{p.load_average[0]:.1f}")
        for p in bench.points
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    for line in (header, *rows):
        click.echo("  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)))
    if bench.ratio is not None:
        verdict = "met" if bench.goal_met else "MISSED"
        click.echo(f"seconds per transaction, largest / smallest: x{bench.ratio:.2f} (goal x{GOAL_RATIO:g}: {verdict})")


@bench_group.command(name="ops")
@click.option("--action", type=click.Choice(["set_tier", "mint"]), default="set_tier", show_default=True,
              help="The operation repeated.")
@click.option("--count", default=1000, show_default=True, type=click.IntRange(min=1), help="Operations.")
@click.option("--cache", is_flag=True, help="Give the stack the CLI's event cache.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON only.")
@pass_cli
def bench_ops_command(cli: CliContext, action: str, count: int, cache: bool, as_json: bool) -> None:
    """Operations at volume: COUNT consecutive set-tier or mint operations, one journal.

    Prints the time of every tenth of the run: a tenth slower than the one before means a cost
    that grows with history.
    """
    from ..bench.ops import run_ops_bench

    def say(message: str) -> None:
        if not as_json:
            click.echo(message, err=True)

    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        bench = run_ops_bench(cli.project(), action=action, count=count, cache=cache, progress=say)  # type: ignore[arg-type]
    finally:
        signal.signal(signal.SIGTERM, previous)
    if as_json:
        click.echo(json.dumps(bench.to_json(), indent=2))
        return
    click.echo(
        f"{bench.count} {bench.action} operations{' (event cache)' if bench.cache else ''}: {bench.total_s:.1f} s, "
        f"{bench.ops_per_s:.2f} ops/s; journal {bench.journal_lines} lines, {bench.blocks} blocks"
    )
    click.echo("seconds per tenth: " + " ".join(f"{c:.2f}" for c in bench.chunks_s))


# `bench gas` (gas per operation, budgets and the .gas-snapshot file) lives in bench_gas_cmd.py.
from .bench_gas_cmd import bench_gas_command  # noqa: E402  (after the group it joins)

bench_group.add_command(bench_gas_command)
