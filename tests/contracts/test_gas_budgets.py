"""PilotRupee gas budgets (issue 3) and the cost of the controls when on (issue 4).

One anvil, one deployment, one bench run for the whole module: every figure is a receipt's
gasUsed through the proxy, each operation its own transaction with cold slots.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _gas_stack import GasStack, anvil, deploy_gas_stack
from web3.types import TxReceipt

from pkr_pilot.bench.gas import (
    EXTRA_SCENARIOS,
    GAS_BUDGETS,
    REFERENCE_OVERHEAD_BUDGET,
    over_budget,
    run_gas_scenarios,
)
from pkr_pilot.contracts import Call, ContractHandle
from pkr_pilot.errors import ConfigError

EIP170_LIMIT = 24_576


def _token(stack: GasStack) -> ContractHandle:
    """The bench's view of the deployed proxy: the typed layer."""
    return ContractHandle(stack.w3, stack.token.address, stack.token.abi, name="PilotRupee")


@pytest.fixture(scope="module")
def stack() -> Iterator[GasStack]:
    with anvil() as w3:
        yield deploy_gas_stack(w3)


@pytest.fixture(scope="module")
def gas(stack: GasStack) -> dict[str, int]:
    return run_gas_scenarios(stack.w3, _token(stack), stack.accounts)


def test_bench_runs_exactly_the_budget_scenarios_then_the_extras(gas: dict[str, int]) -> None:
    assert list(gas) == [*GAS_BUDGETS, *EXTRA_SCENARIOS]


@pytest.mark.parametrize("operation", list(GAS_BUDGETS))
def test_operation_stays_within_its_gas_budget(gas: dict[str, int], operation: str) -> None:
    assert gas[operation] <= GAS_BUDGETS[operation], (
        f"{operation} used {gas[operation]} gas, budget {GAS_BUDGETS[operation]}"
    )


def test_over_budget_reports_nothing_for_the_measured_figures(gas: dict[str, int]) -> None:
    assert over_budget(gas) == {}


def test_over_budget_flags_a_figure_above_its_budget() -> None:
    figures = {op: budget for op, budget in GAS_BUDGETS.items()}
    figures["transfer"] = GAS_BUDGETS["transfer"] + 1
    assert over_budget(figures) == {
        "transfer": (GAS_BUDGETS["transfer"] + 1, GAS_BUDGETS["transfer"])
    }


def test_transfer_with_reference_costs_at_most_the_overhead_budget_above_transfer(gas: dict[str, int]) -> None:
    # Issue 10: 32 more calldata bytes (<= 512) and one lean log (2 topics, no data).
    overhead = gas["transfer_with_reference"] - gas["transfer"]
    assert 0 < overhead <= REFERENCE_OVERHEAD_BUDGET, f"transfer_with_reference costs {overhead} more than transfer"


def test_strict_mode_further_refs_of_a_word_are_much_cheaper_than_the_first(gas: dict[str, int]) -> None:
    # The first ref of a bitmap word creates a slot (zero to nonzero, 20,000 + 2,100 cold); a ref
    # sharing the word rewrites it (2,900 + 2,100 cold).
    first, same_word = gas["transfer_with_unique_reference"], gas["transfer_with_unique_reference_same_word"]
    assert gas["transfer_with_reference"] < same_word < first
    assert first - same_word >= 15_000


def test_over_budget_holds_transfer_with_reference_to_transfer_plus_the_overhead() -> None:
    figures = dict(GAS_BUDGETS)
    figures["transfer"] = 40_000
    figures["transfer_with_reference"] = 40_000 + REFERENCE_OVERHEAD_BUDGET + 1
    assert over_budget(figures) == {
        "transfer_with_reference": (40_000 + REFERENCE_OVERHEAD_BUDGET + 1, 40_000 + REFERENCE_OVERHEAD_BUDGET)
    }


def test_transfer_costs_more_with_limits_on_than_off(gas: dict[str, int]) -> None:
    # Limits on reads two tier-limit words and rewrites the sender's outflow word.
    assert gas["transfer"] < gas["transfer_limits_on"] < gas["transfer_limits_on_first_outflow"]
    assert gas["transfer"] < gas["transfer_allowlist_on"]


def test_bench_sends_through_a_custom_transact_and_measures_the_same(
    stack: GasStack, gas: dict[str, int]
) -> None:
    # A second, fresh deployment on the same node; every call goes through the seam.
    fresh = deploy_gas_stack(stack.w3)
    sent: list[tuple[str, str]] = []

    def transact(call: Call, sender: str) -> TxReceipt:
        sent.append((call.function, sender))
        tx_hash = fresh.w3.eth.send_transaction({"from": sender, "gas": 1_000_000, **call.tx()})
        return fresh.w3.eth.wait_for_transaction_receipt(tx_hash)

    again = run_gas_scenarios(fresh.w3, _token(fresh), fresh.accounts, transact=transact)
    assert again == gas
    assert ("transfer", fresh.accounts.sender) in sent
    assert ("freeze", fresh.accounts.freezer) in sent


def test_bench_refuses_a_chain_with_controls_switched_on(stack: GasStack) -> None:
    fresh = deploy_gas_stack(stack.w3)
    admin = fresh.accounts.admin
    t = fresh.token.functions
    receipt = fresh.w3.eth.wait_for_transaction_receipt(
        t.setLimitsMode(True, b"\x01" * 32).transact({"from": admin})
    )
    assert receipt["status"] == 1
    with pytest.raises(ConfigError, match="tier limits or allowlist mode is on"):
        run_gas_scenarios(fresh.w3, _token(fresh), fresh.accounts)


def test_bench_leaves_the_controls_switched_off(stack: GasStack, gas: dict[str, int]) -> None:
    t = stack.token.functions
    assert t.limitsEnabled().call() is False
    assert t.allowlistEnabled().call() is False


def test_implementation_fits_the_eip170_code_size_limit(stack: GasStack) -> None:
    # anvil enforces EIP-170, so the deployment itself proves it; keep the margin visible.
    size = len(stack.w3.eth.get_code(stack.implementation))
    assert 0 < size <= EIP170_LIMIT


# The budgets rest on the packed layout (contracts/README.md); the assembly slot helpers hard-code
# the `accounts` (root + 4) and `allowances` (root + 5) mapping slots. Read them straight from
# storage after the bench and compare with the views.
NAMESPACE_ROOT = 0x9FDFE9D5F4ED7EE0FDE9AA4F4454B07CDBF4E77D7F78D69B61AF7D30576E3500
MASK96 = (1 << 96) - 1


def _mapping_slot(key: str, slot: int) -> int:
    from eth_abi.abi import encode
    from eth_utils.crypto import keccak

    return int.from_bytes(keccak(encode(["address", "uint256"], [key, slot])), "big")


def test_namespace_root_is_the_erc7201_slot_of_the_documented_namespace() -> None:
    from eth_utils.crypto import keccak

    inner = int.from_bytes(keccak(text="pkrpilot.storage.PilotRupee"), "big") - 1
    root = int.from_bytes(keccak(inner.to_bytes(32, "big")), "big") & ~0xFF
    assert root == NAMESPACE_ROOT


def test_account_and_global_words_hold_the_documented_fields(
    stack: GasStack, gas: dict[str, int]
) -> None:
    w3, t, a = stack.w3, stack.token.functions, stack.accounts
    word = int.from_bytes(
        w3.eth.get_storage_at(stack.token.address, _mapping_slot(a.sender, NAMESPACE_ROOT + 4)),
        "big",
    )
    assert word & MASK96 == t.balanceOf(a.sender).call()
    assert (word >> 96) & MASK96 == t.frozenBalanceOf(a.sender).call()
    assert (word >> 200) & 0xFF == t.tierOf(a.sender).call() == 1  # set by the limits-on extras
    assert (word >> 192) & 1 == 0
    glob = int.from_bytes(w3.eth.get_storage_at(stack.token.address, NAMESPACE_ROOT), "big")
    assert glob & MASK96 == t.totalSupply().call()
    assert (glob >> 96) & MASK96 == t.supplyCap().call()
    assert (glob >> 192) & 0b111 == 0  # paused, limits, allowlist all off


def test_allowance_lives_in_the_documented_nested_mapping(
    stack: GasStack, gas: dict[str, int]
) -> None:
    from eth_abi.abi import encode
    from eth_utils.crypto import keccak

    a = stack.accounts
    outer = _mapping_slot(a.sender, NAMESPACE_ROOT + 5)
    inner = int.from_bytes(keccak(encode(["address", "uint256"], [a.spender, outer])), "big")
    stored = int.from_bytes(stack.w3.eth.get_storage_at(stack.token.address, inner), "big")
    assert stored == stack.token.functions.allowance(a.sender, a.spender).call() > 0
