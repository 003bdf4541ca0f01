"""PilotRupee full and partial freeze: state changes, events, errors and what may still move."""

from __future__ import annotations

import pytest

from _stack import HOLDER_FUNDING, REF, PilotStack
from helpers import ZERO_ADDRESS, expect_revert, ref

pytestmark = [pytest.mark.both_backends, pytest.mark.behaviour]

MAX_UINT96 = 2**96 - 1


# ------------------------------------------------------------------------------ full freeze


def test_freeze_sets_flag_emits_and_zeroes_available_balance(stack: PilotStack) -> None:
    a = stack.actors
    receipt = stack.token.as_(a.freezer).freeze(a.alice, ref("case-1")).send()
    receipt.expect_event("Frozen", account=a.alice, ref=ref("case-1"))
    assert stack.token.view("isFrozen", a.alice) is True
    assert stack.token.view("availableBalanceOf", a.alice) == 0
    assert stack.balance(a.alice) == HOLDER_FUNDING  # the balance itself is untouched


def test_freeze_twice_reverts(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freeze(a.alice, REF).send()
    expect_revert(stack.token.as_(a.freezer).freeze(a.alice, REF), "AccountAlreadyFrozen", account=a.alice)


def test_freeze_zero_address_reverts(stack: PilotStack) -> None:
    expect_revert(stack.token.as_(stack.actors.freezer).freeze(ZERO_ADDRESS, REF), "ZeroAddress")


def test_unfreeze_restores_transfers_and_emits(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freeze(a.alice, REF).send()
    receipt = stack.token.as_(a.freezer).unfreeze(a.alice, ref("case-1 closed")).send()
    receipt.expect_event("Unfrozen", account=a.alice, ref=ref("case-1 closed"))
    assert stack.token.view("isFrozen", a.alice) is False
    stack.token.as_(a.alice).transfer(a.bob, 1).send()


def test_unfreeze_of_unfrozen_account_reverts(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(stack.token.as_(a.freezer).unfreeze(a.alice, REF), "AccountNotFrozen", account=a.alice)


def test_freeze_of_an_address_without_balance_is_allowed(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freeze(a.stranger, REF).send()
    expect_revert(stack.token.as_(a.alice).transfer(a.stranger, 1), "FrozenAccount", account=a.stranger)


def test_frozen_account_may_still_approve_but_the_allowance_is_useless_while_frozen(stack: PilotStack) -> None:
    """Approving moves no funds (spec): the spending paths re-check the owner's freeze."""
    a = stack.actors
    stack.token.as_(a.freezer).freeze(a.alice, REF).send()
    stack.token.as_(a.alice).approve(a.spender, 100).send()
    expect_revert(stack.token.as_(a.spender).transferFrom(a.alice, a.bob, 1), "FrozenAccount", account=a.alice)


def test_unfreeze_keeps_the_partial_freeze(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freezeAmount(a.alice, 100, REF).send()
    stack.token.as_(a.freezer).freeze(a.alice, REF).send()
    stack.token.as_(a.freezer).unfreeze(a.alice, REF).send()
    assert stack.token.view("frozenBalanceOf", a.alice) == 100
    assert stack.token.view("availableBalanceOf", a.alice) == HOLDER_FUNDING - 100


# ---------------------------------------------------------------------------- partial freeze


def test_freeze_amount_accumulates_and_emits_total(stack: PilotStack) -> None:
    a = stack.actors
    r1 = stack.token.as_(a.freezer).freezeAmount(a.alice, 100, ref("c1")).send()
    r1.expect_event("AmountFrozen", account=a.alice, amount=100, totalFrozen=100, ref=ref("c1"))
    r2 = stack.token.as_(a.freezer).freezeAmount(a.alice, 50, ref("c2")).send()
    r2.expect_event("AmountFrozen", account=a.alice, amount=50, totalFrozen=150, ref=ref("c2"))
    assert stack.token.view("frozenBalanceOf", a.alice) == 150
    assert stack.token.view("availableBalanceOf", a.alice) == HOLDER_FUNDING - 150


def test_only_the_available_part_moves(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freezeAmount(a.alice, 100, REF).send()
    available = HOLDER_FUNDING - 100
    expect_revert(
        stack.token.as_(a.alice).transfer(a.bob, available + 1),
        "InsufficientAvailableBalance", account=a.alice, available=available, needed=available + 1,
    )
    stack.token.as_(a.alice).transfer(a.bob, available).send()
    assert stack.balance(a.alice) == 100
    assert stack.token.view("availableBalanceOf", a.alice) == 0


def test_more_than_the_balance_reports_insufficient_balance_not_available(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freezeAmount(a.alice, 100, REF).send()
    expect_revert(
        stack.token.as_(a.alice).transfer(a.bob, HOLDER_FUNDING + 1),
        "ERC20InsufficientBalance", sender=a.alice, balance=HOLDER_FUNDING, needed=HOLDER_FUNDING + 1,
    )


def test_pre_emptive_freeze_larger_than_balance_is_allowed_and_nothing_underflows(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freezeAmount(a.stranger, 5_000, REF).send()
    assert stack.token.view("frozenBalanceOf", a.stranger) == 5_000
    assert stack.token.view("availableBalanceOf", a.stranger) == 0
    # Incoming funds are locked up to the frozen amount; only the excess moves.
    stack.token.as_(a.alice).transfer(a.stranger, 3_000).send()
    assert stack.token.view("availableBalanceOf", a.stranger) == 0
    expect_revert(
        stack.token.as_(a.stranger).transfer(a.bob, 1), "InsufficientAvailableBalance", account=a.stranger, available=0, needed=1
    )
    stack.token.as_(a.alice).transfer(a.stranger, 2_500).send()
    assert stack.token.view("availableBalanceOf", a.stranger) == 500
    stack.token.as_(a.stranger).transfer(a.bob, 500).send()
    assert stack.balance(a.stranger) == 5_000


def test_partially_frozen_account_still_receives(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freezeAmount(a.bob, HOLDER_FUNDING * 3, REF).send()
    stack.token.as_(a.alice).transfer(a.bob, 10).send()
    assert stack.balance(a.bob) == HOLDER_FUNDING + 10


def test_unfreeze_amount_releases_and_emits_remaining(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freezeAmount(a.alice, 100, REF).send()
    receipt = stack.token.as_(a.freezer).unfreezeAmount(a.alice, 60, ref("release")).send()
    receipt.expect_event("AmountUnfrozen", account=a.alice, amount=60, totalFrozen=40, ref=ref("release"))
    assert stack.token.view("frozenBalanceOf", a.alice) == 40


def test_unfreeze_amount_above_frozen_reverts_and_exact_passes(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freezeAmount(a.alice, 100, REF).send()
    expect_revert(
        stack.token.as_(a.freezer).unfreezeAmount(a.alice, 101, REF),
        "UnfreezeExceedsFrozen", account=a.alice, frozen=100, requested=101,
    )
    stack.token.as_(a.freezer).unfreezeAmount(a.alice, 100, REF).send()
    assert stack.token.view("frozenBalanceOf", a.alice) == 0


def test_freeze_amount_total_above_uint96_reverts(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freezeAmount(a.alice, MAX_UINT96, REF).send()
    expect_revert(
        stack.token.as_(a.freezer).freezeAmount(a.alice, 1, REF), "AmountTooLarge", amount=MAX_UINT96 + 1, max=MAX_UINT96
    )


def test_freeze_amount_for_zero_address_reverts(stack: PilotStack) -> None:
    expect_revert(stack.token.as_(stack.actors.freezer).freezeAmount(ZERO_ADDRESS, 1, REF), "ZeroAddress")


def test_full_freeze_on_top_of_partial_freeze_blocks_everything(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freezeAmount(a.alice, 100, REF).send()
    stack.token.as_(a.freezer).freeze(a.alice, REF).send()
    assert stack.token.view("availableBalanceOf", a.alice) == 0
    expect_revert(stack.token.as_(a.alice).transfer(a.bob, 1), "FrozenAccount", account=a.alice)


def test_freeze_and_unfreeze_work_while_paused(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.pauser).pause().send()
    stack.token.as_(a.freezer).freeze(a.alice, REF).send()
    stack.token.as_(a.freezer).unfreeze(a.alice, REF).send()
    stack.token.as_(a.freezer).freezeAmount(a.alice, 5, REF).send()
    stack.token.as_(a.freezer).unfreezeAmount(a.alice, 5, REF).send()
    assert stack.token.view("frozenBalanceOf", a.alice) == 0


def test_freeze_amount_beyond_96_bits_reverts_with_the_tokens_error_not_a_panic(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freezeAmount(a.alice, 5, REF).send()
    huge = 2**256 - 1  # frozen + huge would wrap: a Panic(0x11) before the fix
    expect_revert(stack.token.as_(a.freezer).freezeAmount(a.alice, huge, REF), "AmountTooLarge", amount=huge, max=MAX_UINT96)
    expect_revert(
        stack.token.as_(a.freezer).freezeAmount(a.alice, MAX_UINT96 + 1, REF), "AmountTooLarge", amount=MAX_UINT96 + 1,
        max=MAX_UINT96,
    )
    assert stack.token.view("frozenBalanceOf", a.alice) == 5
