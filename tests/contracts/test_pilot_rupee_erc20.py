"""PilotRupee ERC-20 basics: metadata, transfer, approve, transferFrom and their ERC-6093 errors."""

from __future__ import annotations

import pytest

from _stack import HOLDER_FUNDING, REF, PilotStack
from helpers import MAX_UINT256, ZERO_ADDRESS, expect_revert

pytestmark = pytest.mark.both_backends


def test_metadata_is_set_at_initialization(stack: PilotStack) -> None:
    t = stack.token
    assert t.view("name") == "Pilot Pakistani Rupee"
    assert t.view("symbol") == "PKRP"
    assert t.view("decimals") == 2
    assert t.view("version") == 1


def test_total_supply_is_the_sum_of_minted_balances(stack: PilotStack) -> None:
    a = stack.actors
    holders = [a.alice, a.bob, a.carol, a.dave, a.spender]
    assert stack.token.view("totalSupply") == sum(stack.balance(h) for h in holders) == 5 * HOLDER_FUNDING


def test_transfer_moves_balance_and_emits_transfer(stack: PilotStack) -> None:
    a = stack.actors
    receipt = stack.token.as_(a.alice).transfer(a.bob, 12_345).send()
    receipt.expect_event("Transfer", **{"from": a.alice, "to": a.bob, "value": 12_345})
    assert receipt.event_names() == ["Transfer"]
    assert stack.balance(a.alice) == HOLDER_FUNDING - 12_345
    assert stack.balance(a.bob) == HOLDER_FUNDING + 12_345


def test_transfer_returns_true(stack: PilotStack) -> None:
    a = stack.actors
    assert stack.token.as_(a.alice).transfer(a.bob, 1).call() is True


def test_transfer_of_whole_balance_leaves_zero(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.alice).transfer(a.stranger, HOLDER_FUNDING).send()
    assert stack.balance(a.alice) == 0
    assert stack.balance(a.stranger) == HOLDER_FUNDING


def test_transfer_to_self_keeps_balance(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.alice).transfer(a.alice, 500).send()
    assert stack.balance(a.alice) == HOLDER_FUNDING


def test_transfer_of_zero_is_allowed_and_emits_transfer(stack: PilotStack) -> None:
    a = stack.actors
    receipt = stack.token.as_(a.stranger).transfer(a.bob, 0).send()
    receipt.expect_event("Transfer", **{"from": a.stranger, "to": a.bob, "value": 0})


def test_transfer_reverts_above_balance(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(
        stack.token.as_(a.alice).transfer(a.bob, HOLDER_FUNDING + 1),
        "ERC20InsufficientBalance", sender=a.alice, balance=HOLDER_FUNDING, needed=HOLDER_FUNDING + 1,
    )


def test_transfer_from_empty_account_reverts(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(
        stack.token.as_(a.stranger).transfer(a.bob, 1),
        "ERC20InsufficientBalance", sender=a.stranger, balance=0, needed=1,
    )


def test_transfer_to_zero_address_reverts(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(stack.token.as_(a.alice).transfer(ZERO_ADDRESS, 1), "ERC20InvalidReceiver", receiver=ZERO_ADDRESS)


def test_approve_sets_allowance_and_emits_approval(stack: PilotStack) -> None:
    a = stack.actors
    receipt = stack.token.as_(a.alice).approve(a.spender, 700).send()
    receipt.expect_event("Approval", owner=a.alice, spender=a.spender, value=700)
    assert stack.token.view("allowance", a.alice, a.spender) == 700


def test_approve_replaces_previous_allowance(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.alice).approve(a.spender, 700).send()
    stack.token.as_(a.alice).approve(a.spender, 5).send()
    assert stack.token.view("allowance", a.alice, a.spender) == 5


def test_approve_zero_spender_reverts(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(stack.token.as_(a.alice).approve(ZERO_ADDRESS, 1), "ERC20InvalidSpender", spender=ZERO_ADDRESS)


def test_transfer_from_spends_finite_allowance(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.alice).approve(a.spender, 1_000).send()
    receipt = stack.token.as_(a.spender).transferFrom(a.alice, a.carol, 400).send()
    receipt.expect_event("Transfer", **{"from": a.alice, "to": a.carol, "value": 400})
    receipt.expect_no_event("Approval")
    assert stack.token.view("allowance", a.alice, a.spender) == 600
    assert stack.balance(a.alice) == HOLDER_FUNDING - 400
    assert stack.balance(a.carol) == HOLDER_FUNDING + 400


def test_transfer_from_exactly_the_allowance_leaves_zero(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.alice).approve(a.spender, 1_000).send()
    stack.token.as_(a.spender).transferFrom(a.alice, a.carol, 1_000).send()
    assert stack.token.view("allowance", a.alice, a.spender) == 0


def test_transfer_from_does_not_decrease_infinite_allowance(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.alice).approve(a.spender, MAX_UINT256).send()
    stack.token.as_(a.spender).transferFrom(a.alice, a.carol, 400).send()
    assert stack.token.view("allowance", a.alice, a.spender) == MAX_UINT256


def test_transfer_from_reverts_above_allowance(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.alice).approve(a.spender, 399).send()
    expect_revert(
        stack.token.as_(a.spender).transferFrom(a.alice, a.carol, 400),
        "ERC20InsufficientAllowance", spender=a.spender, allowance=399, needed=400,
    )


def test_transfer_from_reverts_above_owner_balance_within_allowance(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.alice).approve(a.spender, MAX_UINT256).send()
    expect_revert(
        stack.token.as_(a.spender).transferFrom(a.alice, a.carol, HOLDER_FUNDING + 1),
        "ERC20InsufficientBalance", sender=a.alice, balance=HOLDER_FUNDING, needed=HOLDER_FUNDING + 1,
    )
    assert stack.token.view("allowance", a.alice, a.spender) == MAX_UINT256


def test_transfer_from_zero_or_to_zero_address_reverts(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(
        stack.token.as_(a.spender).transferFrom(ZERO_ADDRESS, a.carol, 1), "ERC20InvalidSender", sender=ZERO_ADDRESS
    )
    expect_revert(
        stack.token.as_(a.spender).transferFrom(a.alice, ZERO_ADDRESS, 1), "ERC20InvalidReceiver", receiver=ZERO_ADDRESS
    )


def test_failed_transfer_from_keeps_the_allowance(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.alice).approve(a.spender, 1_000).send()
    stack.token.as_(stack.actors.freezer).freeze(a.carol, REF).send()
    expect_revert(stack.token.as_(a.spender).transferFrom(a.alice, a.carol, 10), "FrozenAccount", account=a.carol)
    assert stack.token.view("allowance", a.alice, a.spender) == 1_000


def test_balances_read_from_the_packed_account_word_match_balance_of(stack: PilotStack) -> None:
    """The account word keeps balance in its low 96 bits (contracts/README.md)."""
    from eth_abi.abi import encode
    from eth_utils.crypto import keccak

    accounts_slot = 0x9FDFE9D5F4ED7EE0FDE9AA4F4454B07CDBF4E77D7F78D69B61AF7D30576E3504
    a = stack.actors
    stack.token.as_(stack.actors.freezer).freezeAmount(a.bob, 77, REF).send()
    slot = keccak(encode(["address", "uint256"], [a.bob.address, accounts_slot]))
    word = int.from_bytes(stack.w3.eth.get_storage_at(stack.token.address, slot), "big")
    assert word & (2**96 - 1) == stack.balance(a.bob)
    assert (word >> 96) & (2**96 - 1) == 77 == stack.token.view("frozenBalanceOf", a.bob)


def test_a_reverting_transaction_is_mined_with_status_zero_and_decodes_to_the_same_error(stack: PilotStack) -> None:
    """The simulated revert (eth_call) and the mined transaction agree, on both EVMs."""
    a = stack.actors
    stack.token.as_(a.freezer).freeze(a.alice, REF).send()
    block_before = stack.w3.eth.block_number
    simulated = expect_revert(stack.token.as_(a.alice).transfer(a.bob, 1), "FrozenAccount", account=a.alice)
    assert stack.w3.eth.block_number == block_before  # simulation mines nothing
    mined = expect_revert(stack.token.as_(a.alice).transfer(a.bob, 1), "FrozenAccount", account=a.alice, mined=True)
    assert stack.w3.eth.block_number == block_before + 1
    assert mined.data == simulated.data
    assert stack.balance(a.alice) == HOLDER_FUNDING


# ------------------------------------------------- the zero address as caller (review finding)
# Nobody can sign as address(0), but `_update(address(0), to, v)` is a mint, so a transfer "from" the zero
# address would create supply without a minter. Every path refuses a zero caller with ERC-6093's errors.
# eth_call from the zero address shows it (before the fix, transfer returned true here).


def _call_from_zero(stack: PilotStack, function: str, *args: object) -> None:
    from helpers import revert_data

    params = {"from": ZERO_ADDRESS, "to": stack.token.address, "data": stack.token.encode(function, *args),
              "gas": 1_000_000}
    try:
        stack.w3.eth.call(params)  # type: ignore[arg-type]
    except Exception as exc:
        data = revert_data(exc)
        if data is None:
            raise
        raise stack.transactor.decoder.decode(data) from None


@pytest.mark.parametrize("function", ["transfer", "transferWithReference", "transferWithUniqueReference"])
def test_a_payment_from_the_zero_address_is_refused_as_an_invalid_sender(stack: PilotStack, function: str) -> None:
    a = stack.actors
    args: tuple[object, ...] = (a.bob, 1) if function == "transfer" else (a.bob, 1, REF)
    expect_revert(lambda: _call_from_zero(stack, function, *args), "ERC20InvalidSender", sender=ZERO_ADDRESS)


def test_a_payment_from_the_zero_address_inside_multicall_is_refused(stack: PilotStack) -> None:
    a = stack.actors
    calls = [stack.token.encode("transfer", a.bob, 1)]
    expect_revert(lambda: _call_from_zero(stack, "multicall", calls), "ERC20InvalidSender", sender=ZERO_ADDRESS)


def test_transfer_from_by_the_zero_address_is_refused_as_an_invalid_spender(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(
        lambda: _call_from_zero(stack, "transferFrom", a.alice, a.bob, 0), "ERC20InvalidSpender", spender=ZERO_ADDRESS
    )


def test_approve_by_the_zero_address_is_refused_as_an_invalid_approver(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(lambda: _call_from_zero(stack, "approve", a.bob, 1), "ERC20InvalidApprover", approver=ZERO_ADDRESS)


def test_burn_by_the_zero_address_is_refused_even_with_burner_role(stack: PilotStack) -> None:
    from helpers import role

    a = stack.actors
    stack.token.as_(a.admin).grantRole(role("BURNER_ROLE"), ZERO_ADDRESS).send()
    expect_revert(lambda: _call_from_zero(stack, "burn", 0, REF), "ERC20InvalidSender", sender=ZERO_ADDRESS)
