"""The gas snapshot: every token operation's gas on a fresh chain, kept in ``.gas-snapshot``.

Like ``forge snapshot``: :func:`measure_gas` deploys the dev-default stack on a fresh managed
anvil and sends each operation as its own transaction (every storage slot cold, recipients
already holding tokens unless the name says otherwise); the figure is the receipt's ``gasUsed``
through the proxy. The eight budget scenarios and the controls-on figures come from
:mod:`pkr_pilot.bench.gas`; :data:`SNAPSHOT_OPERATIONS` adds every other operation an operator or a
wallet sends. Signed messages use fixed deadlines and nonces, so a run is deterministic.

The committed file is the reference: the test suite fails when an operation costs more than its
snapshot, and ``pkr-pilot bench gas --write-snapshot`` rewrites it on purpose.

File format (one operation per line, sorted; a schema line first)::

    # pkr-pilot gas snapshot v1: receipt gasUsed through the proxy, fresh anvil, cold slots
    PilotRupee:approve (gas: 34211)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import atomic_write_text
from ..errors import ConfigError
from ..sending import NonceBook, fee_fields

if TYPE_CHECKING:
    from web3.types import TxReceipt

    from ..accounts import Signer
    from ..chain import Chain
    from ..config import Project
    from ..contracts import Call, ContractHandle

__all__ = [
    "SCHEMA_VERSION",
    "SNAPSHOT_FILE",
    "SNAPSHOT_OPERATIONS",
    "GasDiff",
    "compare_gas",
    "format_snapshot",
    "measure_gas",
    "parse_snapshot",
    "read_snapshot",
    "write_snapshot",
]

SCHEMA_VERSION = 1
SNAPSHOT_FILE = ".gas-snapshot"
_HEADER = (
    f"# pkr-pilot gas snapshot v{SCHEMA_VERSION}: receipt gasUsed through the proxy, fresh anvil, "
    "cold slots (rewrite: pkr-pilot bench gas --write-snapshot)"
)
_LINE = re.compile(r"^(?P<contract>\w+):(?P<operation>[A-Za-z0-9_]+) \(gas: (?P<gas>\d+)\)$")
_CONTRACT = "PilotRupee"

#: Operations measured here beyond the gas bench's budget scenarios (bench.gas) and extras.
SNAPSHOT_OPERATIONS: tuple[str, ...] = (
    "transferFrom_infinite_allowance",
    "approve_zero_to_nonzero",
    "permit",
    "transferWithAuthorization",
    "receiveWithAuthorization",
    "cancelAuthorization",
    "mint_new_recipient",
    "multicall_mint_3",
    "burn_by_burner_role",
    "unfreeze",
    "freezeAmount",
    "unfreezeAmount",
    "seize_from_frozen_account",
    "pause",
    "unpause",
    "configureMinter",
    "removeMinter",
    "attestReserves",
    "setTier",
    "setSupplyCap",
)

# Fixed inputs, so every run signs and sends byte-identical calldata.
_AMOUNT = 1_250_00
_FAR_FUTURE = 2**40
_GAS_LIMIT = 1_000_000
_EXTRA_ACCOUNTS = (10, 11, 12, 13, 14)
_ETH_FUNDING = 100 * 10**18


@dataclass(frozen=True)
class GasDiff:
    """Measured figures against a snapshot."""

    increased: dict[str, tuple[int, int]] = field(default_factory=dict)
    decreased: dict[str, tuple[int, int]] = field(default_factory=dict)
    added: dict[str, int] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no operation costs more than its snapshot and the operation sets match."""
        return not (self.increased or self.added or self.missing)


# --------------------------------------------------------------------------- the file


def format_snapshot(gas: Mapping[str, int]) -> str:
    lines = [_HEADER, *(f"{_CONTRACT}:{op} (gas: {int(gas[op])})" for op in sorted(gas))]
    return "\n".join(lines) + "\n"


def parse_snapshot(text: str, *, source: str = SNAPSHOT_FILE) -> dict[str, int]:
    """``{operation: gas}`` from the file's text; refuses an unknown schema or a malformed line."""
    lines = [line.rstrip() for line in text.splitlines()]
    if not lines or not lines[0].startswith("# pkr-pilot gas snapshot v"):
        raise ConfigError(f"{source} is not a pkr-pilot gas snapshot", hint="rewrite it: pkr-pilot bench gas --write-snapshot")
    version = lines[0].removeprefix("# pkr-pilot gas snapshot v").split(":", 1)[0]
    if version != str(SCHEMA_VERSION):
        raise ConfigError(
            f"{source} has schema v{version}, this version reads v{SCHEMA_VERSION}",
            hint="rewrite it: pkr-pilot bench gas --write-snapshot",
        )
    gas: dict[str, int] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise ConfigError(f"{source}:{number}: cannot read {line!r}", hint="expected 'PilotRupee:operation (gas: N)'")
        gas[match["operation"]] = int(match["gas"])
    return gas


def read_snapshot(path: Path) -> dict[str, int]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"no gas snapshot at {path}", hint="create it: pkr-pilot bench gas --write-snapshot") from None
    return parse_snapshot(text, source=str(path))


def write_snapshot(path: Path, gas: Mapping[str, int]) -> None:
    """Write the snapshot file atomically."""
    atomic_write_text(path, format_snapshot(gas))


def compare_gas(measured: Mapping[str, int], snapshot: Mapping[str, int]) -> GasDiff:
    diff = GasDiff()
    for op, gas in measured.items():
        if op not in snapshot:
            diff.added[op] = gas
        elif gas > snapshot[op]:
            diff.increased[op] = (snapshot[op], gas)
        elif gas < snapshot[op]:
            diff.decreased[op] = (snapshot[op], gas)
    for op, gas in snapshot.items():
        if op not in measured:
            diff.missing[op] = gas
    return diff


# --------------------------------------------------------------------------- measuring


def measure_gas(project: Project, *, network: str = "local", progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Deploy the dev-default stack on a fresh ``network`` (a managed anvil) and measure every operation."""
    from ..chain import connect

    say = progress or (lambda _message: None)
    with connect(project, network, log=False) as chain:
        if chain.kind != "anvil":
            raise ConfigError(f"the gas snapshot is measured on a fresh managed anvil, not {chain.kind}",
                              hint="use --network local")
        say("deploying the dev-default stack")
        return _measure_on(chain, project, say)


def _measure_on(chain: Chain, project: Project, say: Callable[[str], None]) -> dict[str, int]:
    from ..accounts import dev_account
    from ..contracts import ContractHandle
    from ..deploy import deploy_stack, dev_default_config
    from .gas import BenchAccounts, run_gas_scenarios

    w3 = chain.w3
    signers = {i: dev_account(i, chain_id=chain.chain_id) for i in (*range(10), *_EXTRA_ACCOUNTS)}
    deployment = deploy_stack(chain, signers[0], project, dev_default_config(), deployments_dir=None)
    runner = _Runner(chain, {s.address: s for s in signers.values()})
    for index in _EXTRA_ACCOUNTS:
        runner.fund(signers[0], signers[index].address)
    token = ContractHandle(w3, deployment.token.address, deployment.token.abi, name="PilotRupee")
    accounts = BenchAccounts(
        admin=signers[0].address, minter_admin=signers[1].address, minter=signers[13].address,
        attestor=signers[5].address, freezer=signers[3].address, sender=signers[10].address,
        recipient=signers[11].address, spender=signers[12].address, kyc=signers[7].address,
    )
    say("running the budget scenarios")
    gas = run_gas_scenarios(w3, token, accounts, transact=runner.transact)
    say("running the other operations")
    gas.update(_more_operations(runner, token, signers, chain.chain_id))
    return gas


class _Runner:
    """Sends each call from a dev key as its own transaction; the receipt (status checked by the caller)."""

    def __init__(self, chain: Chain, signers: Mapping[str, Signer]) -> None:
        self.chain = chain
        self.w3 = chain.w3
        self.signers = signers
        self.chain_id = chain.chain_id
        self.nonces = NonceBook(lambda address: int(self.w3.eth.get_transaction_count(address, "pending")))  # type: ignore[arg-type]

    def fund(self, sender: Signer, to: str) -> None:
        self._send(sender, {"to": to, "value": _ETH_FUNDING, "data": b""}, gas=21_000)

    def transact(self, call: Call, sender: str) -> TxReceipt:
        return self._send(self.signers[sender], {"to": call.target, "value": call.value, "data": call.data})

    def send(self, call: Call, sender: Signer) -> TxReceipt:
        """Send and require status 1 (a failed setup would skew every later figure)."""
        from ..errors import TransactionFailed

        receipt = self.transact(call, sender.address)
        if int(receipt["status"]) != 1:
            tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
            raise TransactionFailed("UnknownError", {"tx": tx_hash}, action=f"gas snapshot {call.function}")
        return receipt

    def measure(self, call: Call, sender: Signer) -> int:
        return int(self.send(call, sender)["gasUsed"])

    def _send(self, sender: Signer, fields: Mapping[str, Any], gas: int = _GAS_LIMIT) -> TxReceipt:
        base = int(self.w3.eth.get_block("latest").get("baseFeePerGas") or 0)
        tx = {**fields, "chainId": self.chain_id, "nonce": self.nonces.take(sender.address), "gas": gas,
              **fee_fields(base)}
        signed = sender.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        return self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.01)


def _more_operations(runner: _Runner, token: ContractHandle, s: Mapping[int, Signer], chain_id: int) -> dict[str, int]:
    """Every other operation, each its own transaction after its (unmeasured) setup."""
    from eth_utils.crypto import keccak

    admin, minter_admin, pauser, freezer, seizer, attestor, burner, kyc = (s[i] for i in (0, 1, 2, 3, 4, 5, 6, 7))
    sender, recipient, spender, bench_minter, fresh = s[10], s[11], s[12], s[13], s[14]
    unpauser = pauser  # dev default: dev:2 holds PAUSER_ROLE and UNPAUSER_ROLE

    def ref(label: str) -> bytes:
        return bytes(keccak(text=f"gas snapshot: {label}"))

    from ..contracts import CANCEL_AUTHORIZATION_TYPES, PERMIT_TYPES, authorization_types

    domain = {"name": token.view("name"), "version": "1", "chainId": chain_id, "verifyingContract": token.address}
    gas: dict[str, int] = {}
    measure, send = runner.measure, runner.send

    send(token.build("approve", spender.address, 2**256 - 1), sender)
    gas["transferFrom_infinite_allowance"] = measure(token.build("transferFrom", sender.address, recipient.address, _AMOUNT), spender)
    gas["approve_zero_to_nonzero"] = measure(token.build("approve", fresh.address, _AMOUNT), sender)

    nonce = int(token.view("nonces", sender.address))
    permit = sender.sign_typed_data(domain, PERMIT_TYPES, {
        "owner": sender.address, "spender": recipient.address, "value": _AMOUNT, "nonce": nonce, "deadline": _FAR_FUTURE,
    })
    gas["permit"] = measure(
        token.build("permit", sender.address, recipient.address, _AMOUNT, _FAR_FUTURE, permit.v, _b32(permit.r), _b32(permit.s)),
        spender,
    )
    for kind, submitter in (("transferWithAuthorization", spender), ("receiveWithAuthorization", recipient)):
        auth_nonce = ref(kind)
        primary = "TransferWithAuthorization" if kind.startswith("transfer") else "ReceiveWithAuthorization"
        sig = sender.sign_typed_data(domain, authorization_types(primary), {
            "from": sender.address, "to": recipient.address, "value": _AMOUNT, "validAfter": 0,
            "validBefore": _FAR_FUTURE, "nonce": auth_nonce,
        })
        fn = token.build(kind, sender.address, recipient.address, _AMOUNT, 0, _FAR_FUTURE, auth_nonce, sig.v,
                              _b32(sig.r), _b32(sig.s))
        gas[kind] = measure(fn, submitter)
    cancel_nonce = ref("cancel")
    sig = sender.sign_typed_data(domain, CANCEL_AUTHORIZATION_TYPES,
                                 {"authorizer": sender.address, "nonce": cancel_nonce})
    gas["cancelAuthorization"] = measure(
        token.build("cancelAuthorization", sender.address, cancel_nonce, sig.v, _b32(sig.r), _b32(sig.s)), spender
    )

    gas["mint_new_recipient"] = measure(token.build("mint", fresh.address, _AMOUNT, ref("mint fresh")), bench_minter)
    calls = [token.build("mint", r.address, _AMOUNT, ref(f"batch {i}")).data
             for i, r in enumerate((sender, recipient, spender))]
    gas["multicall_mint_3"] = measure(token.build("multicall", calls), bench_minter)
    send(token.build("transfer", burner.address, _AMOUNT), sender)
    gas["burn_by_burner_role"] = measure(token.build("burn", _AMOUNT, ref("redeem")), burner)

    send(token.build("freeze", recipient.address, ref("freeze")), freezer)
    gas["unfreeze"] = measure(token.build("unfreeze", recipient.address, ref("unfreeze")), freezer)
    gas["freezeAmount"] = measure(token.build("freezeAmount", recipient.address, _AMOUNT, ref("freeze amount")), freezer)
    gas["unfreezeAmount"] = measure(token.build("unfreezeAmount", recipient.address, _AMOUNT, ref("release")), freezer)
    send(token.build("freeze", spender.address, ref("court")), freezer)
    gas["seize_from_frozen_account"] = measure(token.build("seize", spender.address, recipient.address, _AMOUNT, ref("order")), seizer)
    send(token.build("unfreeze", spender.address, ref("court closed")), freezer)

    gas["pause"] = measure(token.build("pause"), pauser)
    gas["unpause"] = measure(token.build("unpause"), unpauser)
    gas["configureMinter"] = measure(token.build("configureMinter", fresh.address, 10**9, ref("new minter")), minter_admin)
    gas["removeMinter"] = measure(token.build("removeMinter", fresh.address, ref("remove minter")), minter_admin)
    # Pin the time so both packed words really change (a same-second attestation rewrites equal values).
    latest = int(runner.w3.eth.get_block("latest")["timestamp"])
    runner.chain.set_next_timestamp(latest + 100)
    gas["attestReserves"] = measure(token.build("attestReserves", 10**15, latest + 50, ref("report")), attestor)
    gas["setTier"] = measure(token.build("setTier", fresh.address, 2, ref("kyc")), kyc)
    gas["setSupplyCap"] = measure(token.build("setSupplyCap", 10**16, ref("cap")), admin)
    return gas


def _b32(value: int) -> bytes:
    return int(value).to_bytes(32, "big")


