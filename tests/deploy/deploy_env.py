"""Helpers for the deploy tests (fixtures live in conftest.py): a frozen project copy compiled once, private anvils, state snapshots.

* ``project`` (session): a throw-away project root with a *copy* of ``contracts/`` and ``build/``
  (compiled once), ``node_modules`` linked. Other people editing the checkout's contracts while the
  suite runs cannot change what these tests deploy, and subprocesses reuse the same build (cache hit).
* ``anvil`` (function): a factory for private anvil nodes (:class:`~pkr_pilot.chain.AnvilNode` ; free port, automine, optional state file,
  restartable from it).
* :func:`stack_state`: what a finished deploy looks like on chain (addresses, role holders,
  allowances, settings, every dev account's nonce), to compare a resumed deploy with a clean one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from faultproxy import FaultProxy, Kill
from web3 import Web3

from pkr_pilot.chain import AnvilNode, AnvilOptions, web3_for_url
from pkr_pilot.config import NetworkConfig, Project

ROOT = Path(__file__).resolve().parents[2]
ANVIL = ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
DRIVER = Path(__file__).with_name("_drill_driver.py")
MNEMONIC = "test test test test test test test test test test test junk"


class Node:
    """A private anvil (a :class:`~pkr_pilot.chain.AnvilNode` on ``port``; from its state file when it has
    one) and a Web3 on it; ``restart()`` brings it back from that file."""

    def __init__(self, port: int, state_file: Path | None, extra: tuple[str, ...] = ()) -> None:
        options = AnvilOptions(port=port, state_file=state_file)
        if "--chain-id" in extra:  # AnvilNode passes its own --chain-id (anvil refuses two)
            at = extra.index("--chain-id")
            options = replace(options, chain_id=int(extra[at + 1]))
            extra = extra[:at] + extra[at + 2 :]
        self.anvil = AnvilNode(ANVIL, replace(options, extra_args=extra))
        self.port, self.state_file = port, state_file
        self.w3 = web3_for_url(self.url)

    @property
    def url(self) -> str:
        return self.anvil.url

    @property
    def extra(self) -> tuple[str, ...]:
        return self.anvil.options.extra_args

    @extra.setter
    def extra(self, args: tuple[str, ...]) -> None:  # taken by the next start
        self.anvil.options = replace(self.anvil.options, extra_args=args)

    def start(self) -> Node:
        self.anvil.start()
        return self

    def stop(self) -> None:
        """Stop with SIGINT (anvil writes its state file on the way out), mining left as it is."""
        self.anvil.stop(15, quiesce=False)

    def kill(self) -> None:
        self.anvil.kill()

    def restart(self) -> Node:
        self.stop()
        return self.start()

    def rpc(self, method: str, *params: Any) -> Any:
        return self.anvil.rpc(method, list(params), timeout=30)


@dataclass(frozen=True)
class ChainHandle:
    """What pkr_pilot.deploy needs from a chain (the shape of pkr_pilot.chain.Chain)."""

    w3: Web3
    network: NetworkConfig
    chain_id: int = 31337
    is_dev: bool = True


def chain_for(node: Node, project: Project) -> ChainHandle:
    return ChainHandle(node.w3, project.network(node.url))


def dev(index: int) -> Any:
    from pkr_pilot.deploy._signers import dev_signer

    return dev_signer(index, chain_id=31337, dev_chain_ids={31337})


#: Where the drills crash a deploy: what the child's journal (fsynced before each call) ends with, at which
#: calls, and whether the call reaches the node first. ``before-send``: ``planned`` written, the simulation
#: next; ``after-sign``: ``sending`` written (signed), never submitted; ``after-send``: submitted, the answer
#: never heard; ``after-confirm``: ``confirmed`` written, at the next call.
CRASH_POINTS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "before-send": ("planned", (), False),
    "after-sign": ("sending", ("eth_sendRawTransaction",), False),
    "after-send": ("sending", ("eth_sendRawTransaction",), True),
    "after-confirm": ("confirmed", (), False),
}


def crash_fault(folder: Path, step: str, point: str) -> Kill:
    """The fault proxy's :class:`Kill` for ``<step>:<point>`` of a deploy journaling into ``folder``."""
    event, methods, forward = CRASH_POINTS[point]

    def at_point() -> bool:
        try:
            last = journal_lines(folder)[-1]
        except (OSError, ValueError, IndexError):  # not written yet, or a line half written
            return False
        return bool(last.get("step") == step and last.get("event") == event)

    return Kill(methods=methods, when=at_point, forward=forward)


def run_driver(node: Node, project: Project, folder: Path, *, crash_at: str | None = None,
               config: Path | None = None, upgrade: bool = False, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the deploy in a child process (tests/deploy/_drill_driver.py).

    ``crash_at="<step>:<point>"``: the child talks to the node through a fault proxy that SIGKILLs it
    there (:data:`CRASH_POINTS`); production code carries no crash hook.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    proxy = FaultProxy(node.url) if crash_at is not None else None
    kill = None
    if proxy is not None and crash_at is not None:
        step, point = crash_at.rsplit(":", 1)
        kill = crash_fault(folder, step, point)
        proxy.add(kill)
    url = proxy.url if proxy is not None else node.url
    args = [sys.executable, str(DRIVER), "--root", str(project.paths.root), "--url", url, "--dir", str(folder)]
    if config is not None:
        args += ["--config", str(config)]
    if upgrade:
        args.append("--upgrade")
    try:
        child = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if kill is not None:
            kill.pid = child.pid
        try:
            out, err = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            out, err = child.communicate()
        return subprocess.CompletedProcess(args, child.returncode, out, err)
    finally:
        if proxy is not None:
            proxy.close()


def stack_state(w3: Web3, folder: Path, network: str = "drill") -> dict[str, Any]:
    """The on-chain picture of a deployed stack, for equality between a clean and a resumed deploy."""
    from pkr_pilot.contracts import Desk, Token
    from pkr_pilot.deploy import RecordStore

    store = RecordStore(folder, network)
    records = {r.name: r for r in store.records()}
    token_rec = records["PilotRupee"]
    token = Token(w3, token_rec.address, token_rec.abi)
    state: dict[str, Any] = {
        "addresses": {name: r.address for name, r in sorted(records.items())},
        "implementation": token_rec.implementation,
        "token_roles": {k: sorted(v) for k, v in sorted(token.role_holders().items())},
        "admin": token.default_admin(),
        "supply_cap": token.supply_cap(),
        "max_age": token.max_attestation_age(),
        "reserves": token.reserves().amount,
        "nonces": [int(w3.eth.get_transaction_count(dev(i).address)) for i in range(10)],  # type: ignore[arg-type]
    }
    minters = {str(e.args["minter"]) for e in token.events(("MinterConfigured",))}
    state["minters"] = {m: token.minter_allowance(m) for m in sorted(minters)}
    state["minter_events"] = len(token.events(("MinterConfigured",)))
    state["role_grant_events"] = len(token.events(("RoleGranted",)))
    if "MintDesk" in records:
        desk = Desk(w3, records["MintDesk"].address, records["MintDesk"].abi)
        state["desk_roles"] = {k: sorted(v) for k, v in sorted(desk.role_holders().items())}
        state["desk_grant_events"] = len(desk.events(("RoleGranted",)))
    return state


def journal_lines(folder: Path) -> list[dict[str, Any]]:
    path = folder / ".journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
