"""PilotRupee redemption burns: who may burn, from which part of a balance, and when."""

from __future__ import annotations

import pytest

from _stack import HOLDER_FUNDING, REF, PilotStack
from helpers import ZERO_ADDRESS, expect_revert, ref

pytestmark = pytest.mark.both_backends


def fund(stack: PilotStack, who: object, amount: int) -> None:
    stack.token.as_(stack.actors.alice).transfer(who, amount).send()


def test_burner_role_burns_own_balance_and_emits_burned(stack: PilotStack) -> None:
    a = stack.actors
    fund(stack, a.burner, 1_000)
    supply = stack.token.view("totalSupply")
    receipt = stack.token.as_(a.burner).burn(600, ref("redeem-1")).send()
    receipt.expect_event("Transfer", **{"from": a.burner, "to": ZERO_ADDRESS, "value": 600})
    receipt.expect_event("Burned", burner=a.burner, amount=600, ref=ref("redeem-1"))
    assert stack.balance(a.burner) == 400
    assert stack.token.view("totalSupply") == supply - 600


def test_configured_minter_may_burn_its_own_balance(stack: PilotStack) -> None:
    a = stack.actors
    fund(stack, a.minter, 1_000)
    stack.token.as_(a.minter).burn(1_000, REF).send()
    assert stack.balance(a.minter) == 0


def test_burn_does_not_restore_minter_allowance(stack: PilotStack) -> None:
    a = stack.actors
    fund(stack, a.minter, 1_000)
    before = stack.token.view("minterAllowance", a.minter)
    stack.token.as_(a.minter).burn(1_000, REF).send()
    assert stack.token.view("minterAllowance", a.minter) == before


def test_holder_without_role_cannot_burn(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(stack.token.as_(a.alice).burn(1, REF), "NotBurner", account=a.alice)


def test_removed_minter_cannot_burn(stack: PilotStack) -> None:
    a = stack.actors
    fund(stack, a.minter, 10)
    stack.token.as_(a.minter_admin).removeMinter(a.minter, REF).send()
    expect_revert(stack.token.as_(a.minter).burn(10, REF), "NotBurner", account=a.minter)


def test_burn_above_balance_reverts(stack: PilotStack) -> None:
    a = stack.actors
    fund(stack, a.burner, 10)
    expect_revert(stack.token.as_(a.burner).burn(11, REF), "ERC20InsufficientBalance", sender=a.burner, balance=10, needed=11)


def test_burn_of_the_partially_frozen_part_reverts(stack: PilotStack) -> None:
    a = stack.actors
    fund(stack, a.burner, 100)
    stack.token.as_(a.freezer).freezeAmount(a.burner, 30, REF).send()
    expect_revert(
        stack.token.as_(a.burner).burn(71, REF), "InsufficientAvailableBalance", account=a.burner, available=70, needed=71
    )
    stack.token.as_(a.burner).burn(70, REF).send()
    assert stack.balance(a.burner) == 30


def test_burn_by_fully_frozen_burner_reverts(stack: PilotStack) -> None:
    a = stack.actors
    fund(stack, a.burner, 100)
    stack.token.as_(a.freezer).freeze(a.burner, REF).send()
    expect_revert(stack.token.as_(a.burner).burn(1, REF), "FrozenAccount", account=a.burner)


def test_burn_reverts_when_paused(stack: PilotStack) -> None:
    a = stack.actors
    fund(stack, a.burner, 100)
    stack.token.as_(a.pauser).pause().send()
    expect_revert(stack.token.as_(a.burner).burn(1, REF), "EnforcedPause")


def test_burning_everything_brings_supply_to_zero(stack: PilotStack) -> None:
    a = stack.actors
    for holder in (a.alice, a.bob, a.carol, a.dave, a.spender):
        stack.token.as_(holder).transfer(a.burner, HOLDER_FUNDING).send()
    stack.token.as_(a.burner).burn(5 * HOLDER_FUNDING, REF).send()
    assert stack.token.view("totalSupply") == 0
