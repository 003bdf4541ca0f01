"""``pkr-pilot simulate``: run a pilot scenario and write its report (parsing and rendering only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._context import CliContext, pass_cli

if TYPE_CHECKING:
    from ..sim import Progress, SimResult

__all__ = ["simulate_command"]


@click.command("simulate")
@click.argument("scenario_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--network", "network_name", default="local", show_default=True, help="Network name or JSON-RPC URL (default: a throw-away anvil).")
@click.option("--seed", type=click.IntRange(min=0), help="Seed of the run (default: the scenario's).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Report folder (default: reports/<scenario>-<seed>/).")
@click.option("--state-in", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Start the throw-away anvil from this saved chain state.")
@click.option("--state-out", type=click.Path(dir_okay=False, path_type=Path), help="Save the chain state after the run (anvil's --state format).")
@click.option("--funder", "funder_spec", help="Account paying participants' gas: keystore NAME (default: dev:0 on a dev chain).")
@click.option("--prune-history", type=click.IntRange(min=1), help="Throw-away anvil keeps only the last N states in memory (bounded memory on long runs; the reconcile check at old blocks is then skipped).")
@click.option("--block-gas-limit", type=click.IntRange(min=1_000_000), help="Throw-away anvil's block gas limit (anvil --gas-limit; default 30,000,000). A pilot network sets its own in genesis; larger blocks hold a step's payments in fewer blocks.")
@click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout (and no progress on stderr).")
@pass_cli
def simulate_command(
    cli: CliContext,
    scenario_file: Path,
    network_name: str,
    seed: int | None,
    out_dir: Path | None,
    state_in: Path | None,
    state_out: Path | None,
    funder_spec: str | None,
    prune_history: int | None,
    block_gas_limit: int | None,
    as_json: bool,
) -> None:
    """Run SCENARIO_FILE (a scenario TOML) end to end and write its report folder."""
    from ..sim import load_scenario, simulate

    project = cli.project()
    scenario = load_scenario(scenario_file)
    funder = None
    if funder_spec is not None:
        funder = _funder(project, funder_spec)
    node_args: tuple[str, ...] = ()
    if prune_history is not None:
        node_args += ("--prune-history", str(prune_history))
    if block_gas_limit is not None:
        node_args += ("--gas-limit", str(block_gas_limit))
    show = _ProgressBar(scenario.steps, quiet=as_json)
    try:
        result = simulate(
            project, scenario, network=network_name, seed=seed, out_dir=out_dir, state_in=state_in,
            state_out=state_out, funder=funder, progress=show,
            node_args=node_args,
        )
    finally:
        show.close()
    if as_json:
        click.echo(json.dumps(result.summary, indent=2))
    else:
        _print_summary(result)
    click.echo(f"report: {_shown(result.files.index)}", err=as_json)
    _exit_status(result)


class _ProgressBar:
    """Setup lines, then one progress line over the steps (count, rate, ETA), on stderr; nothing with --json."""

    def __init__(self, steps: int, *, quiet: bool) -> None:
        from ..progress import ProgressLine

        self.line = ProgressLine("simulating: step", steps, quiet=quiet)

    def __call__(self, event: Progress) -> None:
        if event.phase == "step":
            if event.done == 0:
                self.line.restart()  # the steps' rate and ETA start after setup (minutes at national scale)
            else:
                self.line.update(event.done)
            return
        if event.phase == "report":
            self.line.close()
        self.line.note(f"{event.phase}: {event.message}" if event.phase == "setup" else event.message)

    def close(self) -> None:
        self.line.close()


def _print_summary(result: SimResult) -> None:
    s = result.summary
    from ..human import percent

    f = s["figures"]
    d = f["display"]
    fails = f["failures"]
    wall = s["wall_clock"]
    ch = s["chain"]
    lines = [
        f"scenario {s['scenario']['name']} (seed {s['scenario']['seed']}): {s['participants']['wallets']} wallets, "
        f"{ch['transactions']:,} transactions in {ch['blocks']:,} blocks, {wall['wall_seconds']:.1f} s",
        f"  supply {d['final_supply']}; attested reserves {d['attested_reserves']} "
        f"(collateralisation {percent(int(f['attested_reserves']), int(f['final_supply']))})",
        f"  minted {d['minted']}; burned {d['burned']}; seized {d['seized']} in {f['seizures']['count']} seizure(s)",
        f"  frozen wallets {f['frozen']['fully_frozen_accounts']}; failures: {fails['expected_total']} expected, "
        f"{fails['unexpected_total']} unexpected",
        f"  reconcile: {'ok' if s['reconcile']['ok'] else 'FAILED ' + ', '.join(s['reconcile']['failed'])}",
    ]
    click.echo("\n".join(lines))


def _exit_status(result: SimResult) -> None:
    from ..errors import ReconcileError

    if not result.reconcile.ok:
        result.reconcile.raise_for_mismatch()
    if result.unexpected_failures:
        first = result.summary["figures"]["failures"]["unexpected"][0]
        click.echo(
            f"error: {result.unexpected_failures} unexpected failure(s), first at step {first['step']}: "
            f"{first['kind']}: {first['error']} (see summary.json)",
            err=True,
        )
        raise click.exceptions.Exit(1)
    if not result.summary["figures"]["model_matches_chain"]:
        raise ReconcileError(
            "the simulator's model and the chain disagree: " + result.summary["figures"]["model_drift"][0]
        )


def _funder(project: Any, spec: str) -> Any:
    from ._context import load_signer

    def signer(chain_id: int) -> Any:
        return load_signer(project, spec, chain_id=chain_id, role="funder")

    return signer


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
