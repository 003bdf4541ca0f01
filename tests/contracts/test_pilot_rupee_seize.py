"""PilotRupee seize (court order): only frozen funds, never to a frozen account, also while paused."""

from __future__ import annotations

import pytest

from _stack import HOLDER_FUNDING, REF, PilotStack
from helpers import ZERO_ADDRESS, expect_revert, ref

pytestmark = [pytest.mark.both_backends, pytest.mark.behaviour]


def test_seize_from_fully_frozen_account_moves_funds_and_emits_seized(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freeze(a.alice, REF).send()
    supply = stack.token.view("totalSupply")
    receipt = stack.token.as_(a.seizer).seize(a.alice, a.carol, 4_000, ref("court-order-9")).send()
    receipt.expect_event("Transfer", **{"from": a.alice, "to": a.carol, "value": 4_000})
    receipt.expect_event(
        "Seized", **{"from": a.alice, "to": a.carol, "amount": 4_000, "totalFrozen": 0, "ref": ref("court-order-9")}
    )
    assert stack.balance(a.alice) == HOLDER_FUNDING - 4_000
    assert stack.balance(a.carol) == HOLDER_FUNDING + 4_000
    assert stack.token.view("totalSupply") == supply
    assert stack.token.view("isFrozen", a.alice) is True  # seizing does not unfreeze


def test_seize_whole_balance_of_fully_frozen_account(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freeze(a.alice, REF).send()
    stack.token.as_(a.seizer).seize(a.alice, a.carol, HOLDER_FUNDING, REF).send()
    assert stack.balance(a.alice) == 0


def test_seize_above_balance_of_fully_frozen_account_reverts(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freeze(a.alice, REF).send()
    expect_revert(
        stack.token.as_(a.seizer).seize(a.alice, a.carol, HOLDER_FUNDING + 1, REF),
        "SeizeExceedsFrozen", account=a.alice, seizable=HOLDER_FUNDING, requested=HOLDER_FUNDING + 1,
    )


def test_seize_takes_only_the_frozen_part_and_reduces_it(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freezeAmount(a.alice, 300, REF).send()
    expect_revert(
        stack.token.as_(a.seizer).seize(a.alice, a.carol, 301, REF),
        "SeizeExceedsFrozen", account=a.alice, seizable=300, requested=301,
    )
    stack.token.as_(a.seizer).seize(a.alice, a.carol, 200, REF).send()
    assert stack.token.view("frozenBalanceOf", a.alice) == 100
    assert stack.token.view("availableBalanceOf", a.alice) == HOLDER_FUNDING - 300
    stack.token.as_(a.seizer).seize(a.alice, a.carol, 100, REF).send()
    assert stack.token.view("frozenBalanceOf", a.alice) == 0


def test_seize_from_unfrozen_account_reverts_with_nothing_seizable(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(
        stack.token.as_(a.seizer).seize(a.alice, a.carol, 1, REF), "SeizeExceedsFrozen", account=a.alice, seizable=0, requested=1
    )


def test_pre_emptive_frozen_amount_above_balance_is_seizable_up_to_the_balance(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.alice).transfer(a.stranger, 700).send()
    stack.token.as_(a.freezer).freezeAmount(a.stranger, 1_000, REF).send()
    expect_revert(
        stack.token.as_(a.seizer).seize(a.stranger, a.carol, 701, REF),
        "SeizeExceedsFrozen", account=a.stranger, seizable=700, requested=701,
    )
    stack.token.as_(a.seizer).seize(a.stranger, a.carol, 700, REF).send()
    assert stack.balance(a.stranger) == 0
    assert stack.token.view("frozenBalanceOf", a.stranger) == 300


def test_seize_from_fully_frozen_account_reduces_its_partial_freeze(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freezeAmount(a.alice, 500, REF).send()
    stack.token.as_(a.freezer).freeze(a.alice, REF).send()
    stack.token.as_(a.seizer).seize(a.alice, a.carol, 800, REF).send()
    assert stack.token.view("frozenBalanceOf", a.alice) == 0
    assert stack.balance(a.alice) == HOLDER_FUNDING - 800


def test_seize_to_a_frozen_account_reverts(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freeze(a.alice, REF).send()
    stack.token.as_(a.freezer).freeze(a.carol, REF).send()
    expect_revert(stack.token.as_(a.seizer).seize(a.alice, a.carol, 1, REF), "FrozenAccount", account=a.carol)


def test_seize_to_a_partially_frozen_account_passes(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freeze(a.alice, REF).send()
    stack.token.as_(a.freezer).freezeAmount(a.carol, 10, REF).send()
    stack.token.as_(a.seizer).seize(a.alice, a.carol, 1, REF).send()


def test_seize_with_zero_addresses_reverts(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(stack.token.as_(a.seizer).seize(ZERO_ADDRESS, a.carol, 1, REF), "ERC20InvalidSender", sender=ZERO_ADDRESS)
    expect_revert(stack.token.as_(a.seizer).seize(a.alice, ZERO_ADDRESS, 1, REF), "ERC20InvalidReceiver", receiver=ZERO_ADDRESS)


def test_seize_works_while_paused(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freeze(a.alice, REF).send()
    stack.token.as_(a.pauser).pause().send()
    stack.token.as_(a.seizer).seize(a.alice, a.carol, 5, REF).send()
    assert stack.balance(a.carol) == HOLDER_FUNDING + 5


def test_seize_does_not_count_as_the_holders_daily_outflow(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.kyc).setTier(a.alice, 3, REF).send()
    stack.token.as_(a.kyc).setTier(a.carol, 3, REF).send()
    stack.token.as_(a.admin).setLimitsMode(True, REF).send()
    stack.token.as_(a.freezer).freeze(a.alice, REF).send()
    stack.token.as_(a.seizer).seize(a.alice, a.carol, 1_000, REF).send()
    assert stack.token.view("outflowToday", a.alice) == 0


# ------------------------------------------------------------------ review findings


def test_seize_from_an_account_to_itself_is_refused(stack: PilotStack) -> None:
    # Before the fix the debit and the credit cancelled out and only the partial freeze was lifted,
    # logged as a Seized instead of an unfreeze.
    a = stack.actors
    stack.token.as_(a.freezer).freezeAmount(a.alice, 300, REF).send()
    expect_revert(stack.token.as_(a.seizer).seize(a.alice, a.alice, 300, REF), "SelfSeizure", account=a.alice)
    assert stack.token.view("frozenBalanceOf", a.alice) == 300


def test_seize_of_zero_is_refused(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freeze(a.alice, REF).send()
    expect_revert(stack.token.as_(a.seizer).seize(a.alice, a.carol, 0, REF), "ZeroAmount")


def test_seize_that_lowers_the_frozen_amount_says_the_new_total(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freezeAmount(a.alice, 500, REF).send()
    receipt = stack.token.as_(a.seizer).seize(a.alice, a.carol, 200, ref("order-1")).send()
    receipt.expect_event("Seized", **{"from": a.alice, "to": a.carol, "amount": 200, "totalFrozen": 300, "ref": ref("order-1")})
    assert stack.token.view("frozenBalanceOf", a.alice) == 300
    # A fully frozen account with a partial freeze: the seizure takes the frozen part first.
    stack.token.as_(a.freezer).freeze(a.alice, REF).send()
    receipt = stack.token.as_(a.seizer).seize(a.alice, a.carol, 1_000, ref("order-2")).send()
    receipt.expect_event("Seized", **{"from": a.alice, "to": a.carol, "amount": 1_000, "totalFrozen": 0, "ref": ref("order-2")})
