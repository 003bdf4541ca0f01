"""Seed-derived participants and the planning model (no chain needed)."""

from __future__ import annotations

import pickle
import random
from pathlib import Path

import pytest

from pkr_pilot.sim.model import Ledger, StepBudget
from pkr_pilot.sim.participants import derive_signer, make_participants
from pkr_pilot.sim.scenario import load_scenario

SMALL = Path(__file__).resolve().parents[2] / "scripts" / "scenarios" / "small.toml"


def test_keys_are_a_function_of_seed_role_and_index() -> None:
    a = derive_signer(7, "citizen", 3)
    assert a.address == derive_signer(7, "citizen", 3).address
    others = {derive_signer(8, "citizen", 3).address, derive_signer(7, "merchant", 3).address,
              derive_signer(7, "citizen", 4).address}
    assert a.address not in others and len(others) == 3


def test_a_participant_key_is_never_shown_or_pickled() -> None:
    signer = derive_signer(7, "bank", 0)
    key_hex = signer._account.key.hex()  # only to check it does not leak below
    assert key_hex not in repr(signer) and key_hex not in str(signer)
    with pytest.raises(TypeError):
        pickle.dumps(signer)


def test_participants_and_their_tiers_are_the_same_for_a_seed() -> None:
    scenario = load_scenario(SMALL)
    one = make_participants(scenario, 7, random.Random(7))  # noqa: S311
    two = make_participants(scenario, 7, random.Random(7))  # noqa: S311
    assert [(p.address, p.tier, p.bank) for p in one.everyone()] == [(p.address, p.tier, p.bank) for p in two.everyone()]
    assert len(one.everyone()) == scenario.wallets
    assert {p.tier for p in one.citizens} <= {t.tier for t in scenario.participants.tiers}
    assert len({p.address for p in one.everyone()}) == scenario.wallets


def test_a_step_budget_spends_only_available_money_within_the_daily_limit() -> None:
    ledger = Ledger(balance={"a": 1_000, "b": 0}, frozen={"a": 300}, tier={"a": 1, "b": 1},
                    tier_limits={1: (800, 500)}, limits=True)
    budget = StepBudget(ledger, day=10)
    assert budget.spendable("a") == 500  # 700 available, 500 daily limit
    assert budget.fit("a", "b", 450) == 450
    budget.take("a", "b", 450)
    assert budget.spendable("a") == 50
    assert budget.receivable("b") == 800 - 450
    ledger.transfer("a", "b", 450, timestamp=10 * 86_400 + 5)
    assert ledger.outflow_room("a", 10) == 50 and ledger.outflow_room("a", 11) == 500


def test_a_fully_frozen_wallet_can_neither_spend_nor_receive_in_the_plan() -> None:
    ledger = Ledger(balance={"a": 1_000, "b": 1_000}, full={"a"})
    budget = StepBudget(ledger, day=0)
    assert budget.fit("a", "b", 10) == 0
    assert budget.fit("b", "a", 10) == 0
    assert budget.fit("b", "b", 10) == 0  # never to oneself


def test_a_seizure_releases_the_frozen_part_first() -> None:
    ledger = Ledger(balance={"a": 1_000, "court": 0}, frozen={"a": 300})
    ledger.seize("a", "court", 500)
    assert (ledger.balance["a"], ledger.frozen["a"], ledger.balance["court"]) == (500, 0, 500)
