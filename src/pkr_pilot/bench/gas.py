"""The PilotRupee gas budget scenarios (issue 3's table) as a library.

Each scenario is its own transaction, so every storage slot it touches is cold (EIP-2929 access
sets are per transaction), sent to the token's proxy; the figure is the receipt's ``gasUsed``.
Recipients already hold tokens unless the scenario says otherwise.

>>> sorted(GAS_BUDGETS)[:3]
['approve', 'burn', 'freeze']

``run_gas_scenarios`` needs a ``Web3`` on a fresh local chain whose role accounts are unlocked
on the node (anvil dev accounts, or eth-tester's): it prepares the state it needs (supply cap,
attestation, a minter allowance, balances, an allowance) with those role holders, then sends
exactly the budget scenarios and returns ``{operation: gasUsed}``. With a ``kyc`` account it also
measures transfers with tier limits and with allowlist mode switched on (reported, not budgeted)
and switches both off again.

Warning: it changes token state (mints, freezes, configures a minter). Never point it at a
chain whose state matters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.types import TxReceipt

from ..contracts import Call, ContractHandle
from ..decode import revert_data_from_exception
from ..errors import ConfigError, TransactionFailed

__all__ = [
    "EXTRA_SCENARIOS",
    "GAS_BUDGETS",
    "REFERENCE_OVERHEAD_BUDGET",
    "BenchAccounts",
    "Transact",
    "over_budget",
    "run_gas_scenarios",
]

#: Sends one prepared contract call from ``sender`` and returns the mined receipt.
Transact = Callable[[Call, str], TxReceipt]

#: Receipt gasUsed budgets through the proxy, cold slots (issue 3). Keys are spec names.
GAS_BUDGETS: Mapping[str, int] = MappingProxyType(
    {
        "transfer": 42_000,
        "transfer_with_reference": 44_500,
        "transfer_with_unique_reference": 67_000,
        "transfer_with_unique_reference_same_word": 49_500,
        "transfer_new_recipient": 59_000,
        "transferFrom": 50_000,
        "approve": 38_000,
        "mint": 55_000,
        "burn": 47_000,
        "freeze": 37_000,
        "freeze_empty": 54_000,
    }
)

#: ``transfer_with_reference`` may cost at most this much more than ``transfer`` (issue 10: 32 more
#: calldata bytes and one lean log).
REFERENCE_OVERHEAD_BUDGET = 2_500

#: Figures reported but not budgeted (issue 4: the cost of the controls when switched on).
#: ``transfer_limits_on``: both parties tier 1, limits on, the sender already has an outflow
#: record (the usual case: the outflow slot is rewritten, nonzero to nonzero).
#: ``transfer_limits_on_first_outflow``: the sender's first outflow ever (slot zero to nonzero).
#: ``transfer_allowlist_on``: allowlist mode on, limits off.
EXTRA_SCENARIOS: tuple[str, ...] = (
    "transfer_limits_on_first_outflow",
    "transfer_limits_on",
    "transfer_allowlist_on",
)

# Amounts in base units (paisa): realistic retail sizes, so calldata costs are realistic too.
_HOLDER_FUNDING = 1_000_000_00  # 1,000,000.00 PKRP per funded holder
_TRANSFER = 1_250_00  # 1,250.00 PKRP
_MINT = 5_000_00
_BURN = 2_000_00
_ALLOWANCE_FIRST = 50_000_00
_ALLOWANCE_SECOND = 40_000_00
_SETUP_HEADROOM = 100_000_000_00  # supply cap / reserves headroom above what the bench mints
_GAS_LIMIT = 1_000_000


@dataclass(frozen=True)
class BenchAccounts:
    """Unlocked accounts the bench sends from (checksummed on construction).

    ``admin`` holds DEFAULT_ADMIN_ROLE (supply cap, tier limits, modes), ``minter_admin``
    MINTER_ADMIN_ROLE, ``attestor`` ATTESTOR_ROLE, ``freezer`` FREEZER_ROLE. ``minter`` is
    configured as a minter by the bench (it must not hold ATTESTOR_ROLE). ``sender``,
    ``recipient`` and ``spender`` are distinct role-less accounts. ``kyc`` (KYC_ROLE) is
    optional: without it the limits-on figures are skipped.
    """

    admin: str
    minter_admin: str
    minter: str
    attestor: str
    freezer: str
    sender: str
    recipient: str
    spender: str
    kyc: str | None = None

    def __post_init__(self) -> None:
        for field in (
            "admin",
            "minter_admin",
            "minter",
            "attestor",
            "freezer",
            "sender",
            "recipient",
            "spender",
        ):
            object.__setattr__(self, field, _checksum(getattr(self, field), field))
        if self.kyc is not None:
            object.__setattr__(self, "kyc", _checksum(self.kyc, "kyc"))
        people = {self.sender, self.recipient, self.spender, self.minter}
        if len(people) != 4:
            raise ConfigError(
                "gas bench: sender, recipient, spender and minter must be four distinct accounts"
            )


def run_gas_scenarios(
    w3: Web3,
    token: ContractHandle,
    accounts: BenchAccounts,
    *,
    transact: Transact | None = None,
) -> dict[str, int]:
    """Run every budget scenario (plus the limits-on extras when ``accounts.kyc`` is set).

    ``transact`` sends one prepared call from an address and returns its receipt; the default
    sends from node-unlocked accounts (``fn.transact``) and waits. Pass your own to sign locally.
    Every call is simulated first either way.

    Returns ``{operation: gasUsed}`` with every key of :data:`GAS_BUDGETS`, in that order,
    followed by the keys of :data:`EXTRA_SCENARIOS` that were measured.

    Raises :class:`~pkr_pilot.errors.ContractRevert` (decoded) when a setup or scenario call
    would revert, and :class:`~pkr_pilot.errors.TransactionFailed` when a mined one did.
    """
    bench = _Bench(w3, token, transact or _unlocked_transact(w3))
    a = accounts
    fresh_recipient = _derived_address("pkr-pilot gas bench: fresh recipient")
    fresh_frozen = _derived_address("pkr-pilot gas bench: frozen zero-balance address")

    # ---- setup (not measured)
    if token.view("limitsEnabled") or token.view("allowlistEnabled"):
        raise ConfigError(
            "gas bench: tier limits or allowlist mode is on; the budgets are measured with both off",
            hint="run the bench on a fresh dev chain",
        )
    supply = int(token.view("totalSupply"))
    needed = supply + _SETUP_HEADROOM
    if int(token.view("supplyCap")) < needed:
        bench.send("setup: setSupplyCap", token.build("setSupplyCap", needed, _ref("bench cap")), a.admin)
    now = int(w3.eth.get_block("latest")["timestamp"])
    bench.send(
        "setup: attestReserves",
        token.build("attestReserves", needed, now, _ref("bench reserve report")),
        a.attestor,
    )
    bench.send(
        "setup: configureMinter",
        token.build("configureMinter", a.minter, _SETUP_HEADROOM, _ref("bench minter")),
        a.minter_admin,
    )
    for holder in (a.sender, a.recipient, a.minter):
        bench.send(
            "setup: mint", token.build("mint", holder, _HOLDER_FUNDING, _ref(f"bench fund {holder}")), a.minter
        )
    bench.send("setup: approve", token.build("approve", a.spender, _ALLOWANCE_FIRST), a.sender)

    # ---- budget scenarios, each its own transaction
    gas: dict[str, int] = {}
    gas["transfer"] = bench.measure("transfer", token.build("transfer", a.recipient, _TRANSFER), a.sender)
    gas["transfer_with_reference"] = bench.measure(
        "transfer_with_reference",
        token.build("transferWithReference", a.recipient, _TRANSFER, _ref("bench payment")),
        a.sender,
    )
    # Strict mode: the first ref of a bitmap word (a fresh storage slot), then a ref that differs only
    # in its lowest byte (same word, already nonzero): the cost of each further payment of a batch.
    gas["transfer_with_unique_reference"] = bench.measure(
        "transfer_with_unique_reference",
        token.build("transferWithUniqueReference", a.recipient, _TRANSFER, _batch_ref("bench batch", 1)),
        a.sender,
    )
    gas["transfer_with_unique_reference_same_word"] = bench.measure(
        "transfer_with_unique_reference_same_word",
        token.build("transferWithUniqueReference", a.recipient, _TRANSFER, _batch_ref("bench batch", 2)),
        a.sender,
    )
    gas["transfer_new_recipient"] = bench.measure(
        "transfer_new_recipient", token.build("transfer", fresh_recipient, _TRANSFER), a.sender
    )
    gas["transferFrom"] = bench.measure(
        "transferFrom", token.build("transferFrom", a.sender, a.recipient, _TRANSFER), a.spender
    )
    gas["approve"] = bench.measure("approve", token.build("approve", a.spender, _ALLOWANCE_SECOND), a.sender)
    gas["mint"] = bench.measure("mint", token.build("mint", a.recipient, _MINT, _ref("bench mint")), a.minter)
    gas["burn"] = bench.measure("burn", token.build("burn", _BURN, _ref("bench burn")), a.minter)
    gas["freeze"] = bench.measure("freeze", token.build("freeze", a.recipient, _ref("bench freeze")), a.freezer)
    gas["freeze_empty"] = bench.measure(
        "freeze_empty", token.build("freeze", fresh_frozen, _ref("bench freeze empty")), a.freezer
    )
    bench.send("setup: unfreeze", token.build("unfreeze", a.recipient, _ref("bench unfreeze")), a.freezer)

    if a.kyc is not None:
        gas.update(_controls_on(bench, token, a, a.kyc))
    return gas


def over_budget(gas: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """The budget scenarios whose figure exceeds its budget: ``{operation: (gasUsed, budget)}``.

    ``transfer_with_reference`` is held to the lower of its own budget and the measured ``transfer``
    plus :data:`REFERENCE_OVERHEAD_BUDGET`.
    """
    over: dict[str, tuple[int, int]] = {}
    for op, budget in GAS_BUDGETS.items():
        if op not in gas:
            continue
        if op == "transfer_with_reference" and "transfer" in gas:
            budget = min(budget, gas["transfer"] + REFERENCE_OVERHEAD_BUDGET)
        if gas[op] > budget:
            over[op] = (gas[op], budget)
    return over


def _controls_on(bench: _Bench, token: ContractHandle, a: BenchAccounts, kyc: str) -> dict[str, int]:
    gas: dict[str, int] = {}
    unlimited = (1 << 128) - 1
    bench.send(
        "setup: setTierLimits",
        token.build("setTierLimits", 1, unlimited, unlimited, _ref("bench tier 1")),
        a.admin,
    )
    for who in (a.sender, a.recipient):
        bench.send("setup: setTier", token.build("setTier", who, 1, _ref(f"bench kyc {who}")), kyc)
    bench.send("setup: setLimitsMode", token.build("setLimitsMode", True, _ref("bench limits on")), a.admin)
    gas["transfer_limits_on_first_outflow"] = bench.measure(
        "transfer_limits_on_first_outflow", token.build("transfer", a.recipient, _TRANSFER), a.sender
    )
    gas["transfer_limits_on"] = bench.measure(
        "transfer_limits_on", token.build("transfer", a.recipient, _TRANSFER), a.sender
    )
    bench.send("setup: setLimitsMode", token.build("setLimitsMode", False, _ref("bench limits off")), a.admin)
    bench.send(
        "setup: setAllowlistMode", token.build("setAllowlistMode", True, _ref("bench allowlist on")), a.admin
    )
    gas["transfer_allowlist_on"] = bench.measure(
        "transfer_allowlist_on", token.build("transfer", a.recipient, _TRANSFER), a.sender
    )
    bench.send(
        "setup: setAllowlistMode", token.build("setAllowlistMode", False, _ref("bench allowlist off")), a.admin
    )
    return gas


def _unlocked_transact(w3: Web3) -> Transact:
    def transact(call: Call, sender: str) -> TxReceipt:
        tx_hash = w3.eth.send_transaction({"from": sender, "gas": _GAS_LIMIT, **call.tx()})  # type: ignore[typeddict-item]
        return w3.eth.wait_for_transaction_receipt(tx_hash)

    return transact


class _Bench:
    """Simulates each call (decoded revert), sends it through ``transact``, checks the status."""

    def __init__(self, w3: Web3, token: ContractHandle, transact: Transact) -> None:
        self._w3 = w3
        self._transact = transact
        self._decoder = token.decoder

    def measure(self, action: str, call: Call, sender: str) -> int:
        return int(self.send(action, call, sender)["gasUsed"])

    def send(self, action: str, call: Call, sender: str) -> TxReceipt:
        try:
            self._w3.eth.call({"from": sender, "gas": _GAS_LIMIT, **call.tx()})  # type: ignore[typeddict-item]
        except ContractLogicError as exc:  # custom errors and panics are subclasses
            data = revert_data_from_exception(exc) or b""
            raise self._decoder.decode(data, action=f"gas bench {action}") from exc
        receipt = self._transact(call, sender)
        if receipt["status"] != 1:
            tx_hash = Web3.to_hex(receipt["transactionHash"])
            raise TransactionFailed("UnknownError", {"tx": tx_hash}, action=f"gas bench {action}")
        return receipt


def _ref(label: str) -> bytes:
    """A bytes32 reference as an operator would use (the hash of a bank transfer id or case)."""
    return keccak(text=label)


def _batch_ref(label: str, row: int) -> bytes:
    """Row ``row`` (0-255) of a batch: a 31-byte prefix from ``label``, then the row as the last byte."""
    return keccak(text=label)[:31] + bytes([row])


def _derived_address(label: str) -> str:
    return to_checksum_address(keccak(text=label)[12:])


def _checksum(value: str, field: str) -> str:
    if not Web3.is_address(value):
        raise ConfigError(f"gas bench: {field} is not an address: {value!r}")
    return to_checksum_address(value)
