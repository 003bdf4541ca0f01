"""Wallet tiers, limits and allowlist mode (issue 4, items 3 and 5).

Each limit at its edge: exactly at the limit passes, one base unit above fails with an error that
carries the account, the limit and the attempted amount; the daily window rolls over at the UTC day
boundary; and no limit can be bypassed through transferFrom, permit, EIP-3009 or multicall.
"""

from __future__ import annotations

import pytest

from _stack import HOLDER_FUNDING, REF, TIERS, PilotStack
from helpers import Actor, expect_revert, ref

pytestmark = [pytest.mark.both_backends, pytest.mark.behaviour]

UNLIMITED = 2**128 - 1
DAY = 86_400
TIER = 5
OUTFLOW_LIMIT = 1_000
#: Receivers in TIER may hold HOLDER_FUNDING plus this much.
HEADROOM = 2_000


def limits_on(stack: PilotStack, *members: Actor, max_balance: int = HOLDER_FUNDING + HEADROOM,
              max_outflow: int = OUTFLOW_LIMIT) -> None:
    """Tier TIER with the given limits for ``members``; limits mode on."""
    a = stack.actors
    stack.token.as_(a.admin).setTierLimits(TIER, max_balance, max_outflow, REF).send()
    for member in members:
        stack.token.as_(a.kyc).setTier(member, TIER, REF).send()
    stack.token.as_(a.admin).setLimitsMode(True, REF).send()


# --------------------------------------------------------------------------- configuration


def test_controls_start_off_with_the_deployed_tier_table(stack: PilotStack) -> None:
    t = stack.token
    assert t.view("limitsEnabled") is False
    assert t.view("allowlistEnabled") is False
    for tier, (max_balance, max_outflow) in TIERS.items():
        assert t.view("tierLimits", tier) == (max_balance, max_outflow)


def test_set_tier_emits_and_is_read_back(stack: PilotStack) -> None:
    a = stack.actors
    receipt = stack.token.as_(a.kyc).setTier(a.alice, 2, ref("kyc-77")).send()
    receipt.expect_event("TierSet", account=a.alice, tier=2, ref=ref("kyc-77"))
    assert stack.token.view("tierOf", a.alice) == 2


def test_set_tier_keeps_balance_and_freeze_state(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freezeAmount(a.alice, 9, REF).send()
    stack.token.as_(a.kyc).setTier(a.alice, 255, REF).send()
    assert stack.balance(a.alice) == HOLDER_FUNDING
    assert stack.token.view("frozenBalanceOf", a.alice) == 9
    assert stack.token.view("tierOf", a.alice) == 255


def test_set_tier_for_zero_address_reverts(stack: PilotStack) -> None:
    from helpers import ZERO_ADDRESS

    expect_revert(stack.token.as_(stack.actors.kyc).setTier(ZERO_ADDRESS, 1, REF), "ZeroAddress")


def test_set_tier_limits_emits_and_caps_at_unlimited(stack: PilotStack) -> None:
    a = stack.actors
    receipt = stack.token.as_(a.admin).setTierLimits(9, 2**200, 2**129, ref("limits")).send()
    receipt.expect_event("TierLimitsSet", tier=9, maxBalance=UNLIMITED, maxDailyOutflow=UNLIMITED, ref=ref("limits"))
    assert stack.token.view("tierLimits", 9) == (UNLIMITED, UNLIMITED)


def test_modes_emit_their_events(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.admin).setLimitsMode(True, ref("on")).send().expect_event("LimitsModeSet", enabled=True, ref=ref("on"))
    stack.token.as_(a.admin).setAllowlistMode(True, ref("al")).send().expect_event(
        "AllowlistModeSet", enabled=True, ref=ref("al")
    )
    assert stack.token.view("limitsEnabled") is True
    assert stack.token.view("allowlistEnabled") is True


def test_set_exempt_emits_and_is_read_back(stack: PilotStack) -> None:
    a = stack.actors
    receipt = stack.token.as_(a.admin).setExempt(a.alice, True, ref("desk")).send()
    receipt.expect_event("ExemptionSet", account=a.alice, exempt=True, ref=ref("desk"))
    assert stack.token.view("isExempt", a.alice) is True
    assert stack.token.view("isAllowlisted", a.alice) is True
    stack.token.as_(a.admin).setExempt(a.alice, False, REF).send()
    assert stack.token.view("isExempt", a.alice) is False
    assert stack.token.view("isAllowlisted", a.alice) is False


# ----------------------------------------------------------------------------- balance limit


def test_receive_exactly_up_to_max_balance_passes_and_one_unit_more_fails(stack: PilotStack) -> None:
    a = stack.actors
    limits_on(stack, a.alice, a.bob, max_outflow=UNLIMITED)
    limit = HOLDER_FUNDING + HEADROOM
    expect_revert(
        stack.token.as_(a.alice).transfer(a.bob, HEADROOM + 1),
        "TierBalanceLimitExceeded", account=a.bob, limit=limit, attempted=limit + 1,
    )
    stack.token.as_(a.alice).transfer(a.bob, HEADROOM).send()
    assert stack.balance(a.bob) == limit
    expect_revert(stack.token.as_(a.alice).transfer(a.bob, 1), "TierBalanceLimitExceeded", account=a.bob, limit=limit,
                  attempted=limit + 1)


def test_limits_off_means_no_balance_limit(stack: PilotStack) -> None:
    a = stack.actors
    limits_on(stack, a.alice, a.bob)
    stack.token.as_(a.admin).setLimitsMode(False, REF).send()
    stack.token.as_(a.alice).transfer(a.bob, HEADROOM * 10).send()


def test_exempt_account_has_no_limits(stack: PilotStack) -> None:
    a = stack.actors
    limits_on(stack, a.alice, a.bob)
    stack.token.as_(a.admin).setExempt(a.bob, True, REF).send()
    stack.token.as_(a.admin).setExempt(a.alice, True, REF).send()
    stack.token.as_(a.alice).transfer(a.bob, OUTFLOW_LIMIT + HEADROOM + 1).send()
    assert stack.token.view("outflowToday", a.alice) == 0


def test_mint_above_recipients_max_balance_reverts(stack: PilotStack) -> None:
    a = stack.actors
    limits_on(stack, a.alice)
    limit = HOLDER_FUNDING + HEADROOM
    expect_revert(
        stack.token.as_(a.minter).mint(a.alice, HEADROOM + 1, REF),
        "TierBalanceLimitExceeded", account=a.alice, limit=limit, attempted=limit + 1,
    )
    stack.token.as_(a.minter).mint(a.alice, HEADROOM, REF).send()


def test_seize_respects_the_recipients_max_balance(stack: PilotStack) -> None:
    a = stack.actors
    limits_on(stack, a.carol)
    stack.token.as_(a.freezer).freeze(a.alice, REF).send()
    limit = HOLDER_FUNDING + HEADROOM
    expect_revert(
        stack.token.as_(a.seizer).seize(a.alice, a.carol, HEADROOM + 1, REF),
        "TierBalanceLimitExceeded", account=a.carol, limit=limit, attempted=limit + 1,
    )


# ------------------------------------------------------------------------------ daily outflow


def test_outflow_exactly_at_the_daily_limit_passes_and_one_unit_more_fails(stack: PilotStack) -> None:
    a = stack.actors
    limits_on(stack, a.alice, a.bob)
    day_start = (stack.now() // DAY + 1) * DAY
    stack.set_next_timestamp(day_start + 10)
    stack.token.as_(a.alice).transfer(a.bob, 600).send()
    stack.token.as_(a.alice).transfer(a.bob, OUTFLOW_LIMIT - 600).send()
    assert stack.token.view("outflowToday", a.alice) == OUTFLOW_LIMIT
    expect_revert(
        stack.token.as_(a.alice).transfer(a.bob, 1),
        "TierDailyOutflowExceeded", account=a.alice, limit=OUTFLOW_LIMIT, attempted=OUTFLOW_LIMIT + 1,
    )


def test_single_transfer_one_unit_above_the_daily_limit_fails(stack: PilotStack) -> None:
    a = stack.actors
    limits_on(stack, a.alice, a.bob)
    expect_revert(
        stack.token.as_(a.alice).transfer(a.bob, OUTFLOW_LIMIT + 1),
        "TierDailyOutflowExceeded", account=a.alice, limit=OUTFLOW_LIMIT, attempted=OUTFLOW_LIMIT + 1,
    )
    stack.token.as_(a.alice).transfer(a.bob, OUTFLOW_LIMIT).send()


def test_daily_window_rolls_over_at_the_utc_day_boundary(stack: PilotStack) -> None:
    a = stack.actors
    limits_on(stack, a.alice, a.bob)
    next_day = (stack.now() // DAY + 1) * DAY
    stack.set_next_timestamp(next_day - 2)
    stack.token.as_(a.alice).transfer(a.bob, OUTFLOW_LIMIT).send()
    # Still the same day (the last second of it): nothing more may leave.
    stack.set_next_timestamp(next_day - 1)
    expect_revert(
        stack.token.as_(a.alice).transfer(a.bob, 1),
        "TierDailyOutflowExceeded", account=a.alice, limit=OUTFLOW_LIMIT, attempted=OUTFLOW_LIMIT + 1,
    )
    # First second of the next day: the counter starts again from zero.
    stack.set_next_timestamp(next_day)
    stack.token.as_(a.alice).transfer(a.bob, OUTFLOW_LIMIT).send()
    assert stack.token.view("outflowToday", a.alice) == OUTFLOW_LIMIT


def test_outflow_is_not_counted_while_limits_are_off(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.alice).transfer(a.bob, 5 * OUTFLOW_LIMIT).send()
    limits_on(stack, a.alice, a.bob, max_balance=UNLIMITED)
    assert stack.token.view("outflowToday", a.alice) == 0
    stack.token.as_(a.alice).transfer(a.bob, OUTFLOW_LIMIT).send()


def test_burn_counts_towards_the_burners_daily_outflow(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.alice).transfer(a.burner, 2 * OUTFLOW_LIMIT).send()
    limits_on(stack, a.burner)
    stack.token.as_(a.burner).burn(OUTFLOW_LIMIT, REF).send()
    expect_revert(
        stack.token.as_(a.burner).burn(1, REF),
        "TierDailyOutflowExceeded", account=a.burner, limit=OUTFLOW_LIMIT, attempted=OUTFLOW_LIMIT + 1,
    )


# --------------------------------------------------------------------------------- allowlist


def test_allowlist_refuses_tier_zero_recipients_and_accepts_tiered_or_exempt(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.admin).setAllowlistMode(True, REF).send()
    expect_revert(stack.token.as_(a.alice).transfer(a.bob, 1), "NotAllowlisted", account=a.bob)
    stack.token.as_(a.kyc).setTier(a.bob, 1, REF).send()
    assert stack.token.view("isAllowlisted", a.bob) is True
    stack.token.as_(a.alice).transfer(a.bob, 1).send()
    stack.token.as_(a.admin).setExempt(a.carol, True, REF).send()
    stack.token.as_(a.alice).transfer(a.carol, 1).send()


def test_allowlist_off_again_accepts_everyone(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.admin).setAllowlistMode(True, REF).send()
    stack.token.as_(a.admin).setAllowlistMode(False, REF).send()
    stack.token.as_(a.alice).transfer(a.stranger, 1).send()


def test_tier_zero_holder_may_still_send_to_an_allowlisted_account(stack: PilotStack) -> None:
    """Allowlist mode gates who may *receive*; existing holders can always pay out to verified wallets."""
    a = stack.actors
    stack.token.as_(a.kyc).setTier(a.bob, 1, REF).send()
    stack.token.as_(a.admin).setAllowlistMode(True, REF).send()
    stack.token.as_(a.alice).transfer(a.bob, 1).send()


def test_allowlist_blocks_mint_to_tier_zero(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.admin).setAllowlistMode(True, REF).send()
    expect_revert(stack.token.as_(a.minter).mint(a.stranger, 1, REF), "NotAllowlisted", account=a.stranger)


def test_downgrade_to_tier_zero_removes_from_the_allowlist(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.kyc).setTier(a.bob, 1, REF).send()
    stack.token.as_(a.admin).setAllowlistMode(True, REF).send()
    stack.token.as_(a.kyc).setTier(a.bob, 0, REF).send()
    expect_revert(stack.token.as_(a.alice).transfer(a.bob, 1), "NotAllowlisted", account=a.bob)


# -------------------------------------------------------------------------------- no bypass


def test_transfer_from_cannot_bypass_the_owners_outflow_limit(stack: PilotStack) -> None:
    a = stack.actors
    limits_on(stack, a.alice, a.bob)
    stack.token.as_(a.alice).approve(a.spender, 10 * OUTFLOW_LIMIT).send()
    stack.token.as_(a.spender).transferFrom(a.alice, a.bob, OUTFLOW_LIMIT).send()
    expect_revert(
        stack.token.as_(a.spender).transferFrom(a.alice, a.bob, 1),
        "TierDailyOutflowExceeded", account=a.alice, limit=OUTFLOW_LIMIT, attempted=OUTFLOW_LIMIT + 1,
    )


def test_transfer_from_cannot_bypass_the_recipients_balance_limit(stack: PilotStack) -> None:
    a = stack.actors
    limits_on(stack, a.alice, a.bob, max_outflow=UNLIMITED)
    stack.token.as_(a.alice).approve(a.spender, 10 * HEADROOM).send()
    limit = HOLDER_FUNDING + HEADROOM
    expect_revert(
        stack.token.as_(a.spender).transferFrom(a.alice, a.bob, HEADROOM + 1),
        "TierBalanceLimitExceeded", account=a.bob, limit=limit, attempted=limit + 1,
    )


def test_transfer_from_cannot_bypass_the_allowlist(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.alice).approve(a.spender, 10).send()
    stack.token.as_(a.admin).setAllowlistMode(True, REF).send()
    expect_revert(stack.token.as_(a.spender).transferFrom(a.alice, a.stranger, 1), "NotAllowlisted", account=a.stranger)


def test_permit_then_transfer_from_cannot_bypass_limits(stack: PilotStack) -> None:
    a = stack.actors
    limits_on(stack, a.alice, a.bob)
    stack.permit(a.alice, a.spender, 10 * OUTFLOW_LIMIT).send()
    expect_revert(
        stack.token.as_(a.spender).transferFrom(a.alice, a.bob, OUTFLOW_LIMIT + 1),
        "TierDailyOutflowExceeded", account=a.alice, limit=OUTFLOW_LIMIT, attempted=OUTFLOW_LIMIT + 1,
    )
    stack.token.as_(a.admin).setAllowlistMode(True, REF).send()
    expect_revert(stack.token.as_(a.spender).transferFrom(a.alice, a.stranger, 1), "NotAllowlisted", account=a.stranger)


@pytest.mark.parametrize("receive", [False, True], ids=["transferWithAuthorization", "receiveWithAuthorization"])
def test_eip3009_cannot_bypass_limits_or_allowlist(stack: PilotStack, receive: bool) -> None:
    a = stack.actors
    limits_on(stack, a.alice, a.bob)
    expect_revert(
        stack.authorization(a.alice, a.bob, OUTFLOW_LIMIT + 1, receive=receive),
        "TierDailyOutflowExceeded", account=a.alice, limit=OUTFLOW_LIMIT, attempted=OUTFLOW_LIMIT + 1,
    )
    stack.authorization(a.alice, a.bob, OUTFLOW_LIMIT, receive=receive).send()
    assert stack.token.view("outflowToday", a.alice) == OUTFLOW_LIMIT
    stack.token.as_(a.admin).setAllowlistMode(True, REF).send()
    stack.token.as_(a.admin).setLimitsMode(False, REF).send()
    expect_revert(stack.authorization(a.alice, a.stranger, 1, receive=receive), "NotAllowlisted", account=a.stranger)


def test_multicall_cannot_split_past_the_daily_limit(stack: PilotStack) -> None:
    a = stack.actors
    limits_on(stack, a.alice, a.bob)
    t = stack.token
    half = OUTFLOW_LIMIT // 2
    calls = [t.encode("transfer", a.bob, half), t.encode("transfer", a.bob, half), t.encode("transfer", a.bob, 1)]
    expect_revert(
        t.as_(a.alice).multicall(calls),
        "TierDailyOutflowExceeded", account=a.alice, limit=OUTFLOW_LIMIT, attempted=OUTFLOW_LIMIT + 1,
    )
    t.as_(a.alice).multicall(calls[:2]).send()
    assert t.view("outflowToday", a.alice) == OUTFLOW_LIMIT


def test_multicall_cannot_bypass_the_allowlist(stack: PilotStack) -> None:
    a = stack.actors
    t = stack.token
    t.as_(a.admin).setAllowlistMode(True, REF).send()
    expect_revert(t.as_(a.alice).multicall([t.encode("transfer", a.stranger, 1)]), "NotAllowlisted", account=a.stranger)


def test_a_tier_without_limits_set_allows_nothing_while_limits_are_on(stack: PilotStack) -> None:
    """Unset limits are zero: switching limits on before defining tier 0 freezes tier-0 flows."""
    a = stack.actors
    assert stack.token.view("tierLimits", 0) == (0, 0)
    stack.token.as_(a.admin).setLimitsMode(True, REF).send()
    expect_revert(
        stack.token.as_(a.alice).transfer(a.bob, 1), "TierDailyOutflowExceeded", account=a.alice, limit=0, attempted=1
    )
