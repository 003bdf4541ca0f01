"""PilotRupee ERC-20 basics: metadata, transfer, approve, transferFrom and their ERC-6093 errors."""

from __future__ import annotations

import pytest

from _stack import HOLDER_FUNDING, PilotStack
from helpers import ZERO_ADDRESS, expect_revert

pytestmark = pytest.mark.both_backends


def test_metadata_is_set_at_initialization(stack: PilotStack) -> None:
    t = stack.token
    assert t.view("name") == "Pilot Pakistani Rupee"
    assert t.view("symbol") == "PKRP"
    assert t.view("decimals") == 2
    assert t.view("version") == 1


def test_transfer_moves_balance_and_emits_transfer(stack: PilotStack) -> None:
    a = stack.actors
    receipt = stack.token.as_(a.alice).transfer(a.bob, 12_345).send()
    receipt.expect_event("Transfer", **{"from": a.alice, "to": a.bob, "value": 12_345})
    assert stack.balance(a.alice) == HOLDER_FUNDING - 12_345
    assert stack.balance(a.bob) == HOLDER_FUNDING + 12_345


def test_transfer_reverts_above_balance(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(
        stack.token.as_(a.alice).transfer(a.bob, HOLDER_FUNDING + 1),
        "ERC20InsufficientBalance", sender=a.alice, balance=HOLDER_FUNDING, needed=HOLDER_FUNDING + 1,
    )


def test_transfer_to_zero_address_reverts(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(stack.token.as_(a.alice).transfer(ZERO_ADDRESS, 1), "ERC20InvalidReceiver", receiver=ZERO_ADDRESS)
