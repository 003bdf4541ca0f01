"""Fixtures for the operations tests: a private anvil, the stack deployed once, a fresh chain per test.

* ``node`` (session): anvil on a free port, automine, 16 funded dev accounts.
* ``ops_root`` (session): a throw-away project root (``pkr-pilot.toml`` with a network ``opsnet``
  pointing at the node, ``contracts`` linked to the checkout) so CLI tests write their deployment
  records and journal there, never into the checkout's ``deployments/``.
* ``stack_env`` (session): the dev-default stack (token, desk) deployed by ``pkr_pilot.deploy`` into
  ``deployments/opsnet``, and a second stack with the timelock on (``deployments/opsgov``).
* ``env`` (per test): an ``evm_snapshot`` taken before and reverted after the test, and an empty
  operations journal.

Dev accounts (``dev_default_config``): 0 deployer/admin/upgrader, 1 minter admin, 2 pauser and
unpauser, 3 freezer, 4 seizer, 5 attestor, 6 burner, 7 KYC + desk checker, 8 minter + desk checker,
9 desk maker; 10-15 are plain holders here (12 proposer, 13 executor of the governed stack).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from pkr_pilot.config import NetworkConfig, Project, load_project
from pkr_pilot.contracts import Stack
from pkr_pilot.ops import Journal, Operator
from pkr_pilot.tx import Sender, TxPolicy

ROOT = Path(__file__).resolve().parents[2]
ANVIL = ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
MNEMONIC = "test test test test test test test test test test test junk"
N_ACCOUNTS = 16

# Roles of the dev-default deploy config, by dev index.
DEPLOYER, MINTER_ADMIN, PAUSER, FREEZER, SEIZER, ATTESTOR, BURNER, KYC, MINTER, MAKER = range(10)
CHECKER_A, CHECKER_B = KYC, MINTER
ALICE, BOB, CAROL, OUTSIDER = 10, 11, 14, 15
PROPOSER, EXECUTOR = 12, 13
TIMELOCK_DELAY = 3_600


def dev_account(index: int) -> Any:
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


_ACCOUNTS: dict[int, Any] = {}


def acct(index: int) -> Any:
    if index not in _ACCOUNTS:
        _ACCOUNTS[index] = dev_account(index)
    return _ACCOUNTS[index]


def addr(index: int) -> str:
    return str(acct(index).address)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Node:
    """A private anvil process."""

    url: str
    proc: subprocess.Popen[bytes]
    w3: Web3

    def rpc(self, method: str, *params: Any) -> Any:
        response = self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        if "error" in response:
            raise RuntimeError(f"{method} failed: {response['error']}")
        return response["result"]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_anvil(*extra: str) -> Node:
    port = free_port()
    proc = subprocess.Popen(
        [str(ANVIL), "--hardfork", "cancun", "--port", str(port), "--accounts", str(N_ACCOUNTS),
         "--mnemonic", MNEMONIC, "--silent", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
    deadline = time.monotonic() + 20
    while True:
        try:
            if w3.is_connected():
                w3.eth.block_number  # noqa: B018 - the node answers
                return Node(url, proc, w3)
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("anvil did not start")
        time.sleep(0.1)


@dataclass(frozen=True)
class _ChainLike:
    """What pkr_pilot.deploy needs from a chain handle."""

    w3: Web3
    network: NetworkConfig
    chain_id: int
    is_dev: bool = True


@pytest.fixture(scope="session")
def node() -> Iterator[Node]:
    n = start_anvil()
    try:
        yield n
    finally:
        n.stop()


@pytest.fixture(scope="session")
def real_project() -> Project:
    return load_project(ROOT, env={})


@pytest.fixture(scope="session")
def compiled(real_project: Project) -> Any:
    from pkr_pilot.compile import compile_project

    return compile_project(real_project)


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


@pytest.fixture(scope="session")
def ops_root(tmp_path_factory: pytest.TempPathFactory, node: Node, real_project: Project) -> Path:
    root = tmp_path_factory.mktemp("opsroot")
    runs = real_project.compiler.optimizer_runs
    (root / "pkr-pilot.toml").write_text(NETWORK_TOML.format(url=node.url, runs=runs))
    (root / "contracts").symlink_to(ROOT / "contracts")
    (root / "node_modules").symlink_to(ROOT / "node_modules")
    return root


@dataclass
class StackEnv:
    """The deployed stacks and everything a test needs to act on them."""

    node: Node
    root: Path
    project: Project
    stack: Stack
    gov: Stack
    token_block: int

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


def _deploy(node: Node, root: Path, real_project: Project, compiled: Any, network: str, config: Any) -> Stack:
    from pkr_pilot.deploy import RecordStore, run_deploy

    project = load_project(root, env={})
    net = project.network(network)
    chain = _ChainLike(node.w3, net, 31337)
    folder = root / "deployments" / network
    run_deploy(chain, acct(DEPLOYER), real_project, config, deployments_dir=folder, compiled=compiled,
               policy=TxPolicy(timeout=30))
    records = {r.name: r for r in RecordStore(folder, network).records()}
    return Stack.from_deployment(node.w3, records)


@pytest.fixture(scope="session")
def stack_env(node: Node, ops_root: Path, real_project: Project, compiled: Any) -> StackEnv:
    from pkr_pilot.deploy import dev_default_config
    from pkr_pilot.deploy.config import TimelockConfig

    base = dev_default_config()
    stack = _deploy(node, ops_root, real_project, compiled, "opsnet", base)
    governed = dataclasses.replace(
        base,
        timelock=TimelockConfig(
            enabled=True, min_delay=TIMELOCK_DELAY, proposers=(f"dev:{PROPOSER}",), executors=(f"dev:{EXECUTOR}",)
        ),
    )
    gov = _deploy(node, ops_root, real_project, compiled, "opsgov", governed)
    return StackEnv(node, ops_root, load_project(ops_root, env={}), stack, gov, stack.token.from_block)


@pytest.fixture
def env(stack_env: StackEnv) -> Iterator[StackEnv]:
    """A fresh chain (snapshot/revert) and empty journals for each test."""
    snap = stack_env.node.rpc("evm_snapshot")
    for network in ("opsnet", "opsgov"):
        stack_env.journal_path(network).unlink(missing_ok=True)
    try:
        yield stack_env
    finally:
        assert stack_env.node.rpc("evm_revert", snap) is True
        for network in ("opsnet", "opsgov"):
            stack_env.journal_path(network).unlink(missing_ok=True)


OperatorFactory = Callable[..., Operator]


@pytest.fixture
def operator_for(env: StackEnv, tmp_path: Path) -> OperatorFactory:
    """``operator_for(dev_index, **options)``: an Operator signing as that dev account."""

    def make(
        index: int,
        *,
        stack: Stack | None = None,
        journal: Journal | None = None,
        policy: TxPolicy | None = None,
        w3: Web3 | None = None,
        **kwargs: Any,
    ) -> Operator:
        the_stack = stack or env.stack
        chain_w3 = w3 or env.w3
        sender = Sender(chain_w3, acct(index), decoder=the_stack.decoder,
                        policy=policy or TxPolicy(timeout=20, poll_interval=0.02))
        return Operator(
            the_stack, sender, journal or Journal(tmp_path / "operations.jsonl"), network="opsnet", **kwargs
        )

    return make


def mined_events(stack: Stack, name: str) -> list[Any]:
    return stack.token.events((name,))


def cleanup_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(autouse=True)
def _no_password_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PKR_PILOT_PASSWORD", raising=False)
    os.environ.pop("PKR_PILOT_CRASH_AT", None)
