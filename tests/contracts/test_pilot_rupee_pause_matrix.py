"""Pause matrix: every path while paused.

Money stops: transfer, transferFrom, permit then transferFrom, EIP-3009 transfer and receive, mint,
burn and multicall revert with ``EnforcedPause``. Compliance keeps working: freeze, unfreeze,
partial freeze and release, seize, and the actions that move no funds (approve, permit, cancelling
an authorization, attestations, minter configuration, rescue of other tokens).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from _stack import REF, PilotStack
from helpers import PreparedCall, expect_revert, random_nonce

pytestmark = [pytest.mark.both_backends, pytest.mark.behaviour]

AMOUNT = 1_000


@dataclass(frozen=True)
class Case:
    name: str
    #: Preparation done before pausing (approvals, freezes) and the call to make while paused.
    build: Callable[[PilotStack], Callable[[], PreparedCall]]
    #: A check of the effect when the call must keep working.
    check: Callable[[PilotStack], bool] | None = None


def _simple(make: Callable[[PilotStack], PreparedCall]) -> Callable[[PilotStack], Callable[[], PreparedCall]]:
    return lambda s: (lambda: make(s))


def _transfer_from(s: PilotStack) -> Callable[[], PreparedCall]:
    a = s.actors
    s.token.as_(a.alice).approve(a.spender, AMOUNT).send()
    return lambda: s.token.as_(a.spender).transferFrom(a.alice, a.bob, AMOUNT)


def _permit_then_transfer_from(s: PilotStack) -> Callable[[], PreparedCall]:
    a = s.actors

    def make() -> PreparedCall:
        s.permit(a.alice, a.spender, AMOUNT).send()  # permit moves nothing: allowed while paused
        return s.token.as_(a.spender).transferFrom(a.alice, a.bob, AMOUNT)

    return make


def _burn(s: PilotStack) -> Callable[[], PreparedCall]:
    a = s.actors
    s.token.as_(a.alice).transfer(a.burner, AMOUNT).send()
    return lambda: s.token.as_(a.burner).burn(AMOUNT, REF)


def _unfreeze(s: PilotStack) -> Callable[[], PreparedCall]:
    a = s.actors
    s.token.as_(a.freezer).freeze(a.alice, REF).send()
    return lambda: s.token.as_(a.freezer).unfreeze(a.alice, REF)


def _unfreeze_amount(s: PilotStack) -> Callable[[], PreparedCall]:
    a = s.actors
    s.token.as_(a.freezer).freezeAmount(a.alice, 7, REF).send()
    return lambda: s.token.as_(a.freezer).unfreezeAmount(a.alice, 7, REF)


def _seize(s: PilotStack) -> Callable[[], PreparedCall]:
    a = s.actors
    s.token.as_(a.freezer).freeze(a.dave, REF).send()
    return lambda: s.token.as_(a.seizer).seize(a.dave, a.bob, AMOUNT, REF)


def _rescue(s: PilotStack) -> Callable[[], PreparedCall]:
    a = s.actors
    other = s.deploy("MockERC20", "Other", "OTH")
    other.as_(a.alice).mint(s.token.address, 5).send()
    return lambda: s.token.as_(a.rescuer).rescueERC20(other.address, a.alice, 5)


STOPPED = (
    Case("transfer", _simple(lambda s: s.token.as_(s.actors.alice).transfer(s.actors.bob, AMOUNT))),
    Case("transferFrom", _transfer_from),
    Case("permit+transferFrom", _permit_then_transfer_from),
    Case("transferWithAuthorization", _simple(lambda s: s.authorization(s.actors.alice, s.actors.bob, AMOUNT))),
    Case(
        "receiveWithAuthorization",
        _simple(lambda s: s.authorization(s.actors.alice, s.actors.bob, AMOUNT, receive=True)),
    ),
    Case("mint", _simple(lambda s: s.token.as_(s.actors.minter).mint(s.actors.bob, AMOUNT, REF))),
    Case("burn", _burn),
    Case(
        "multicall transfer",
        _simple(lambda s: s.token.as_(s.actors.alice).multicall([s.token.encode("transfer", s.actors.bob, AMOUNT)])),
    ),
    Case(
        "multicall mint",
        _simple(lambda s: s.token.as_(s.actors.minter).multicall([s.token.encode("mint", s.actors.bob, AMOUNT, REF)])),
    ),
    Case("pause again", _simple(lambda s: s.token.as_(s.actors.pauser).pause())),
)

WORKING = (
    Case(
        "freeze", _simple(lambda s: s.token.as_(s.actors.freezer).freeze(s.actors.alice, REF)),
        lambda s: bool(s.token.view("isFrozen", s.actors.alice)),
    ),
    Case("unfreeze", _unfreeze, lambda s: not s.token.view("isFrozen", s.actors.alice)),
    Case(
        "freezeAmount", _simple(lambda s: s.token.as_(s.actors.freezer).freezeAmount(s.actors.alice, 9, REF)),
        lambda s: s.token.view("frozenBalanceOf", s.actors.alice) == 9,
    ),
    Case("unfreezeAmount", _unfreeze_amount, lambda s: s.token.view("frozenBalanceOf", s.actors.alice) == 0),
    Case("seize", _seize, lambda s: s.token.view("balanceOf", s.actors.dave) == s.token.view("balanceOf", s.actors.bob) - 2 * AMOUNT),
    Case(
        "approve", _simple(lambda s: s.token.as_(s.actors.alice).approve(s.actors.spender, 3)),
        lambda s: s.token.view("allowance", s.actors.alice, s.actors.spender) == 3,
    ),
    Case(
        "permit", _simple(lambda s: s.permit(s.actors.alice, s.actors.spender, 4)),
        lambda s: s.token.view("allowance", s.actors.alice, s.actors.spender) == 4,
    ),
    Case("cancelAuthorization", _simple(lambda s: s.cancel_authorization(s.actors.alice, random_nonce()))),
    Case("attestReserves", _simple(lambda s: s.token.as_(s.actors.attestor).attestReserves(10**12, s.now(), REF))),
    Case(
        "configureMinter", _simple(lambda s: s.token.as_(s.actors.minter_admin).configureMinter(s.actors.dave, 5, REF)),
        lambda s: bool(s.token.view("isMinter", s.actors.dave)),
    ),
    Case("rescueERC20", _rescue),
    Case("unpause", _simple(lambda s: s.token.as_(s.actors.unpauser).unpause()), lambda s: not s.token.view("paused")),
)


@pytest.mark.parametrize("case", STOPPED, ids=lambda c: c.name)
def test_money_stops_while_paused(stack: PilotStack, case: Case) -> None:
    make = case.build(stack)
    supply = stack.token.view("totalSupply")
    stack.token.as_(stack.actors.pauser).pause().send()
    expect_revert(make(), "EnforcedPause")
    assert stack.token.view("totalSupply") == supply


@pytest.mark.parametrize("case", STOPPED[:-1], ids=lambda c: c.name)
def test_money_moves_again_after_unpause(stack: PilotStack, case: Case) -> None:
    make = case.build(stack)
    stack.token.as_(stack.actors.pauser).pause().send()
    stack.token.as_(stack.actors.unpauser).unpause().send()
    make().send()


@pytest.mark.parametrize("case", WORKING, ids=lambda c: c.name)
def test_compliance_and_fund_neutral_actions_keep_working_while_paused(stack: PilotStack, case: Case) -> None:
    make = case.build(stack)
    stack.token.as_(stack.actors.pauser).pause().send()
    make().send()
    if case.check is not None:
        assert case.check(stack)
