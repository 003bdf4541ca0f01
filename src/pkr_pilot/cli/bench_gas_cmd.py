"""``pkr-pilot bench gas``: gas per operation on a fresh anvil, the budgets and the snapshot.

Parsing and rendering only: :mod:`pkr_pilot.bench.snapshot` measures, reads and writes.
Registered on the ``bench`` group of :mod:`pkr_pilot.cli.bench_cmd`.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ._context import CliContext, pass_cli

__all__ = ["bench_gas_command"]


@click.command(name="gas")
@click.option("--json", "as_json", is_flag=True, help='Print {"operation": gasUsed, ...} only.')
@click.option("--write-snapshot", is_flag=True, help="Rewrite the snapshot file with these figures.")
@click.option(
    "--snapshot",
    "snapshot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Snapshot file (default: .gas-snapshot at the project root).",
)
@click.option("--check", is_flag=True, help="Exit 1 when an operation costs more than its snapshot or a budget.")
@pass_cli
def bench_gas_command(cli: CliContext, as_json: bool, write_snapshot: bool, snapshot_path: Path | None, check: bool) -> None:
    """Deploy the dev-default stack on a fresh anvil and measure every operation's gas.

    The human form prints each operation with its budget (issue 3) and its snapshot figure;
    --json prints the figures only. Each operation is its own transaction with cold slots.
    """
    from ..bench import snapshot as gs
    from ..bench.gas import GAS_BUDGETS, over_budget

    project = cli.project()
    path = snapshot_path or project.paths.root / gs.SNAPSHOT_FILE

    def say(message: str) -> None:
        if not as_json:
            click.echo(f"... {message}", err=True)

    gas = gs.measure_gas(project, progress=say)
    if write_snapshot:
        gs.write_snapshot(path, gas)
        say(f"wrote {len(gas)} operations to {path}")
    snapshot = gs.read_snapshot(path) if path.exists() else {}
    diff = gs.compare_gas(gas, snapshot)
    over = over_budget(gas)
    if as_json:
        click.echo(json.dumps(gas, indent=2))
    else:
        rows = [("operation", "gas", "budget", "snapshot", "")]
        for op, used in gas.items():
            budget = GAS_BUDGETS.get(op)
            before = snapshot.get(op)
            note = ""
            if op in over:
                note = "OVER BUDGET"
            elif op in diff.increased:
                note = f"+{used - diff.increased[op][0]} vs snapshot"
            elif op in diff.decreased:
                note = f"-{diff.decreased[op][0] - used} vs snapshot"
            elif op in diff.added:
                note = "not in snapshot"
            rows.append((op, f"{used:,}", f"{budget:,}" if budget else "", f"{before:,}" if before else "", note))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        for row in rows:
            click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        for op in diff.missing:
            click.echo(f"{op}: in the snapshot but no longer measured")
    if check and (over or not diff.ok):
        raise click.exceptions.Exit(1)
