#!/usr/bin/env python3
"""Deploy the PilotRupee stack: a short, copyable script on top of pkr_pilot.deploy.

    python scripts/deploy.py --network localhost --account dev:0
    python scripts/deploy.py --network besu-pilot --account keystore:deployer --config deploy/besu-pilot.toml
    ape run deploy --network ethereum:local:foundry --account TEST::0
    ape run deploy --network http://127.0.0.1:8545 --account deployer      # an Ape keyfile account

It does what `pkr-pilot deploy` does, in plain Python you can adapt: load the project, connect,
pick the deploy config, unlock the deployer, run the resumable deploy, print the addresses.
Re-running it finishes an interrupted deploy, or reports "up to date". Either way the records go
to deployments/<network>/, so `pkr-pilot verify`, ops and reconcile work on the result.
Keystore passwords: $PKR_PILOT_PASSWORD, else a hidden prompt.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from pkr_pilot.accounts import PASSWORD_ENV, load_account
from pkr_pilot.ape_bridge import account_spec, network_for, run_script
from pkr_pilot.chain import connect
from pkr_pilot.config import load_project
from pkr_pilot.deploy import resolve_deploy_config, run_deploy
from pkr_pilot.progress import Progress


def show(event: Progress) -> None:
    if event.phase == "notice":
        print(f"note: {event.message}", file=sys.stderr)
    elif event.phase in ("sent", "recovered", "applied"):
        print(f"[{event.done}/{event.total}] {event.message}", file=sys.stderr)


def password(name: str) -> str:
    return os.environ.get(PASSWORD_ENV) or getpass.getpass(f"Password for {name}: ")


def deploy(network: str, account: str, config: Path | None = None, upgrade: bool = False) -> int:
    project = load_project()
    with connect(project, network) as chain:
        deploy_config = resolve_deploy_config(project, chain.network.deployments_name, path=config, is_dev=chain.is_dev)
        deployer = load_account(project, account, chain_id=chain.chain_id, password=password)
        result = run_deploy(chain, deployer, project, deploy_config, progress=show, upgrade=upgrade)

    print("up to date" if result.up_to_date else f"{result.transactions_sent} transactions in {result.seconds:.1f} s")
    for name, contract in result.deployment.contracts.items():
        print(f"{name}: {contract.address}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--network", required=True, help="network name from pkr-pilot.toml, or a JSON-RPC URL")
    parser.add_argument("--account", required=True, help="keystore:NAME, ape:ALIAS, or dev:N on a local dev chain")
    parser.add_argument("--config", type=Path, help="deploy config TOML (default deploy/<network>.toml)")
    parser.add_argument("--upgrade", action="store_true", help="upgrade a changed implementation")
    args = parser.parse_args()
    return deploy(args.network, args.account, args.config, args.upgrade)


if "ape" in sys.modules:  # `ape run deploy`: Ape's --network and --account options
    import click
    from ape.cli import ConnectedProviderCommand, account_option

    @click.command(cls=ConnectedProviderCommand, short_help="Deploy the PilotRupee stack")
    @account_option()
    @click.option("--config", type=click.Path(path_type=Path), help="deploy config TOML")
    @click.option("--upgrade", is_flag=True, help="upgrade a changed implementation")
    def cli(provider: object, account: object, config: Path | None, upgrade: bool) -> None:
        run_script(lambda: deploy(network_for(load_project(), provider), account_spec(account), config, upgrade))


if __name__ == "__main__":
    run_script(main)
