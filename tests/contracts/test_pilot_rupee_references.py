"""PilotRupee payments with a reference (issue 10.1): transferWithReference and the strict mode.

The log topics are checked raw (not only decoded), because a node filters on them: the payer and
the ref must be topics 1 and 2 of ``PaymentReference``, right after the payment's ``Transfer``.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils.crypto import keccak

from _stack import HOLDER_FUNDING, REF, PilotStack
from helpers import ZERO_ADDRESS, Receipt, expect_revert, ref

pytestmark = pytest.mark.both_backends

PAYMENT_REFERENCE = keccak(text="PaymentReference(address,bytes32)")
TRANSFER = keccak(text="Transfer(address,address,uint256)")


def _topic(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


def _logs(receipt: Receipt) -> list[tuple[list[bytes], bytes]]:
    """(topics, data) of every log of the receipt, as bytes."""
    def as_bytes(value: Any) -> bytes:
        return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)

    return [([as_bytes(t) for t in log["topics"]], as_bytes(log["data"])) for log in receipt.raw["logs"]]


def _batch_ref(row: int) -> bytes:
    return ref("payroll 2026-12")[:31] + bytes([row])


@pytest.mark.parametrize("function", ["transferWithReference", "transferWithUniqueReference"])
def test_payment_emits_transfer_then_payment_reference_with_payer_and_ref_as_topics(
    stack: PilotStack, function: str
) -> None:
    a = stack.actors
    payment_ref = ref("invoice 4711")
    receipt = getattr(stack.token.as_(a.alice), function)(a.bob, 1_250, payment_ref).send()
    assert _logs(receipt) == [
        ([TRANSFER, _topic(a.alice.address), _topic(a.bob.address)], (1_250).to_bytes(32, "big")),
        ([PAYMENT_REFERENCE, _topic(a.alice.address), payment_ref], b""),
    ]
    receipt.expect_event("PaymentReference", **{"from": a.alice, "ref": payment_ref})
    assert stack.balance(a.alice) == HOLDER_FUNDING - 1_250
    assert stack.balance(a.bob) == HOLDER_FUNDING + 1_250


def test_payment_with_reference_returns_true(stack: PilotStack) -> None:
    a = stack.actors
    for function in ("transferWithReference", "transferWithUniqueReference"):
        assert getattr(stack.token.as_(a.alice), function)(a.bob, 1, ref(function)).call() is True


def test_plain_reference_may_be_used_again_and_is_not_recorded(stack: PilotStack) -> None:
    a = stack.actors
    t = stack.token.as_(a.alice)
    t.transferWithReference(a.bob, 10, REF).send()
    t.transferWithReference(a.bob, 10, REF).send()
    assert stack.balance(a.bob) == HOLDER_FUNDING + 20
    assert stack.token.view("referenceUsed", a.alice, REF) is False


def test_strict_mode_refuses_a_second_payment_with_the_same_ref(stack: PilotStack) -> None:
    a = stack.actors
    t = stack.token.as_(a.alice)
    assert stack.token.view("referenceUsed", a.alice, REF) is False
    t.transferWithUniqueReference(a.bob, 10, REF).send()
    assert stack.token.view("referenceUsed", a.alice, REF) is True
    expect_revert(t.transferWithUniqueReference(a.bob, 10, REF), "ReferenceAlreadyUsed", **{"from": a.alice, "ref": REF})
    expect_revert(t.transferWithUniqueReference(a.carol, 99, REF), "ReferenceAlreadyUsed", **{"from": a.alice, "ref": REF})
    assert stack.balance(a.bob) == HOLDER_FUNDING + 10


def test_strict_mode_lets_a_different_payer_use_the_same_ref(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.alice).transferWithUniqueReference(a.carol, 10, REF).send()
    stack.token.as_(a.bob).transferWithUniqueReference(a.carol, 10, REF).send()
    assert stack.token.view("referenceUsed", a.bob, REF) is True
    assert stack.token.view("referenceUsed", a.dave, REF) is False
    assert stack.balance(a.carol) == HOLDER_FUNDING + 20


def test_strict_mode_refs_sharing_a_bitmap_word_are_independent(stack: PilotStack) -> None:
    a = stack.actors
    t = stack.token.as_(a.alice)
    for row in (0, 1, 255):
        t.transferWithUniqueReference(a.bob, 1, _batch_ref(row)).send()
    used = [row for row in range(256) if stack.token.view("referenceUsed", a.alice, _batch_ref(row))]
    assert used == [0, 1, 255]
    expect_revert(
        t.transferWithUniqueReference(a.bob, 1, _batch_ref(255)), "ReferenceAlreadyUsed", **{"from": a.alice, "ref": _batch_ref(255)}
    )
    # The neighbouring word (next prefix) is untouched.
    neighbour = (int.from_bytes(_batch_ref(0), "big") + 256).to_bytes(32, "big")
    assert stack.token.view("referenceUsed", a.alice, neighbour) is False


def test_strict_mode_does_not_record_the_ref_of_a_refused_payment(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(
        stack.token.as_(a.alice).transferWithUniqueReference(a.bob, HOLDER_FUNDING + 1, REF), "ERC20InsufficientBalance",
        sender=a.alice, balance=HOLDER_FUNDING, needed=HOLDER_FUNDING + 1,
    )
    assert stack.token.view("referenceUsed", a.alice, REF) is False


@pytest.mark.parametrize("function", ["transferWithReference", "transferWithUniqueReference"])
def test_payment_with_reference_works_inside_multicall(stack: PilotStack, function: str) -> None:
    a = stack.actors
    t = stack.token
    calls = [t.encode(function, who, 100 + i, _batch_ref(i)) for i, who in enumerate((a.bob, a.carol, a.dave))]
    receipt = t.as_(a.alice).multicall(calls).send()
    assert receipt.event_names() == ["Transfer", "PaymentReference"] * 3
    assert [e["ref"] for e in receipt.named("PaymentReference")] == [_batch_ref(i) for i in range(3)]
    assert {e["from"] for e in receipt.named("PaymentReference")} == {a.alice.address}
    assert [stack.balance(w) for w in (a.bob, a.carol, a.dave)] == [HOLDER_FUNDING + 100 + i for i in range(3)]


def test_strict_mode_refuses_a_repeated_ref_inside_one_multicall(stack: PilotStack) -> None:
    a = stack.actors
    t = stack.token
    calls = [t.encode("transferWithUniqueReference", a.bob, 1, REF), t.encode("transferWithUniqueReference", a.carol, 1, REF)]
    expect_revert(t.as_(a.alice).multicall(calls), "ReferenceAlreadyUsed", **{"from": a.alice, "ref": REF})
    assert stack.balance(a.bob) == HOLDER_FUNDING
    assert stack.token.view("referenceUsed", a.alice, REF) is False


@pytest.mark.parametrize("function", ["transferWithReference", "transferWithUniqueReference"])
def test_payment_with_reference_is_refused_while_paused(stack: PilotStack, function: str) -> None:
    a = stack.actors
    stack.token.as_(a.pauser).pause().send()
    expect_revert(getattr(stack.token.as_(a.alice), function)(a.bob, 1, REF), "EnforcedPause")


@pytest.mark.parametrize("function", ["transferWithReference", "transferWithUniqueReference"])
def test_payment_with_reference_is_refused_for_a_frozen_payer_or_payee(stack: PilotStack, function: str) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freeze(a.carol, REF).send()
    expect_revert(getattr(stack.token.as_(a.alice), function)(a.carol, 1, REF), "FrozenAccount", account=a.carol)
    expect_revert(getattr(stack.token.as_(a.carol), function)(a.alice, 1, REF), "FrozenAccount", account=a.carol)


@pytest.mark.parametrize("function", ["transferWithReference", "transferWithUniqueReference"])
def test_payment_with_reference_moves_only_the_available_balance(stack: PilotStack, function: str) -> None:
    a = stack.actors
    stack.token.as_(a.freezer).freezeAmount(a.alice, HOLDER_FUNDING - 100, REF).send()
    expect_revert(
        getattr(stack.token.as_(a.alice), function)(a.bob, 101, REF),
        "InsufficientAvailableBalance", account=a.alice, available=100, needed=101,
    )


@pytest.mark.parametrize("function", ["transferWithReference", "transferWithUniqueReference"])
def test_payment_with_reference_respects_tier_limits(stack: PilotStack, function: str) -> None:
    a = stack.actors
    t = stack.token
    t.as_(a.kyc).setTier(a.alice, 1, REF).send()
    t.as_(a.kyc).setTier(a.bob, 3, REF).send()
    t.as_(a.admin).setLimitsMode(True, REF).send()
    _max_balance, max_outflow = t.view("tierLimits", 1)
    expect_revert(
        getattr(t.as_(a.alice), function)(a.bob, max_outflow + 1, REF),
        "TierDailyOutflowExceeded", account=a.alice, limit=max_outflow, attempted=max_outflow + 1,
    )


@pytest.mark.parametrize("function", ["transferWithReference", "transferWithUniqueReference"])
def test_payment_with_reference_to_the_zero_address_reverts(stack: PilotStack, function: str) -> None:
    a = stack.actors
    expect_revert(getattr(stack.token.as_(a.alice), function)(ZERO_ADDRESS, 1, REF), "ERC20InvalidReceiver", receiver=ZERO_ADDRESS)
