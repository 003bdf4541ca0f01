#!/usr/bin/env python3
"""Deploy the PilotRupee stack: a short, copyable script on top of pkr_pilot.deploy.

    python scripts/deploy.py --network localhost --account dev:0
    python scripts/deploy.py --network besu-pilot --account keystore:deployer --config deploy/besu-pilot.toml

It does what `pkr-pilot deploy` does, in plain Python you can adapt: load the project, connect,
pick the deploy config, unlock the deployer, run the resumable deploy, print the addresses.
Re-running it finishes an interrupted deploy, or reports "up to date".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pkr_pilot.accounts import load_account
from pkr_pilot.chain import connect
from pkr_pilot.config import load_project
from pkr_pilot.deploy import Progress, resolve_deploy_config, run_deploy
from pkr_pilot.errors import PilotError


def show(event: Progress) -> None:
    if event.status in ("sent", "recovered", "applied"):
        print(f"[{event.index}/{event.total}] {event.title}: {event.status} {event.tx_hash or ''}", file=sys.stderr)
    elif event.status == "notice":
        print(f"note: {event.detail}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--network", required=True, help="network name from pkr-pilot.toml, or a JSON-RPC URL")
    parser.add_argument("--account", required=True, help="keystore:NAME, or dev:N on a local dev chain")
    parser.add_argument("--config", type=Path, help="deploy config TOML (default deploy/<network>.toml)")
    parser.add_argument("--upgrade", action="store_true", help="upgrade a changed implementation")
    args = parser.parse_args()

    project = load_project()
    with connect(project, args.network) as chain:
        config = resolve_deploy_config(project, chain.network.deployments_name, path=args.config, is_dev=chain.is_dev)
        deployer = load_account(project, args.account, chain_id=chain.chain_id)  # password: $PKR_PILOT_PASSWORD
        result = run_deploy(chain, deployer, project, config, progress=show, upgrade=args.upgrade)

    print("up to date" if result.up_to_date else f"{result.transactions_sent} transactions in {result.seconds:.1f} s")
    for name, contract in result.deployment.contracts.items():
        print(f"{name}: {contract.address}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except PilotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
