"""PilotRupee gas budgets (issue 3) and the cost of the controls when on (issue 4).

One anvil, one deployment, one bench run for the whole module: every figure is a receipt's
gasUsed through the proxy, each operation its own transaction with cold slots.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pkr_pilot.gasbench import EXTRA_SCENARIOS, GAS_BUDGETS, over_budget, run_gas_scenarios

try:
    from tests.contracts._gas_stack import GasStack, anvil, deploy_gas_stack
except ImportError:  # tests/ run without the repository root on sys.path
    from _gas_stack import GasStack, anvil, deploy_gas_stack  # type: ignore[no-redef,import-not-found]

EIP170_LIMIT = 24_576


@pytest.fixture(scope="module")
def stack() -> Iterator[GasStack]:
    with anvil() as w3:
        yield deploy_gas_stack(w3)


@pytest.fixture(scope="module")
def gas(stack: GasStack) -> dict[str, int]:
    return run_gas_scenarios(stack.w3, stack.token, stack.accounts)


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


def test_transfer_costs_more_with_limits_on_than_off(gas: dict[str, int]) -> None:
    # Limits on reads two tier-limit words and rewrites the sender's outflow word.
    assert gas["transfer"] < gas["transfer_limits_on"] < gas["transfer_limits_on_first_outflow"]
    assert gas["transfer"] < gas["transfer_allowlist_on"]


def test_bench_leaves_the_controls_switched_off(stack: GasStack, gas: dict[str, int]) -> None:
    t = stack.token.functions
    assert t.limitsEnabled().call() is False
    assert t.allowlistEnabled().call() is False


def test_implementation_fits_the_eip170_code_size_limit(stack: GasStack) -> None:
    # anvil enforces EIP-170, so the deployment itself proves it; keep the margin visible.
    size = len(stack.w3.eth.get_code(stack.implementation))
    assert 0 < size <= EIP170_LIMIT
