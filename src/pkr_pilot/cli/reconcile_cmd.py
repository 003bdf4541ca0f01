"""``pkr-pilot reconcile``: do the books balance? (parsing and rendering only)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ._context import CliContext, pass_cli

__all__ = ["reconcile_command"]


@click.command("reconcile")
@click.option("--network", "network_name", required=True, help="Network name from pkr-pilot.toml, or a JSON-RPC URL.")
@click.option("--events", "events_file", type=click.Path(dir_okay=False, path_type=Path), help="Reconcile this exported events file (CSV or JSON) against the chain.")
@click.option("--block", type=click.IntRange(min=0), help="Read the chain at this block (default: the head; with --events, the file's last block).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--deployment-dir", type=click.Path(file_okay=False, path_type=Path), help="Deployment records folder (default: deployments/<network>/).")
@pass_cli
def reconcile_command(
    cli: CliContext,
    network_name: str,
    events_file: Path | None,
    block: int | None,
    as_json: bool,
    deployment_dir: Path | None,
) -> None:
    """Check supply = minted - burned, supply <= reserves, freezes and balances; non-zero exit on a mismatch."""
    from ..chain import connect
    from ..errors import UserInputError
    from ..reports.events import open_events
    from ..reports.reconcile import reconcile
    from .events_cmd import load_stack

    if events_file is not None and block is not None:
        raise UserInputError("--block and --events exclude each other", hint="a file is reconciled at its last block")
    project = cli.project()
    with connect(project, network_name) as chain:
        stack = load_stack(project, chain, network_name, deployment_dir)
        events = open_events(events_file, stack.token.abi) if events_file is not None else None
        report = reconcile(
            stack.token, events=events, block=block, source=str(events_file) if events_file else None
        )
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(report.text())
    report.raise_for_mismatch()
