#!/usr/bin/env python3
"""The pilot demo behind `make demo`: the whole product in one short run.

1. compile contracts/ (cached: a second run starts no solc);
2. start an ephemeral local anvil and deploy the token stack with the built-in
   dev configuration (every role on its own dev account);
3. operate it the way the pilot team would: mint on a bank deposit, a payment,
   a full freeze on a compliance alert (and the refused transfer it causes),
   a partial freeze, a redemption burn, a seizure on a court order;
4. print the status and reconcile the books;
5. run the small pilot scenario and print where its report is.

Everything goes through the library: copy and adapt freely.

    python scripts/demo.py                                 # what `make demo` runs
    ape run demo --network ethereum:local:foundry          # steps 2-4 on the node Ape started
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from pkr_pilot import ops
from pkr_pilot.accounts import dev_account
from pkr_pilot.amounts import format_amount
from pkr_pilot.ape_bridge import network_for, run_script
from pkr_pilot.chain import connect
from pkr_pilot.compile import compile_project
from pkr_pilot.config import load_project
from pkr_pilot.contracts import Stack
from pkr_pilot.deploy import deploy_stack
from pkr_pilot.errors import ContractRevert
from pkr_pilot.ops import OperationsJournal, Operator, RunOptions
from pkr_pilot.reports.reconcile import reconcile
from pkr_pilot.sim import run_scenario_file
from pkr_pilot.tx import Sender, TxPolicy

YES = RunOptions(yes=True)
CITIZEN, MERCHANT, SUSPECT = 11, 12, 13  # extra accounts of the dev mnemonic (no roles)


def main(network: str = "local") -> int:
    started = time.monotonic()
    project = load_project()

    t0 = time.monotonic()
    built = compile_project(project)
    how = "cache hit, no solc run" if built.cached else "compiled"
    print(f"[1/5] compile: {len(built.artifacts)} contracts ({how}) in {1000 * (time.monotonic() - t0):.0f} ms")

    # The node is throw-away, so is the operations journal: keep both for this run only.
    with connect(project, network) as chain, tempfile.TemporaryDirectory(prefix="pkr-demo-") as journal_dir:
        print(f"[2/5] local node: {chain.kind} at {chain.url}, chain id {chain.chain_id}")
        deployer = dev_account(0, chain_id=chain.chain_id)
        t0 = time.monotonic()
        deployment = deploy_stack(chain, deployer, project, compiled=built)
        stack = Stack.from_deployment(chain.w3, deployment)
        token = stack.token
        decimals = token.decimals
        print(f"      deployed in {time.monotonic() - t0:.2f} s:")
        for name, record in sorted(deployment.contracts.items()):
            print(f"        {name:<22} {record.address}")

        def operator(index: int) -> Operator:
            signer = dev_account(index, chain_id=chain.chain_id)
            sender = Sender(chain.w3, signer, decoder=stack.decoder, policy=TxPolicy.from_network(chain.network))
            return Operator(stack, sender, OperationsJournal.in_folder(Path(journal_dir)), network=chain.network.name)

        def show(result: ops.OperationResult) -> None:
            text = ", ".join(f"{k}={v}" for k, v in result.display.items())
            print(f"        {result.action:<16} {text}  (tx {(result.tx_hash or '')[:12]}…, gas {result.gas_used:,})")

        minter, freezer, seizer, burner_bank = operator(8), operator(3), operator(4), operator(8)
        citizen, merchant, suspect = (dev_account(i, chain_id=chain.chain_id) for i in (CITIZEN, MERCHANT, SUSPECT))
        gas_money = Sender(chain.w3, deployer, policy=TxPolicy.from_network(chain.network))
        for wallet in (citizen, suspect):  # holders pay their own gas
            gas_money.transact({"to": wallet.address, "value": 10**18})

        print("[3/5] operations")
        show(ops.mint(minter, citizen.address, "25,000.00", ref="DEMO-DEPOSIT-001", options=YES))
        show(ops.mint(minter, suspect.address, "9,999.99", ref="DEMO-DEPOSIT-002", options=YES))
        show(ops.transfer(operator(CITIZEN), merchant.address, "1,250.50", ref="DEMO-PAY-001", options=YES))
        show(ops.freeze(freezer, suspect.address, ref="DEMO-ALERT-17", options=YES))
        try:
            ops.transfer(operator(SUSPECT), merchant.address, "100", ref="DEMO-PAY-002", options=YES)
        except ContractRevert as refused:
            print(f"        transfer by the frozen account refused before sending: {refused.signature_text}")
        show(ops.freeze_amount(freezer, citizen.address, "500", ref="DEMO-ALERT-18", options=YES))
        show(ops.seize(seizer, suspect.address, burner_bank.address, "9,999.99", ref="DEMO-COURT-ORDER-3", options=YES))
        show(ops.burn(burner_bank, "9,999.99", ref="DEMO-REDEEM-001", options=YES))

        report = ops.status(stack)
        print("[4/5] status")
        print(f"        supply {format_amount(report.total_supply, decimals=decimals)} PKRP, "
              f"reserves {format_amount(report.reserves.amount, decimals=decimals)} PKRP, "
              f"paused={report.paused}")
        for who in (citizen, merchant, suspect):
            bal = ops.balance(stack, who.address)
            print(f"        {who.address}  balance {format_amount(bal.balance, decimals=decimals):>12}  "
                  f"frozen {format_amount(bal.frozen_amount, decimals=decimals):>10}  full-freeze={bal.fully_frozen}")
        books = reconcile(token)
        verdict = "the books balance" if books.ok else "MISMATCH"
        print(f"        reconcile: {verdict} ({len(books.checks)} checks at block {books.block})")
        if not books.ok:
            return 8

    print("[5/5] pilot scenario (scripts/scenarios/small.toml) on a fresh throw-away node")
    t0 = time.monotonic()
    result = run_scenario_file(project, project.paths.root / "scripts/scenarios/small.toml", compiled=built)
    figures = result.summary["figures"]
    print(f"        {'ok' if result.ok else 'NOT OK'} in {time.monotonic() - t0:.1f} s: "
          f"{figures['failures']['unexpected_total']} unexpected failures, books "
          f"{'balance' if result.reconcile.ok else 'DO NOT balance'}")
    print(f"        report: {result.out_dir / 'index.html'}")
    print(f"demo finished in {time.monotonic() - started:.1f} s")
    return 0 if result.ok else 1


if "ape" in sys.modules:  # `ape run demo`: on the dev node of Ape's --network
    import click
    from ape.cli import ConnectedProviderCommand

    @click.command(cls=ConnectedProviderCommand, short_help="The pilot demo")
    def cli(provider: object) -> None:
        run_script(lambda: main(network_for(load_project(), provider)))


if __name__ == "__main__":
    run_script(main)
