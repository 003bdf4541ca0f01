"""PilotRupee minting: minter configuration, allowance, supply cap, reserves, attestation age, freeze, pause."""

from __future__ import annotations

import pytest

from _stack import (
    HOLDER_FUNDING,
    MAX_ATTESTATION_AGE,
    MINTER_ALLOWANCE,
    REF,
    RESERVES,
    SUPPLY_CAP,
    PilotStack,
)
from helpers import ZERO_ADDRESS, expect_revert, ref

pytestmark = pytest.mark.both_backends

MAX_UINT128 = 2**128 - 1
MAX_UINT96 = 2**96 - 1


def supply(stack: PilotStack) -> int:
    return int(stack.token.view("totalSupply"))


def minter_allowance(stack: PilotStack, who: object) -> int:
    return int(stack.token.view("minterAllowance", who))


def attest(stack: PilotStack, amount: int, as_of: int | None = None) -> None:
    stack.token.as_(stack.actors.attestor).attestReserves(
        amount, stack.now() if as_of is None else as_of, ref("report")
    ).send()


# ------------------------------------------------------------------------------ happy path


def test_mint_credits_recipient_spends_allowance_and_emits_minted(stack: PilotStack) -> None:
    a = stack.actors
    before_supply = supply(stack)
    receipt = stack.token.as_(a.minter).mint(a.stranger, 25_000, ref("bank-tx-1")).send()
    receipt.expect_event("Transfer", **{"from": ZERO_ADDRESS, "to": a.stranger, "value": 25_000})
    receipt.expect_event("Minted", minter=a.minter, to=a.stranger, amount=25_000, ref=ref("bank-tx-1"))
    assert stack.balance(a.stranger) == 25_000
    assert supply(stack) == before_supply + 25_000
    assert minter_allowance(stack, a.minter) == MINTER_ALLOWANCE - 5 * HOLDER_FUNDING - 25_000


def test_mint_of_exactly_the_remaining_allowance_passes_and_one_more_fails(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.minter_admin).configureMinter(a.carol, 1_000, REF).send()
    stack.token.as_(a.carol).mint(a.dave, 1_000, REF).send()
    assert minter_allowance(stack, a.carol) == 0
    expect_revert(
        stack.token.as_(a.carol).mint(a.dave, 1, REF), "MinterAllowanceExceeded", minter=a.carol, allowance=0, needed=1
    )


def test_mint_reverts_for_an_account_that_is_not_a_minter(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(stack.token.as_(a.stranger).mint(a.stranger, 1, REF), "NotMinter", account=a.stranger)
    expect_revert(stack.token.as_(a.minter_admin).mint(a.bob, 1, REF), "NotMinter", account=a.minter_admin)


def test_mint_reverts_to_zero_address(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(stack.token.as_(a.minter).mint(ZERO_ADDRESS, 1, REF), "ERC20InvalidReceiver", receiver=ZERO_ADDRESS)


def test_mint_reverts_above_supply_cap_and_passes_exactly_at_it(stack: PilotStack) -> None:
    a = stack.actors
    current = supply(stack)
    stack.token.as_(a.admin).setSupplyCap(current + 100, REF).send()
    expect_revert(
        stack.token.as_(a.minter).mint(a.bob, 101, REF), "SupplyCapExceeded", cap=current + 100, newSupply=current + 101
    )
    stack.token.as_(a.minter).mint(a.bob, 100, REF).send()
    assert supply(stack) == current + 100


def test_mint_reverts_above_attested_reserves_and_passes_exactly_at_them(stack: PilotStack) -> None:
    a = stack.actors
    current = supply(stack)
    attest(stack, current + 50)
    expect_revert(
        stack.token.as_(a.minter).mint(a.bob, 51, REF), "ReservesExceeded", reserves=current + 50, newSupply=current + 51
    )
    stack.token.as_(a.minter).mint(a.bob, 50, REF).send()
    assert supply(stack) == current + 50


def test_attestation_below_supply_is_accepted_and_blocks_minting(stack: PilotStack) -> None:
    a = stack.actors
    current = supply(stack)
    attest(stack, current - 1)
    amount, _as_of, report_hash, _at = stack.token.view("reserves")
    assert (amount, report_hash) == (current - 1, ref("report"))
    expect_revert(stack.token.as_(a.minter).mint(a.bob, 1, REF), "ReservesExceeded", reserves=current - 1, newSupply=current + 1)
    # Burning still works: redemptions bring supply back under the reserves.
    stack.token.as_(a.alice).transfer(a.burner, 10).send()
    stack.token.as_(a.burner).burn(10, REF).send()
    assert supply(stack) == current - 10


def test_mint_at_exactly_max_attestation_age_passes_and_one_second_later_fails(stack: PilotStack) -> None:
    a = stack.actors
    as_of = stack.now()
    attest(stack, RESERVES, as_of)
    # The mint's block has timestamp asOf + maxAge: still fresh.
    stack.set_next_timestamp(as_of + MAX_ATTESTATION_AGE)
    stack.token.as_(a.minter).mint(a.bob, 1, REF).send()
    # One second later: stale, with the attestation's asOf and the max age as arguments.
    stack.set_next_timestamp(as_of + MAX_ATTESTATION_AGE + 1)
    expect_revert(
        stack.token.as_(a.minter).mint(a.bob, 1, REF), "StaleAttestation", asOf=as_of, maxAge=MAX_ATTESTATION_AGE
    )


def test_fresh_attestation_after_staleness_allows_minting_again(stack: PilotStack) -> None:
    a = stack.actors
    as_of = stack.now()
    attest(stack, RESERVES, as_of)
    stack.increase_time(MAX_ATTESTATION_AGE + 10)
    expect_revert(
        stack.token.as_(a.minter).mint(a.bob, 1, REF), "StaleAttestation", asOf=as_of, maxAge=MAX_ATTESTATION_AGE
    )
    attest(stack, RESERVES)
    stack.token.as_(a.minter).mint(a.bob, 1, REF).send()


def test_shorter_max_attestation_age_makes_an_attestation_stale(stack: PilotStack) -> None:
    a = stack.actors
    as_of = stack.now()
    attest(stack, RESERVES, as_of)
    receipt = stack.token.as_(a.admin).setMaxAttestationAge(60, ref("age")).send()
    receipt.expect_event("MaxAttestationAgeSet", maxAge=60, ref=ref("age"))
    assert stack.token.view("maxAttestationAge") == 60
    stack.set_next_timestamp(as_of + 61)
    expect_revert(stack.token.as_(a.minter).mint(a.bob, 1, REF), "StaleAttestation", asOf=as_of, maxAge=60)


def test_mint_reverts_when_minter_is_frozen(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freeze(a.minter, REF).send()
    expect_revert(stack.token.as_(a.minter).mint(a.bob, 1, REF), "FrozenAccount", account=a.minter)


def test_mint_reverts_when_recipient_is_frozen(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freeze(a.bob, REF).send()
    expect_revert(stack.token.as_(a.minter).mint(a.bob, 1, REF), "FrozenAccount", account=a.bob)


def test_mint_to_partially_frozen_recipient_passes_and_stays_frozen(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freezeAmount(a.stranger, 300, REF).send()
    stack.token.as_(a.minter).mint(a.stranger, 1_000, REF).send()
    assert stack.token.view("availableBalanceOf", a.stranger) == 700


def test_mint_reverts_when_paused(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.pauser).pause().send()
    expect_revert(stack.token.as_(a.minter).mint(a.bob, 1, REF), "EnforcedPause")


def test_failed_mint_does_not_spend_minter_allowance(stack: PilotStack) -> None:
    a = stack.actors
    before = minter_allowance(stack, a.minter)
    stack.token.as_(a.freezer).freeze(a.bob, REF).send()
    expect_revert(stack.token.as_(a.minter).mint(a.bob, 1, REF), "FrozenAccount", account=a.bob)
    assert minter_allowance(stack, a.minter) == before


# ------------------------------------------------------------------------ minter configuration


def test_configure_minter_sets_allowance_and_emits(stack: PilotStack) -> None:
    a = stack.actors
    receipt = stack.token.as_(a.minter_admin).configureMinter(a.carol, 5_000, ref("m")).send()
    receipt.expect_event("MinterConfigured", minter=a.carol, allowance=5_000, ref=ref("m"))
    assert stack.token.view("isMinter", a.carol) is True
    assert minter_allowance(stack, a.carol) == 5_000


def test_reconfigure_minter_replaces_allowance(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.minter_admin).configureMinter(a.minter, 7, REF).send()
    assert minter_allowance(stack, a.minter) == 7


def test_configure_minter_with_zero_allowance_keeps_it_a_minter_that_cannot_mint(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.minter_admin).configureMinter(a.carol, 0, REF).send()
    assert stack.token.view("isMinter", a.carol) is True
    expect_revert(stack.token.as_(a.carol).mint(a.bob, 1, REF), "MinterAllowanceExceeded", minter=a.carol, allowance=0, needed=1)


def test_configure_minter_rejects_zero_address_and_oversized_allowance(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(stack.token.as_(a.minter_admin).configureMinter(ZERO_ADDRESS, 1, REF), "ZeroAddress")
    expect_revert(
        stack.token.as_(a.minter_admin).configureMinter(a.carol, MAX_UINT128 + 1, REF),
        "AmountTooLarge", amount=MAX_UINT128 + 1, max=MAX_UINT128,
    )
    stack.token.as_(a.minter_admin).configureMinter(a.carol, MAX_UINT128, REF).send()
    assert minter_allowance(stack, a.carol) == MAX_UINT128


def test_remove_minter_stops_minting_and_emits(stack: PilotStack) -> None:
    a = stack.actors
    receipt = stack.token.as_(a.minter_admin).removeMinter(a.minter, ref("rm")).send()
    receipt.expect_event("MinterRemoved", minter=a.minter, ref=ref("rm"))
    assert stack.token.view("isMinter", a.minter) is False
    assert minter_allowance(stack, a.minter) == 0
    expect_revert(stack.token.as_(a.minter).mint(a.bob, 1, REF), "NotMinter", account=a.minter)


def test_remove_minter_reverts_for_unknown_minter(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(stack.token.as_(a.minter_admin).removeMinter(a.carol, REF), "NotMinter", account=a.carol)


# ------------------------------------------------------------------------ reserves and cap


def test_attest_reserves_records_amount_as_of_report_and_time(stack: PilotStack) -> None:
    a = stack.actors
    as_of = stack.now()
    receipt = stack.token.as_(a.attestor).attestReserves(123_456, as_of, ref("rep-7")).send()
    receipt.expect_event("ReservesAttested", attestor=a.attestor, amount=123_456, asOf=as_of, reportHash=ref("rep-7"))
    block_time = stack.w3.eth.get_block(receipt.block_number)["timestamp"]
    assert stack.token.view("reserves") == (123_456, as_of, ref("rep-7"), block_time)


def test_attestation_in_the_future_reverts(stack: PilotStack) -> None:
    a = stack.actors
    now = stack.now()
    stack.set_next_timestamp(now + 5)
    expect_revert(
        stack.token.as_(a.attestor).attestReserves(1, now + 6, REF), "AttestationInFuture", asOf=now + 6, blockTime=now + 5
    )


def test_attestation_older_than_the_last_reverts_and_same_as_of_passes(stack: PilotStack) -> None:
    a = stack.actors
    _amount, last_as_of, _h, _t = stack.token.view("reserves")
    expect_revert(
        stack.token.as_(a.attestor).attestReserves(1, last_as_of - 1, REF),
        "AttestationOutOfOrder", lastAsOf=last_as_of, asOf=last_as_of - 1,
    )
    stack.token.as_(a.attestor).attestReserves(RESERVES + 1, last_as_of, REF).send()


def test_attestation_above_uint128_reverts(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(
        stack.token.as_(a.attestor).attestReserves(MAX_UINT128 + 1, stack.now(), REF),
        "AmountTooLarge", amount=MAX_UINT128 + 1, max=MAX_UINT128,
    )


def test_set_supply_cap_emits_and_rejects_above_uint96(stack: PilotStack) -> None:
    a = stack.actors
    receipt = stack.token.as_(a.admin).setSupplyCap(SUPPLY_CAP * 2, ref("cap")).send()
    receipt.expect_event("SupplyCapSet", cap=SUPPLY_CAP * 2, ref=ref("cap"))
    assert stack.token.view("supplyCap") == SUPPLY_CAP * 2
    expect_revert(
        stack.token.as_(a.admin).setSupplyCap(MAX_UINT96 + 1, REF), "AmountTooLarge", amount=MAX_UINT96 + 1, max=MAX_UINT96
    )


def test_supply_cap_below_supply_is_accepted_and_blocks_minting(stack: PilotStack) -> None:
    a = stack.actors
    current = supply(stack)
    stack.token.as_(a.admin).setSupplyCap(current - 1, REF).send()
    expect_revert(stack.token.as_(a.minter).mint(a.bob, 1, REF), "SupplyCapExceeded", cap=current - 1, newSupply=current + 1)
    stack.token.as_(a.alice).transfer(a.alice, 1).send()  # holders keep transacting
