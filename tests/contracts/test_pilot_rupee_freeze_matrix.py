"""Freeze matrix: a frozen party against every path that moves money.

The parties are the sender (owner, permit or authorization signer), the recipient, the spender of
an allowance, the minter and the burner; the paths are transfer, transferFrom, permit then
transferFrom, EIP-3009 transfer and receive, mint, burn, multicall and seize. Each cell first runs
with nobody frozen (the path works, so the cell can fail), then with the party frozen (the exact
``FrozenAccount(party)``), and, for the paying party, with a partial freeze that leaves one unit
too little (``InsufficientAvailableBalance``): frozen funds never leave by a side path.

USDC, Paxos and ERC-3643 audits found exactly such gaps: a frozen spender moving funds with an old
approval, frozen funds burned through a side path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from _stack import REF, PilotStack
from helpers import Actor, PreparedCall, expect_revert

pytestmark = [pytest.mark.both_backends, pytest.mark.behaviour]

AMOUNT = 1_000


@dataclass(frozen=True)
class Path:
    name: str
    #: Builds the call (after any preparation such as approve or permit) from the parties.
    build: Callable[[PilotStack, dict[str, Actor]], PreparedCall]
    #: Parties that move money on this path (role name -> actor name).
    parties: dict[str, str]
    #: The party whose balance pays (partial freeze applies to it), if any.
    payer: str | None


def _transfer(s: PilotStack, p: dict[str, Actor]) -> PreparedCall:
    return s.token.as_(p["sender"]).transfer(p["recipient"], AMOUNT)


def _transfer_from(s: PilotStack, p: dict[str, Actor]) -> PreparedCall:
    s.token.as_(p["sender"]).approve(p["spender"], AMOUNT).send()
    return s.token.as_(p["spender"]).transferFrom(p["sender"], p["recipient"], AMOUNT)


def _permit_then_transfer_from(s: PilotStack, p: dict[str, Actor]) -> PreparedCall:
    s.permit(p["sender"], p["spender"], AMOUNT).send()  # permit itself works even for frozen parties
    return s.token.as_(p["spender"]).transferFrom(p["sender"], p["recipient"], AMOUNT)


def _eip3009_transfer(s: PilotStack, p: dict[str, Actor]) -> PreparedCall:
    return s.authorization(p["sender"], p["recipient"], AMOUNT, submitter=s.actors.stranger)


def _eip3009_receive(s: PilotStack, p: dict[str, Actor]) -> PreparedCall:
    return s.authorization(p["sender"], p["recipient"], AMOUNT, receive=True)


def _mint(s: PilotStack, p: dict[str, Actor]) -> PreparedCall:
    return s.token.as_(p["minter"]).mint(p["recipient"], AMOUNT, REF)


def _burn(s: PilotStack, p: dict[str, Actor]) -> PreparedCall:
    s.token.as_(s.actors.alice).transfer(p["sender"], AMOUNT).send()
    return s.token.as_(p["sender"]).burn(AMOUNT, REF)


def _minter_burn(s: PilotStack, p: dict[str, Actor]) -> PreparedCall:
    s.token.as_(s.actors.alice).transfer(p["minter"], AMOUNT).send()
    return s.token.as_(p["minter"]).burn(AMOUNT, REF)


def _multicall_transfer(s: PilotStack, p: dict[str, Actor]) -> PreparedCall:
    t = s.token
    return t.as_(p["sender"]).multicall([t.encode("transfer", p["recipient"], AMOUNT // 2)] * 2)


def _multicall_transfer_from(s: PilotStack, p: dict[str, Actor]) -> PreparedCall:
    t = s.token
    t.as_(p["sender"]).approve(p["spender"], AMOUNT).send()
    return t.as_(p["spender"]).multicall([t.encode("transferFrom", p["sender"], p["recipient"], AMOUNT)])


def _multicall_mint(s: PilotStack, p: dict[str, Actor]) -> PreparedCall:
    t = s.token
    return t.as_(p["minter"]).multicall([t.encode("mint", p["recipient"], AMOUNT, REF)])


def _seize_to(s: PilotStack, p: dict[str, Actor]) -> PreparedCall:
    s.token.as_(s.actors.freezer).freeze(s.actors.dave, REF).send()  # seize takes from a frozen account
    return s.token.as_(s.actors.seizer).seize(s.actors.dave, p["recipient"], AMOUNT, REF)


PATHS = (
    Path("transfer", _transfer, {"sender": "alice", "recipient": "bob"}, "sender"),
    Path("transferFrom", _transfer_from, {"sender": "alice", "recipient": "bob", "spender": "spender"}, "sender"),
    Path(
        "permit+transferFrom", _permit_then_transfer_from, {"sender": "alice", "recipient": "bob", "spender": "spender"},
        "sender",
    ),
    Path("transferWithAuthorization", _eip3009_transfer, {"sender": "alice", "recipient": "bob"}, "sender"),
    Path("receiveWithAuthorization", _eip3009_receive, {"sender": "alice", "recipient": "bob"}, "sender"),
    Path("mint", _mint, {"minter": "minter", "recipient": "bob"}, None),
    Path("burn", _burn, {"sender": "burner"}, "sender"),
    Path("minter burn", _minter_burn, {"minter": "minter"}, "minter"),
    Path("multicall transfer", _multicall_transfer, {"sender": "alice", "recipient": "bob"}, "sender"),
    Path(
        "multicall transferFrom", _multicall_transfer_from,
        {"sender": "alice", "recipient": "bob", "spender": "spender"}, "sender",
    ),
    Path("multicall mint", _multicall_mint, {"minter": "minter", "recipient": "bob"}, None),
    Path("seize", _seize_to, {"recipient": "bob"}, None),
)

CELLS = [(path, party) for path in PATHS for party in path.parties]


def _actors(stack: PilotStack, path: Path) -> dict[str, Actor]:
    return {party: stack.actors[name] for party, name in path.parties.items()}


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_path_works_when_nobody_is_frozen(stack: PilotStack, path: Path) -> None:
    parties = _actors(stack, path)
    before = stack.balance(parties["recipient"]) if "recipient" in parties else None
    path.build(stack, parties).send()
    if before is not None:
        assert stack.balance(parties["recipient"]) == before + AMOUNT


@pytest.mark.parametrize(("path", "party"), CELLS, ids=[f"{p.name}-frozen-{party}" for p, party in CELLS])
def test_frozen_party_cannot_move_money(stack: PilotStack, path: Path, party: str) -> None:
    parties = _actors(stack, path)
    frozen = parties[party]
    call = path.build(stack, parties)  # approvals, permits and funding happen before the freeze
    stack.token.as_(stack.actors.freezer).freeze(frozen, REF).send()
    watched = {who.address: stack.balance(who) for who in parties.values()}
    expect_revert(call, "FrozenAccount", account=frozen)
    assert {who.address: stack.balance(who) for who in parties.values()} == watched


PAYING = [path for path in PATHS if path.payer is not None]


@pytest.mark.parametrize("path", PAYING, ids=lambda p: p.name)
def test_partially_frozen_funds_cannot_leave(stack: PilotStack, path: Path) -> None:
    parties = _actors(stack, path)
    payer = parties[str(path.payer)]
    call = path.build(stack, parties)  # prepare first: funding the payer happens here
    balance = stack.balance(payer)
    stack.token.as_(stack.actors.freezer).freezeAmount(payer, balance - AMOUNT + 1, REF).send()
    if path.name == "multicall transfer":  # the first half passes, the second finds one unit missing
        expect_revert(call, "InsufficientAvailableBalance", account=payer, available=AMOUNT // 2 - 1, needed=AMOUNT // 2)
    else:
        expect_revert(call, "InsufficientAvailableBalance", account=payer, available=AMOUNT - 1, needed=AMOUNT)


def test_frozen_relayer_may_still_submit_someone_elses_authorization(stack: PilotStack) -> None:
    """The submitter of transferWithAuthorization moves none of its own funds: only the parties are checked."""
    a = stack.actors
    stack.token.as_(a.freezer).freeze(a.stranger, REF).send()
    stack.authorization(a.alice, a.bob, AMOUNT, submitter=a.stranger).send()
