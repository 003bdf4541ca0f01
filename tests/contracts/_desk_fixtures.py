"""Self-contained chain fixtures for the MintDesk and timelock tests.

Takes the contracts from the project's build (the toolkit's compile, cached), starts a private anvil
on a free port (or uses Ape's node), deploys PilotRupee behind an
``ERC1967Proxy``, a MintDesk and a PilotTimelock, and gives each test a fresh chain through
``evm_snapshot``/``evm_revert``. Reverts are decoded against the ABIs into ``(name, args)``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from _gas_stack import anvil as anvil_node  # the contract tests' one private anvil (an AnvilNode)
from eth_abi.abi import decode as abi_decode
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import RPCEndpoint, TxReceipt

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ("PilotRupee", "MintDesk", "PilotTimelock", "ERC1967Proxy")
# ERC-1967 implementation slot: bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1).
IMPLEMENTATION_SLOT = int.from_bytes(keccak(text="eip1967.proxy.implementation"), "big") - 1

GAS_LIMIT = 12_000_000  # above any deploy in the stack, below the 30M block limit

Artifacts = dict[str, dict[str, Any]]  # contract name -> {"abi": [...], "bytecode": "0x..."}


@dataclass(frozen=True)
class Revert:
    """A decoded revert: the custom error's name and its arguments (addresses checksummed)."""

    name: str
    args: tuple[Any, ...]


class RevertDecoder:
    """Decode revert data against every custom error in a set of ABIs."""

    def __init__(self, abis: Sequence[Sequence[Mapping[str, Any]]]) -> None:
        self._errors: dict[bytes, tuple[str, list[str]]] = {}
        for abi in abis:
            for item in abi:
                if item.get("type") == "error":
                    types = [i["type"] for i in item["inputs"]]
                    signature = f"{item['name']}({','.join(types)})"
                    self._errors[keccak(text=signature)[:4]] = (item["name"], types)

    def decode(self, data: bytes) -> Revert:
        known = self._errors.get(data[:4])
        if known is None:
            raise AssertionError(f"revert data 0x{data.hex()} matches no error in the ABIs")
        name, types = known
        values = abi_decode(types, data[4:])
        args = tuple(
            Web3.to_checksum_address(v) if t == "address" else v
            for t, v in zip(types, values, strict=True)
        )
        return Revert(name, args)


@dataclass(frozen=True)
class Accounts:
    """Named, unlocked anvil accounts (checksummed)."""

    admin: str
    attestor: str
    pauser: str
    maker: str
    maker2: str
    checker1: str
    checker2: str
    checker3: str
    user: str
    outsider: str
    proposer: str
    executor: str


@dataclass(frozen=True)
class Chain:
    """A node with named accounts: send, expect reverts, deploy, move time, snapshot."""

    w3: Web3
    artifacts: Artifacts
    accounts: Accounts
    decoder: RevertDecoder

    # ───────────── sending

    def send(self, fn: Any, sender: str) -> TxReceipt:
        """Send a contract function call from `sender` and require success.

        The gas limit is explicit so the node does not estimate against the latest block: a test
        that sets the next block's timestamp must be judged at that timestamp.
        """
        tx_hash = fn.transact({"from": sender, "gas": GAS_LIMIT})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1, f"transaction reverted: {self._trace_error(tx_hash)}"
        return receipt

    def revert_of(self, fn: Any, sender: str) -> Revert:
        """Mine the call as a real transaction, require that it reverts, and decode its error.

        The explicit gas limit makes the node mine the failing transaction instead of refusing it at
        estimation; the revert data comes from the node's call tracer.
        """
        tx_hash = fn.transact({"from": sender, "gas": GAS_LIMIT})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 0, "expected the transaction to revert, it succeeded"
        return self.decoder.decode(self._trace_output(tx_hash))

    def _trace_output(self, tx_hash: bytes) -> bytes:
        trace = self.rpc("debug_traceTransaction", [Web3.to_hex(tx_hash), {"tracer": "callTracer"}])
        return bytes(Web3.to_bytes(hexstr=trace["result"].get("output", "0x")))

    def _trace_error(self, tx_hash: bytes) -> str:
        data = self._trace_output(tx_hash)
        try:
            return str(self.decoder.decode(data))
        except AssertionError:
            return "0x" + data.hex()

    def rpc(self, method: str, params: list[Any]) -> Any:
        """A raw JSON-RPC call (anvil's evm_* and debug_* methods)."""
        return self.w3.provider.make_request(RPCEndpoint(method), params)

    def deploy(self, name: str, *args: Any, sender: str | None = None) -> Contract:
        art = self.artifacts[name]
        factory = self.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
        receipt = self.send(factory.constructor(*args), sender or self.accounts.admin)
        return cast(
            Contract, self.w3.eth.contract(address=receipt["contractAddress"], abi=art["abi"])
        )

    # ───────────── time

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def set_next_timestamp(self, timestamp: int) -> None:
        self.rpc("evm_setNextBlockTimestamp", [timestamp])

    def mine(self, timestamp: int | None = None) -> None:
        self.rpc("evm_mine", [] if timestamp is None else [timestamp])

    def events(self, receipt: TxReceipt, contract: Contract, name: str) -> list[dict[str, Any]]:
        logs = contract.events[name]().process_receipt(receipt, errors=DISCARD)
        return [dict(e["args"]) for e in logs]

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Run the block on a chain snapshot and throw its changes away afterwards."""
        snap = self.rpc("evm_snapshot", [])["result"]
        try:
            yield
        finally:
            assert self.rpc("evm_revert", [snap])["result"] is True


@dataclass(frozen=True)
class DeskEnv(Chain):
    """Everything a test needs: the chain, the named accounts and the deployed contracts."""

    token: Contract  # the ERC1967Proxy at PilotRupee's ABI
    token_impl: str
    desk: Contract
    timelock: Contract


def ref(label: str) -> bytes:
    """A bytes32 reference derived from a readable label (as a bank transfer id would be)."""
    return keccak(text=label)


# ─────────────────────────────────────────────────────────── node and deploy


# Test policy: 1,000.00 PKRP threshold, 2 approvals above it, 2,500.00 PKRP direct per maker per day,
# requests live for one day. Amounts are paisa (2 decimals).
THRESHOLD = 100_000
APPROVALS_REQUIRED = 2
DAILY_DIRECT_LIMIT = 250_000
REQUEST_TTL = 86_400
DESK_ALLOWANCE = 10**12
TOKEN_ADMIN_DELAY = 3_600
TIMELOCK_DELAY = 2 * 86_400


def deploy_stack(w3: Web3, artifacts: Artifacts) -> DeskEnv:
    """Deploy PilotRupee behind an ERC1967Proxy, a configured MintDesk and a PilotTimelock."""
    a = Accounts(*[Web3.to_checksum_address(x) for x in w3.eth.accounts[:12]])
    decoder = RevertDecoder([art["abi"] for art in artifacts.values()])
    chain = Chain(w3, artifacts, a, decoder)

    impl = chain.deploy("PilotRupee")
    init = impl.encode_abi(
        "initialize", args=["Pilot Pakistani Rupee", "PKRP", 2, a.admin, TOKEN_ADMIN_DELAY]
    )
    proxy = chain.deploy("ERC1967Proxy", impl.address, init)
    token = w3.eth.contract(address=proxy.address, abi=artifacts["PilotRupee"]["abi"])
    desk = chain.deploy(
        "MintDesk",
        token.address,
        0,
        a.admin,
        THRESHOLD,
        APPROVALS_REQUIRED,
        DAILY_DIRECT_LIMIT,
        REQUEST_TTL,
    )
    timelock = chain.deploy(
        "PilotTimelock", TIMELOCK_DELAY, [a.proposer], [a.executor], "0x" + "00" * 20
    )
    env = DeskEnv(
        w3,
        artifacts,
        a,
        decoder,
        token=token,
        token_impl=impl.address,
        desk=desk,
        timelock=timelock,
    )

    t = token.functions
    for role, holder in (
        (t.MINTER_ADMIN_ROLE().call(), a.admin),
        (t.ATTESTOR_ROLE().call(), a.attestor),
        (t.PAUSER_ROLE().call(), a.pauser),
        (t.UNPAUSER_ROLE().call(), a.admin),
    ):
        env.send(t.grantRole(role, holder), a.admin)
    env.send(t.setSupplyCap(10**15, ref("cap")), a.admin)
    env.send(t.setMaxAttestationAge(10 * 365 * 86_400, ref("age")), a.admin)
    env.send(t.attestReserves(10**15, env.now(), ref("report-0")), a.attestor)
    env.send(t.configureMinter(desk.address, DESK_ALLOWANCE, ref("desk")), a.admin)
    env.send(t.setExempt(desk.address, True, ref("desk-exempt")), a.admin)

    d = desk.functions
    for maker in (a.maker, a.maker2):
        env.send(d.grantRole(d.MAKER_ROLE().call(), maker), a.admin)
    for checker in (a.checker1, a.checker2, a.checker3):
        env.send(d.grantRole(d.CHECKER_ROLE().call(), checker), a.admin)
    return env


@functools.cache
def artifacts_once() -> Artifacts:
    """The stack's contracts from the project's build (``pkr_pilot.compile``: compiled once with the
    project's settings, cached in ``build/``), read once per test process."""
    from pkr_pilot.compile import compile_project
    from pkr_pilot.config import load_project

    built = compile_project(load_project(ROOT)).artifacts
    return {name: {"abi": built[name].abi, "bytecode": built[name].bytecode_hex} for name in CONTRACTS}


@contextmanager
def desk_env(url: str | None = None) -> Iterator[DeskEnv]:
    """Start anvil (or use the running dev node at ``url``, e.g. Ape's), deploy the stack, yield it;
    stop a started anvil on exit."""
    if url is not None:
        yield deploy_stack(Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30})), artifacts_once())
        return
    with anvil_node() as w3:
        yield deploy_stack(w3, artifacts_once())
