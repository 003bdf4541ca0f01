"""`pkr-pilot deploy` through each fault of the proxy: one stack, every contract once, no traceback.

Each cell runs the CLI with the fault scripted, then (fault cleared) the same command again until it
completes, then once more (it must send nothing). The chain must then look exactly like a clean deploy's
(addresses, role holders, allowances, settings, every dev account's nonce, event counts), except in
the nonce-gap cell where an empty transfer fills the gap (so later addresses move by one nonce).
A run the fault stops must end with a one-line error (no traceback) and the re-run must finish it.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest
from deploy_env import dev, stack_state
from drill_rig import Rig
from faultproxy import (
    DropResponse,
    Duplicate,
    Fault,
    HttpError,
    Lag,
    NonceGap,
    NullReceipts,
    Timeout,
)

DEPLOY = ("deploy", "--account", "dev:0", "--yes")


def _deploy(rig: Rig) -> subprocess.CompletedProcess[str]:
    return rig.pkr(*DEPLOY, "--network", rig.network)


def _settle(rig: Rig, first: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """After a faulted run: no traceback; re-run until done (at most twice); a third run sends nothing."""
    assert "Traceback" not in first.stderr, first.stderr[-3000:]
    outcome = "pass" if first.returncode == 0 else "stops-correctly"
    if first.returncode != 0:
        assert first.stderr.startswith("error: ") or "\nerror: " in first.stderr, first.stderr[-2000:]
    rig.proxy.clear()
    run = first
    for _ in range(2):
        if run.returncode == 0:
            break
        run = _deploy(rig)
        assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert run.returncode == 0, run.stderr[-3000:]
    again = rig.pkr(*DEPLOY, "--network", rig.network, "--json")
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["transactions"] == 0
    return {"outcome": outcome, "state": stack_state(rig.w3(), rig.folder)}


@pytest.fixture(scope="module")
def clean_state(drill_project: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The chain after an undisturbed deploy (the library call the CLI makes, in-process: quicker)."""
    from deploy_env import ChainHandle

    from pkr_pilot.chain import AnvilNode, AnvilOptions
    from pkr_pilot.deploy import run_deploy
    from pkr_pilot.tx import TxPolicy

    folder = tmp_path_factory.mktemp("clean-drill") / "dep"
    with AnvilNode.for_project(drill_project, AnvilOptions(), log=False) as node:
        from web3 import Web3

        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 30}))
        handle = ChainHandle(w3, drill_project.network(node.url))
        run_deploy(handle, dev(0), drill_project, deployments_dir=folder, policy=TxPolicy(timeout=20, poll_interval=0.02))
        return stack_state(w3, folder)


FAULTS: dict[str, Callable[[], Fault]] = {  # fresh fault objects per cell (they count their calls)
    "null-receipts": lambda: NullReceipts(times=40),
    "null-receipts-and-transactions-until-timeout": lambda: NullReceipts(skip=8, times=30, transactions=True),
    "dropped-response": lambda: DropResponse(skip=4),
    "duplicated-request": lambda: Duplicate(skip=6),
    "http-503": lambda: HttpError(status=503, skip=60, times=3),
    "timeout": lambda: Timeout(methods=("eth_sendRawTransaction",), skip=9, delay=1.0),
    "lagging-node": lambda: Lag(seconds=0.8),
}
REPRESENTATIVE: set[str] = set()  # make test runs the node-restart cell below; the rest is `make drills`


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=() if n in REPRESENTATIVE else (pytest.mark.slow,)) for n in FAULTS]
)
def test_deploy_through_a_fault_ends_with_one_clean_stack(rig: Rig, clean_state: dict[str, Any], name: str) -> None:
    rig.proxy.add(FAULTS[name]())
    first = _deploy(rig)
    assert sum(rig.proxy.injected.values()) > 0, "the fault never fired"
    result = _settle(rig, first)
    assert result["state"] == clean_state, name


@pytest.mark.slow
def test_deploy_with_a_nonce_gap_fills_it_and_deploys_once(rig: Rig, clean_state: dict[str, Any]) -> None:
    rig.proxy.add(NonceGap(skip=8, times=1))
    first = _deploy(rig)
    assert rig.proxy.injected["NonceGap"] == 1
    result = _settle(rig, first)
    state = result["state"]
    for key in ("supply_cap", "max_age", "reserves", "minter_events", "role_grant_events", "desk_grant_events"):
        assert state[key] == clean_state[key], key
    assert len(set(state["addresses"].values())) == len(set(clean_state["addresses"].values()))
    assert state["nonces"][0] == clean_state["nonces"][0] + 1  # one empty transfer filled the gap


@pytest.mark.slow  # make drills; make test keeps tests/deploy's restart-from-state case and disburse's node restarts
def test_node_restart_losing_receipts_mid_deploy(rig: Rig, clean_state: dict[str, Any]) -> None:
    """anvil is stopped mid-deploy (state dumped) and restarted from its state file; receipts of what it mined are lost."""
    child = subprocess.Popen(rig.command(*DEPLOY, "--network", rig.network), env=rig.env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    journal = rig.folder / ".journal.jsonl"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert time.monotonic() < deadline, "the deploy did not progress"
            lines = [json.loads(x) for x in journal.read_text().splitlines() if x.strip()] if journal.exists() else []
            if sum(1 for x in lines if x.get("event") == "sent") >= 10:
                break
            assert child.poll() is None, child.communicate()[1][-2000:]
            time.sleep(0.02)
        rig.node.restart()
        rig.proxy.forget({str(x["tx"]) for x in lines if x.get("event") in ("sending", "sent")})
        _out, err = child.communicate(timeout=180)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    first = subprocess.CompletedProcess(child.args, child.returncode, _out, err)
    result = _settle(rig, first)
    assert result["state"] == clean_state


@pytest.mark.slow
def test_chain_reverted_to_before_mined_transactions(rig: Rig, clean_state: dict[str, Any]) -> None:
    genesis = rig.node.rpc("evm_snapshot")
    first = _deploy(rig)
    assert first.returncode == 0, first.stderr[-2000:]
    assert rig.node.rpc("evm_revert", [genesis]) is True  # every deploy transaction is gone from the chain
    again = _deploy(rig)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr[-2000:]
    assert "dev chain was reset" in again.stdout + again.stderr  # nothing it recorded is on chain any more
    result = _settle(rig, again)
    assert result["state"] == clean_state
    assert rig.w3().eth.get_transaction_count(dev(0).address) == clean_state["nonces"][0]
