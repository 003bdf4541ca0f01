"""``pkr-pilot node``: a persistent local anvil in the foreground, resumed from its state file."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from ._context import CliContext, pass_cli

if TYPE_CHECKING:
    from ..chain import AnvilNode

__all__ = ["node_command"]


@click.command("node")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8545, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--chain-id", default=31337, show_default=True, type=click.IntRange(min=1), help="Chain id.")
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="State file: loaded at start, written on exit (default .pkr-pilot/node/state.json).",
)
@click.option("--fresh", is_flag=True, help="Start a new chain; the old state file is kept as <file>.prev.")
@click.option("--state-interval", type=click.IntRange(min=1), help="Also save the state every N seconds (survives a crash).")
@click.option("--block-time", type=click.IntRange(min=1), help="Mine a block every N seconds instead of one per transaction.")
@click.option("--no-mining", is_flag=True, help="Mine only on request (evm_mine / anvil_mine).")
@pass_cli
def node_command(
    cli: CliContext,
    host: str,
    port: int,
    chain_id: int,
    state_file: Path | None,
    fresh: bool,
    state_interval: int | None,
    block_time: int | None,
    no_mining: bool,
) -> None:
    """Run a local anvil node until Ctrl-C; running it again resumes the same chain.

    Other commands reach it with --network localhost (http://127.0.0.1:8545).
    """
    from ..accounts import DEV_ACCOUNT_COUNT, dev_addresses
    from ..chain import AnvilNode, AnvilOptions
    from ..errors import ChainError

    project = cli.project()
    state = (state_file or project.paths.state / "node" / "state.json").expanduser().absolute()
    if fresh and state.exists():
        previous = state.with_name(state.name + ".prev")
        from .._files import move_durably

        move_durably(state, previous)
        click.echo(f"fresh start: the old state is kept in {_show(previous)}")
    resuming = state.exists()
    options = AnvilOptions(
        chain_id=chain_id,
        host=host,
        port=port,
        state_file=state,
        state_interval=state_interval,
        block_time=block_time,
        no_mining=no_mining,
    )
    node = AnvilNode.for_project(project, options)
    with _stop_signals_interrupt():
        try:
            with node:  # stopped gracefully (state saved) however the block ends
                _print_banner(node, project.compiler.hardfork, state, resuming, dev_addresses(DEV_ACCOUNT_COUNT))
                code = node.wait()
        except KeyboardInterrupt:
            click.echo(f"\nstopped; state saved in {_show(state)}")
            return
    if code != 0:
        tail = " | ".join(line.strip() for line in node.output_tail(3) if line.strip())
        raise ChainError(f"anvil exited with code {code}: {tail or 'no output'}", hint=f"see {node.log_file}")
    click.echo(f"anvil stopped; state saved in {_show(state)}")


def _print_banner(node: AnvilNode, hardfork: str, state: Path, resuming: bool, addresses: tuple[str, ...]) -> None:
    from ..config import DEV_CHAIN_IDS

    options = node.options
    block = int(node.rpc("eth_blockNumber"), 16)
    if options.no_mining:
        mining = "on request only (evm_mine)"
    elif options.block_time:
        mining = f"a block every {options.block_time} s"
    else:
        mining = "automine"
    click.echo(f"pkr-pilot node: {node.url}")
    click.echo(f"  chain id  {options.chain_id} (hardfork {hardfork})")
    click.echo(f"  state     {_show(state)} " + (f"(resumed at block {block})" if resuming else "(new chain)"))
    click.echo(f"  log       {_show(node.log_file) if node.log_file else '-'}")
    click.echo(f"  mining    {mining}")
    if options.chain_id in DEV_CHAIN_IDS:
        click.echo("dev accounts (public test keys; --account dev:N works on this chain only):")
    else:
        click.echo(f"dev accounts (chain id {options.chain_id} is not a dev chain id: dev:N keys will be refused):")
    for index, address in enumerate(addresses):
        click.echo(f"  dev:{index:<2} {address}")
    click.echo("Ctrl-C to stop (the chain state is saved on the way out).")


def _show(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@contextmanager
def _stop_signals_interrupt() -> Iterator[None]:
    """SIGINT and SIGTERM raise KeyboardInterrupt while the node runs, so the state gets saved.

    SIGINT is set explicitly because a shell starts background jobs with it ignored;
    SIGTERM because service managers stop with it.
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = {
            signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
            signal.SIGTERM: signal.signal(signal.SIGTERM, interrupt),
        }
    except ValueError:  # not in the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
