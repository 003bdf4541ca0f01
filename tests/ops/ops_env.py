"""Shared pieces of the operations tests: dev accounts, a private anvil, the deployed-stack handle.

``conftest.py`` builds the fixtures from these; test modules import the constants and helpers.

Dev accounts (``dev_default_config``): 0 deployer/admin/upgrader, 1 minter admin, 2 pauser and
unpauser, 3 freezer, 4 seizer, 5 attestor, 6 burner, 7 KYC + desk checker, 8 minter + desk checker,
9 desk maker; 10, 11, 14, 15 are plain holders (12 proposer, 13 executor of the governed stack).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3

from pkr_pilot.chain import AnvilNode, AnvilOptions, web3_for_url
from pkr_pilot.config import NetworkConfig, Project, load_project
from pkr_pilot.contracts import Stack
from pkr_pilot.tx import TxPolicy

ROOT = Path(__file__).resolve().parents[2]
ANVIL = ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
MNEMONIC = "test test test test test test test test test test test junk"
N_ACCOUNTS = 16

DEPLOYER, MINTER_ADMIN, PAUSER, FREEZER, SEIZER, ATTESTOR, BURNER, KYC, MINTER, MAKER = range(10)
CHECKER_A, CHECKER_B = KYC, MINTER
ALICE, BOB, CAROL, OUTSIDER = 10, 11, 14, 15
PROPOSER, EXECUTOR = 12, 13
TIMELOCK_DELAY = 3_600

_ACCOUNTS: dict[int, Any] = {}


def acct(index: int) -> Any:
    """The dev account ``index`` of anvil's public test mnemonic (a LocalAccount: a TxSigner)."""
    if index not in _ACCOUNTS:
        Account.enable_unaudited_hdwallet_features()
        _ACCOUNTS[index] = Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return _ACCOUNTS[index]


def addr(index: int) -> str:
    return str(acct(index).address)


@dataclass
class Node:
    """A private anvil (a :class:`~pkr_pilot.chain.AnvilNode`) and a Web3 on it."""

    anvil: AnvilNode
    w3: Web3

    @property
    def url(self) -> str:
        return self.anvil.url

    def rpc(self, method: str, *params: Any) -> Any:
        return self.anvil.rpc(method, list(params), timeout=30)

    def stop(self) -> None:
        self.anvil.stop()


def start_anvil(*extra: str) -> Node:
    anvil = AnvilNode(ANVIL, AnvilOptions(accounts=N_ACCOUNTS, extra_args=extra)).start()
    return Node(anvil, web3_for_url(anvil.url))


NETWORK_TOML = """
[compiler]
solc_version = "0.8.28"
evm_version = "cancun"
optimizer = true
optimizer_runs = {runs}
via_ir = false

[networks.opsnet]
url = "{url}"
chain_id = 31337
confirmations = 1
timeout = 20

[networks.opsnet.accounts]
default = "dev:0"
minter = "dev:8"
freezer = "dev:3"
seizer = "dev:4"
pauser = "dev:2"
unpauser = "dev:2"
attestor = "dev:5"
burner = "dev:6"
minter_admin = "dev:1"
kyc = "dev:7"
maker = "dev:9"
checker = "dev:7"
admin = "dev:0"

[networks.opsgov]
url = "{url}"
chain_id = 31337
timeout = 20

[networks.opsgov.accounts]
default = "dev:0"
proposer = "dev:12"
executor = "dev:13"
pauser = "dev:2"
"""


@dataclass(frozen=True)
class ChainHandle:
    """What pkr_pilot.deploy needs from a chain handle (stand-in until pkr_pilot.chain is used)."""

    w3: Web3
    network: NetworkConfig
    chain_id: int
    is_dev: bool = True


@dataclass
class StackEnv:
    """The deployed stacks and everything a test needs to act on them."""

    node: Node
    root: Path
    project: Project
    stack: Stack
    gov: Stack

    @property
    def w3(self) -> Web3:
        return self.node.w3

    @property
    def token(self) -> Any:
        return self.stack.token

    def nonce(self, index: int) -> int:
        return int(self.w3.eth.get_transaction_count(addr(index), "pending"))  # type: ignore[arg-type]

    def journal_path(self, network: str = "opsnet") -> Path:
        return self.root / "deployments" / network / "operations.jsonl"

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])


def deploy(node: Node, root: Path, real_project: Project, compiled: Any, network: str, config: Any) -> Stack:
    """Deploy ``config`` with pkr_pilot.deploy into ``root/deployments/<network>``; the Stack."""
    from pkr_pilot.deploy import RecordStore, run_deploy

    project = load_project(root, env={})
    chain = ChainHandle(node.w3, project.network(network), 31337)
    folder = root / "deployments" / network
    # Two stacks (opsnet, opsgov) on one chain on purpose: new_stack.
    run_deploy(chain, acct(DEPLOYER), real_project, config, deployments_dir=folder, compiled=compiled,
               policy=TxPolicy(timeout=30), new_stack=True)
    records = {r.name: r for r in RecordStore(folder, network).records()}
    return Stack.from_deployment(node.w3, records)
