"""PilotRupee pause, rescue, multicall, separation of duties and the two-step admin transfer."""

from __future__ import annotations

import pytest

from _stack import HOLDER_FUNDING, REF, PilotStack
from helpers import ZERO_ADDRESS, expect_revert, ref, role

pytestmark = pytest.mark.both_backends

ADMIN_DELAY = 3_600  # deploy_config_for_tests().admin_delay


# ------------------------------------------------------------------------------------ pause


def test_pause_and_unpause_emit_and_flip_the_flag(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.pauser).pause().send().expect_event("Paused", account=a.pauser)
    assert stack.token.view("paused") is True
    stack.token.as_(a.unpauser).unpause().send().expect_event("Unpaused", account=a.unpauser)
    assert stack.token.view("paused") is False
    stack.token.as_(a.alice).transfer(a.bob, 1).send()


def test_pause_twice_reverts_and_unpause_when_running_reverts(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(stack.token.as_(a.unpauser).unpause(), "ExpectedPause")
    stack.token.as_(a.pauser).pause().send()
    expect_revert(stack.token.as_(a.pauser).pause(), "EnforcedPause")


def test_pauser_cannot_unpause_and_unpauser_cannot_pause(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(
        stack.token.as_(a.unpauser).pause(), "AccessControlUnauthorizedAccount",
        account=a.unpauser, neededRole=role("PAUSER_ROLE"),
    )
    stack.token.as_(a.pauser).pause().send()
    expect_revert(
        stack.token.as_(a.pauser).unpause(), "AccessControlUnauthorizedAccount",
        account=a.pauser, neededRole=role("UNPAUSER_ROLE"),
    )


# ----------------------------------------------------------------------------------- rescue


def test_rescue_returns_other_tokens_sent_by_mistake(stack: PilotStack) -> None:
    a = stack.actors
    other = stack.deploy("MockERC20", "Other", "OTH")
    other.as_(a.alice).mint(stack.token.address, 5_000).send()
    receipt = stack.token.as_(a.rescuer).rescueERC20(other.address, a.alice, 4_000).send()
    receipt.expect_event("TokensRescued", token=other.address, to=a.alice, amount=4_000)
    assert other.view("balanceOf", a.alice) == 4_000
    assert other.view("balanceOf", stack.token.address) == 1_000


def test_rescue_to_zero_address_reverts(stack: PilotStack) -> None:
    a = stack.actors
    other = stack.deploy("MockERC20", "Other", "OTH")
    expect_revert(stack.token.as_(a.rescuer).rescueERC20(other.address, ZERO_ADDRESS, 1), "ZeroAddress")


def test_rescue_of_the_token_itself_is_refused(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.alice).transfer(stack.token.address, 1_000).send()
    expect_revert(stack.token.as_(a.rescuer).rescueERC20(stack.token.address, a.alice, 1_000), "RescueOfOwnToken")
    assert stack.balance(stack.token.address) == 1_000


def test_rescue_more_than_held_bubbles_the_tokens_error(stack: PilotStack) -> None:
    a = stack.actors
    other = stack.deploy("MockERC20", "Other", "OTH")
    expect_revert(
        stack.token.as_(a.rescuer).rescueERC20(other.address, a.alice, 1),
        "ERC20InsufficientBalance", sender=stack.token.address, balance=0, needed=1,
    )


# -------------------------------------------------------------------------------- multicall


def test_multicall_batches_mints(stack: PilotStack) -> None:
    a = stack.actors
    t = stack.token
    calls = [t.encode("mint", who, 100 + i, ref(f"batch-{i}")) for i, who in enumerate((a.stranger, a.maker, a.checker1))]
    receipt = t.as_(a.minter).multicall(calls).send()
    assert receipt.event_names() == ["Transfer", "Minted"] * 3
    assert [stack.balance(w) for w in (a.stranger, a.maker, a.checker1)] == [100, 101, 102]


def test_multicall_batches_freezes(stack: PilotStack) -> None:
    a = stack.actors
    t = stack.token
    receipt = t.as_(a.freezer).multicall([t.encode("freeze", a.alice, REF), t.encode("freezeAmount", a.bob, 7, REF)]).send()
    assert receipt.event_names() == ["Frozen", "AmountFrozen"]
    assert t.view("isFrozen", a.alice) is True
    assert t.view("frozenBalanceOf", a.bob) == 7


def test_multicall_is_all_or_nothing_and_bubbles_the_exact_error(stack: PilotStack) -> None:
    a = stack.actors
    t = stack.token
    stack.token.as_(a.freezer).freeze(a.carol, REF).send()
    calls = [t.encode("mint", a.stranger, 5, REF), t.encode("mint", a.carol, 5, REF)]
    expect_revert(t.as_(a.minter).multicall(calls), "FrozenAccount", account=a.carol)
    assert stack.balance(a.stranger) == 0


def test_multicall_keeps_the_caller_and_grants_no_power(stack: PilotStack) -> None:
    a = stack.actors
    t = stack.token
    expect_revert(
        t.as_(a.stranger).multicall([t.encode("freeze", a.alice, REF)]),
        "AccessControlUnauthorizedAccount", account=a.stranger, neededRole=role("FREEZER_ROLE"),
    )


# ------------------------------------------------------------------------- separation of duties


def test_attestor_cannot_be_configured_as_minter(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(
        stack.token.as_(a.minter_admin).configureMinter(a.attestor, 1, REF), "MinterAttestorConflict", account=a.attestor
    )


def test_minter_cannot_be_granted_attestor_role(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(
        stack.token.as_(a.admin).grantRole(role("ATTESTOR_ROLE"), a.minter), "MinterAttestorConflict", account=a.minter
    )


def test_removed_minter_may_become_attestor(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.minter_admin).removeMinter(a.minter, REF).send()
    stack.token.as_(a.admin).grantRole(role("ATTESTOR_ROLE"), a.minter).send()
    assert stack.token.view("hasRole", role("ATTESTOR_ROLE"), a.minter) is True


def test_minter_does_not_hold_attestor_role_and_attestor_is_not_minter(stack: PilotStack) -> None:
    a = stack.actors
    assert stack.token.view("isMinter", a.attestor) is False
    assert stack.token.view("hasRole", role("ATTESTOR_ROLE"), a.minter) is False


def test_each_role_is_held_by_its_own_account(stack: PilotStack) -> None:
    a = stack.actors
    holders = {
        "DEFAULT_ADMIN_ROLE": a.admin, "MINTER_ADMIN_ROLE": a.minter_admin, "PAUSER_ROLE": a.pauser,
        "UNPAUSER_ROLE": a.unpauser, "FREEZER_ROLE": a.freezer, "SEIZER_ROLE": a.seizer,
        "ATTESTOR_ROLE": a.attestor, "BURNER_ROLE": a.burner, "RESCUER_ROLE": a.rescuer,
        "UPGRADER_ROLE": a.upgrader, "KYC_ROLE": a.kyc,
    }
    for name, holder in holders.items():
        for other in holders.values():
            assert stack.token.view("hasRole", role(name), other) is (other == holder), (name, other)
    assert stack.token.view("defaultAdmin") == a.admin.address


# ------------------------------------------------------------------- two-step admin transfer


def test_admin_role_cannot_be_granted_directly(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(stack.token.as_(a.admin).grantRole(role("DEFAULT_ADMIN_ROLE"), a.bob), "AccessControlEnforcedDefaultAdminRules")


def test_admin_transfer_needs_the_delay_then_the_new_admin_accepts(stack: PilotStack) -> None:
    a = stack.actors
    t = stack.token
    assert t.view("defaultAdminDelay") == ADMIN_DELAY
    receipt = t.as_(a.admin).beginDefaultAdminTransfer(a.bob).send()
    schedule = stack.w3.eth.get_block(receipt.block_number)["timestamp"] + ADMIN_DELAY
    receipt.expect_event("DefaultAdminTransferScheduled", newAdmin=a.bob, acceptSchedule=schedule)
    assert t.view("pendingDefaultAdmin") == (a.bob.address, schedule)
    # Too early: the error names the schedule.
    stack.set_next_timestamp(schedule)
    expect_revert(t.as_(a.bob).acceptDefaultAdminTransfer(), "AccessControlEnforcedDefaultAdminDelay", schedule=schedule)
    # Only the pending admin may accept.
    expect_revert(t.as_(a.carol).acceptDefaultAdminTransfer(), "AccessControlInvalidDefaultAdmin", defaultAdmin=a.carol)
    stack.next_block_not_before(schedule + 1)
    t.as_(a.bob).acceptDefaultAdminTransfer().send()
    assert t.view("defaultAdmin") == a.bob.address
    assert t.view("hasRole", role("DEFAULT_ADMIN_ROLE"), a.admin) is False
    # The new admin has the admin powers, the old one lost them.
    t.as_(a.bob).setSupplyCap(1, REF).send()
    expect_revert(
        t.as_(a.admin).setSupplyCap(2, REF), "AccessControlUnauthorizedAccount", account=a.admin, neededRole=bytes(32)
    )


def test_admin_transfer_can_be_cancelled(stack: PilotStack) -> None:
    a = stack.actors
    t = stack.token
    t.as_(a.admin).beginDefaultAdminTransfer(a.bob).send()
    t.as_(a.admin).cancelDefaultAdminTransfer().send().expect_event("DefaultAdminTransferCanceled")
    stack.increase_time(ADMIN_DELAY + 1)
    expect_revert(t.as_(a.bob).acceptDefaultAdminTransfer(), "AccessControlInvalidDefaultAdmin", defaultAdmin=a.bob)


def test_only_the_admin_begins_an_admin_transfer(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(
        stack.token.as_(a.bob).beginDefaultAdminTransfer(a.bob),
        "AccessControlUnauthorizedAccount", account=a.bob, neededRole=bytes(32),
    )


def test_role_admin_of_every_role_is_the_default_admin(stack: PilotStack) -> None:
    for name in ("MINTER_ADMIN_ROLE", "PAUSER_ROLE", "FREEZER_ROLE", "SEIZER_ROLE", "ATTESTOR_ROLE", "UPGRADER_ROLE"):
        assert stack.token.view("getRoleAdmin", role(name)) == bytes(32)


def test_admin_grants_and_revokes_roles(stack: PilotStack) -> None:
    a = stack.actors
    t = stack.token
    t.as_(a.admin).grantRole(role("FREEZER_ROLE"), a.bob).send().expect_event(
        "RoleGranted", role=role("FREEZER_ROLE"), account=a.bob, sender=a.admin
    )
    t.as_(a.bob).freeze(a.carol, REF).send()
    t.as_(a.admin).revokeRole(role("FREEZER_ROLE"), a.bob).send()
    expect_revert(
        t.as_(a.bob).unfreeze(a.carol, REF), "AccessControlUnauthorizedAccount", account=a.bob, neededRole=role("FREEZER_ROLE")
    )


def test_holders_balances_are_untouched_by_admin_actions(stack: PilotStack) -> None:
    a = stack.actors
    t = stack.token
    t.as_(a.admin).setSupplyCap(1, REF).send()
    t.as_(a.admin).setMaxAttestationAge(1, REF).send()
    assert stack.balance(a.alice) == HOLDER_FUNDING
