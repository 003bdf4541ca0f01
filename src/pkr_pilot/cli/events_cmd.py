"""``pkr-pilot events export``: the token's events as CSV or JSON (parsing and rendering only)."""

from __future__ import annotations

import datetime as _dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._context import CliContext, pass_cli

if TYPE_CHECKING:
    from ..chain import Chain
    from ..config import Project
    from ..contracts import Stack

__all__ = ["events_group", "load_stack"]


@click.group("events")
def events_group() -> None:
    """Export the token's events (mints, burns, freezes, seizes, attestations, roles …)."""


@events_group.command("export")
@click.option("--network", "network_name", required=True, help="Network name from pkr-pilot.toml, or a JSON-RPC URL.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True, help="Output format.")
@click.option("--from-block", type=click.IntRange(min=0), help="First block (default: the token's deployment block).")
@click.option("--to-block", type=click.IntRange(min=0), help="Last block (default: the latest block).")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (atomically) instead of stdout.")
@click.option("--transfers", is_flag=True, help="Include the ERC-20 Transfer and Approval events.")
@click.option("--page", type=click.IntRange(min=1), default=5_000, show_default=True, help="Blocks per eth_getLogs request (halved automatically when the node refuses).")
@click.option("--deployment-dir", type=click.Path(file_okay=False, path_type=Path), help="Deployment records folder (default: deployments/<network>/).")
@pass_cli
def export_command(
    cli: CliContext,
    network_name: str,
    fmt: str,
    from_block: int | None,
    to_block: int | None,
    out_file: Path | None,
    transfers: bool,
    page: int,
    deployment_dir: Path | None,
) -> None:
    """Export every token event with block times, tx hashes, log indices, arguments and refs."""
    from ..chain import connect
    from ..reports.events import (
        events_csv_text,
        events_json,
        export_events,
        stream_events,
        write_events,
    )

    project = cli.project()
    exported_at = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    with connect(project, network_name) as chain:
        stack = load_stack(project, chain, network_name, deployment_dir)
        if out_file is not None:  # streamed to the file: any number of events in constant memory
            stream = stream_events(
                stack.token, from_block=from_block, to_block=to_block, include_transfers=transfers, page=page
            )
            counts = write_events(stream, out_file, fmt, exported_at=exported_at)
            click.echo(
                f"exported {sum(counts.values())} events of {stream.symbol} {stream.token} "
                f"(blocks {stream.from_block}..{stream.to_block}) to {out_file}",
                err=True,
            )
            return
        export = export_events(
            stack.token, from_block=from_block, to_block=to_block, include_transfers=transfers, page=page
        )
    if fmt == "csv":
        sys.stdout.write(events_csv_text(export))
    else:
        import json

        sys.stdout.write(json.dumps(events_json(export, exported_at=exported_at), indent=1) + "\n")
    sys.stdout.flush()


def load_stack(project: Project, chain: Chain, network_name: str, deployment_dir: Path | None) -> Stack:
    """The deployed stack of ``network_name`` (or of ``deployment_dir``), checked against the chain id.

    Without ``deployment_dir`` the records are those :func:`pkr_pilot.deploy.resolve_records` finds for
    the chain (for a URL: the folder that records its chain id and genesis hash).
    """
    from ..contracts import Stack
    from ..deploy import RecordStore, resolve_records
    from ..errors import ChainIdMismatch, DeploymentError

    name = chain.network.deployments_name
    folder = deployment_dir
    if folder is None:
        found, notice = resolve_records(project, chain, reading=True)
        if notice:
            click.echo(f"note: {notice}", err=True)
        name = found.network
        folder = found.folder if found.folder is not None else project.paths.network_deployments(name)
    store = RecordStore(folder, name)
    recorded = store.recorded_chain_id()
    records = {r.name: r for r in store.records()} if recorded is not None else {}
    if "PilotRupee" not in records:
        raise DeploymentError(
            f"no PilotRupee deployment recorded in {folder}",
            hint=f"run `pkr-pilot deploy --network {network_name}` first, or pass --deployment-dir",
        )
    if recorded != chain.chain_id:
        raise ChainIdMismatch(int(recorded or 0), chain.chain_id, where=f"the deployment in {folder}")
    return Stack.from_deployment(chain.w3, records)
