"""proofs/run.py (`make prove`'s judge) without halmos: the pairing of rules and twins over the real
proof sources, and the verdicts it draws from halmos's results.

`make prove` itself runs the proofs (minutes, its own venv); these tests keep the bookkeeping honest
in `make test`: a rule added without a twin, a twin left without its rule, or a twin that passes must
fail the run.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

RUN_PY = Path(__file__).resolve().parents[2] / "proofs" / "run.py"


@pytest.fixture(scope="module")
def run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("prove_run", RUN_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["prove_run"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def _as_expected(run: ModuleType, checks: list) -> list:
    """One halmos outcome per check, each as it should be: rules proved, twins with a counterexample."""
    return [
        run.Outcome(
            name=c.name,
            exitcode=1 if c.name.startswith(run.TWIN) else 0,
            models=1 if c.name.startswith(run.TWIN) else 0,
            paths=3,
            seconds=0.5,
            bounded_loops=0,
        )
        for c in checks
    ]


def test_every_rule_in_the_sources_has_its_twin(run: ModuleType) -> None:
    checks = run.discover({})
    rows, problems = run.judge(_as_expected(run, checks), checks)
    assert problems == []
    assert len(rows) == len(checks)
    rules = [r for c in checks for r in c.rules]
    assert len(rules) == len(set(rules)), "a rule proved by two checks"
    # The rules table (issue 11), each proved by some check.
    for rule in (
        "transfer", "transferFrom", "approve", "permit", "mint", "burn", "burnNeedsRole",
        "supplyIsSumOfBalances", "onlyMintBurnChangeSupply", "zeroAddressHoldsNothing",
        "onlyHolderOrSpenderReduces", "onlyHolderOrPermitRaisesAllowance", "frozenNeverMoves",
        "partialFreezeFloor", "noRoleChangesNoControls", "noRoleMulticall",
        "zeroSenderMovesNothing", "mintBounded", "pauseStopsMoney", "tierLimits",
        "deskDistinctApprovals", "deskRefOnce", "deskDeadRequestNeverExecutes",
    ):  # fmt: skip
        assert rule in rules
        assert any(c.name == run.TWIN + rule for c in checks)


def test_a_shared_check_lists_its_rules(run: ModuleType) -> None:
    shared = {c.name: c.rules for c in run.discover({}) if len(c.rules) > 1}
    assert shared["check_anyCallMoneyRules"] == (
        "onlyMintBurnChangeSupply", "zeroAddressHoldsNothing", "mintBounded",
        "onlyHolderOrSpenderReduces", "onlyHolderOrPermitRaisesAllowance", "partialFreezeFloor",
        "zeroSenderMovesNothing",
    )  # fmt: skip


def test_a_passing_twin_fails_the_run(run: ModuleType) -> None:
    checks = run.discover({})
    outcomes = [
        o if o.name != "check_twin_partialFreezeFloor" else run.Outcome(o.name, 0, 0, 3, 0.5, 0)
        for o in _as_expected(run, checks)
    ]
    _, problems = run.judge(outcomes, checks)
    assert problems == ["check_twin_partialFreezeFloor: expected counterexample, got proved"]


def test_a_rule_of_a_shared_check_without_its_twin_fails_the_run(run: ModuleType) -> None:
    checks = [c for c in run.discover({}) if c.name != "check_twin_mintBounded"]
    _, problems = run.judge(_as_expected(run, checks), checks)
    assert problems == [
        "mintBounded (check_anyCallMoneyRules): a rule without a twin (add check_twin_mintBounded)"
    ]


def test_a_twin_without_its_rule_fails_the_run(run: ModuleType) -> None:
    checks = [c for c in run.discover({}) if c.name != "check_transfer"]
    _, problems = run.judge(_as_expected(run, checks), checks)
    assert problems == ["check_twin_transfer: a twin without its rule"]


def test_match_selects_a_shared_check_with_all_its_twins(run: ModuleType) -> None:
    names = {c.name for c in run.select(run.discover({}), "partialFreeze")}
    assert "check_anyCallMoneyRules" in names
    assert "check_twin_zeroSenderMovesNothing" in names  # every twin of the shared check's rules
    assert "check_transfer" not in names
    twin_only = {c.name for c in run.select(run.discover({}), "twin_mint$")}
    assert twin_only == {"check_twin_mint", "check_mint"}


def test_runs_are_balanced_by_last_seconds(run: ModuleType) -> None:
    checks = [run.Check("check_a", ("a",), 100.0), run.Check("check_b", ("b",), 60.0)]
    checks += [run.Check(f"check_c{i}", (f"c{i}",), 10.0) for i in range(4)]
    parts = run.split(checks, 2)
    weight = {c.name: c.weight for c in checks}
    assert sorted(sum(weight[n] for n in part) for part in parts) == [100.0, 100.0]


def test_first_run_weights_only_unpinned_any_call_checks_heavy(run: ModuleType) -> None:
    heavy = {c.name for c in run.discover({}) if c.weight > 5}
    assert heavy == {
        "check_anyCallMoneyRules", "check_frozenNeverMoves", "check_pauseStopsMoney",
        "check_tierLimits", "check_noRoleChangesNoControls", "check_noRoleMulticall",
    }  # fmt: skip
    assert (
        next(c for c in run.discover({"check_transfer": 42.0}) if c.name == "check_transfer").weight
        == 42.0
    )
