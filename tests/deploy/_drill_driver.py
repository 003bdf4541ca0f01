"""Child process for the crash drills: run the library deploy against a URL, print the result as JSON.

It calls exactly what ``pkr-pilot deploy`` calls (:func:`pkr_pilot.deploy.run_deploy`), with the
records folder given on the command line. The drills crash it from outside: its ``--url`` is a fault proxy
that SIGKILLs it at the point under test (``deploy_env.run_driver``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--config")
    parser.add_argument("--upgrade", action="store_true")
    args = parser.parse_args()

    from pkr_pilot.chain import web3_for_url
    from pkr_pilot.config import load_project
    from pkr_pilot.deploy import load_deploy_config, run_deploy
    from pkr_pilot.deploy._signers import dev_signer
    from pkr_pilot.errors import PilotError
    from pkr_pilot.tx import TxPolicy

    project = load_project(Path(args.root), env={})

    class Chain:
        w3 = web3_for_url(args.url)
        network = project.network(args.url)
        chain_id = 31337
        is_dev = True

    config = load_deploy_config(Path(args.config)) if args.config else None
    try:
        result = run_deploy(
            Chain(),
            dev_signer(0, chain_id=31337, dev_chain_ids={31337}),
            project,
            config,
            deployments_dir=Path(args.dir),
            upgrade=args.upgrade,
            policy=TxPolicy(timeout=20, poll_interval=0.02),
        )
    except PilotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(result.to_json()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
