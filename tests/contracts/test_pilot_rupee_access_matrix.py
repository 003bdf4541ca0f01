"""Access-control matrix: every privileged function against every role holder and a stranger.

Only the right holder succeeds. Everyone else is refused with
``AccessControlUnauthorizedAccount(account, neededRole)`` for role-gated functions, or with the
token's own error (``NotMinter``, ``NotBurner``) for the minter- and burner-gated ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from _stack import REF, PilotStack
from helpers import Actor, PreparedCall, expect_revert, role

pytestmark = [pytest.mark.both_backends, pytest.mark.behaviour]

#: Everyone who holds a power on the token, and someone who holds none.
CALLERS = (
    "admin", "minter_admin", "pauser", "unpauser", "freezer", "seizer", "attestor", "burner", "kyc",
    "minter", "upgrader", "rescuer", "stranger",
)

Build = Callable[[PilotStack, Actor], PreparedCall]
Setup = Callable[[PilotStack], None]


@dataclass(frozen=True)
class Privileged:
    name: str
    build: Build
    #: Callers that may call it.
    allowed: tuple[str, ...]
    #: Role checked by AccessControl (None: the token's own NotMinter / NotBurner gate).
    role: str | None
    #: Own error for the token-gated functions.
    own_error: str | None = None
    setup: Setup | None = None


def _pause(s: PilotStack) -> None:
    s.token.as_(s.actors.pauser).pause().send()


def _freeze_alice(s: PilotStack) -> None:
    s.token.as_(s.actors.freezer).freeze(s.actors.alice, REF).send()


def _freeze_amount_alice(s: PilotStack) -> None:
    s.token.as_(s.actors.freezer).freezeAmount(s.actors.alice, 10, REF).send()


#: The other ERC-20 that ``rescueERC20`` is called on (the token refuses to rescue itself), per chain.
_OTHER_TOKEN: dict[int, str] = {}


def _deploy_other_token(s: PilotStack) -> None:
    _OTHER_TOKEN[id(s.chain)] = s.deploy("MockERC20", "Other", "OTH").address


def _rescue(s: PilotStack, caller: Actor) -> PreparedCall:
    return s.token.as_(caller).rescueERC20(_OTHER_TOKEN[id(s.chain)], s.actors.bob, 0)


def _upgrade(s: PilotStack, caller: Actor) -> PreparedCall:
    # Re-pointing the proxy at its current implementation is a complete UUPS upgrade (proxiableUUID
    # checked, Upgraded emitted) without deploying a new one for every caller.
    return s.token.as_(caller).upgradeToAndCall(str(s.deployment.token.implementation), b"")


FUNCTIONS = (
    Privileged("configureMinter", lambda s, c: s.token.as_(c).configureMinter(s.actors.dave, 5, REF), ("minter_admin",), "MINTER_ADMIN_ROLE"),
    Privileged("removeMinter", lambda s, c: s.token.as_(c).removeMinter(s.actors.minter, REF), ("minter_admin",), "MINTER_ADMIN_ROLE"),
    Privileged("mint", lambda s, c: s.token.as_(c).mint(s.actors.dave, 5, REF), ("minter",), None, "NotMinter"),
    Privileged("burn", lambda s, c: s.token.as_(c).burn(0, REF), ("minter", "burner"), None, "NotBurner"),
    Privileged("attestReserves", lambda s, c: s.token.as_(c).attestReserves(10**12, s.now(), REF), ("attestor",), "ATTESTOR_ROLE"),
    Privileged("setSupplyCap", lambda s, c: s.token.as_(c).setSupplyCap(10**12, REF), ("admin",), "DEFAULT_ADMIN_ROLE"),
    Privileged("setMaxAttestationAge", lambda s, c: s.token.as_(c).setMaxAttestationAge(60, REF), ("admin",), "DEFAULT_ADMIN_ROLE"),
    Privileged("pause", lambda s, c: s.token.as_(c).pause(), ("pauser",), "PAUSER_ROLE"),
    Privileged("unpause", lambda s, c: s.token.as_(c).unpause(), ("unpauser",), "UNPAUSER_ROLE", setup=_pause),
    Privileged("freeze", lambda s, c: s.token.as_(c).freeze(s.actors.alice, REF), ("freezer",), "FREEZER_ROLE"),
    Privileged("unfreeze", lambda s, c: s.token.as_(c).unfreeze(s.actors.alice, REF), ("freezer",), "FREEZER_ROLE", setup=_freeze_alice),
    Privileged("freezeAmount", lambda s, c: s.token.as_(c).freezeAmount(s.actors.alice, 10, REF), ("freezer",), "FREEZER_ROLE"),
    Privileged(
        "unfreezeAmount", lambda s, c: s.token.as_(c).unfreezeAmount(s.actors.alice, 10, REF), ("freezer",), "FREEZER_ROLE",
        setup=_freeze_amount_alice,
    ),
    Privileged(
        "seize", lambda s, c: s.token.as_(c).seize(s.actors.alice, s.actors.bob, 10, REF), ("seizer",), "SEIZER_ROLE",
        setup=_freeze_alice,
    ),
    Privileged("rescueERC20", _rescue, ("rescuer",), "RESCUER_ROLE", setup=_deploy_other_token),
    Privileged("upgradeToAndCall", _upgrade, ("upgrader",), "UPGRADER_ROLE"),
    Privileged("setTier", lambda s, c: s.token.as_(c).setTier(s.actors.alice, 1, REF), ("kyc",), "KYC_ROLE"),
    Privileged("setTierLimits", lambda s, c: s.token.as_(c).setTierLimits(1, 5, 5, REF), ("admin",), "DEFAULT_ADMIN_ROLE"),
    Privileged("setLimitsMode", lambda s, c: s.token.as_(c).setLimitsMode(True, REF), ("admin",), "DEFAULT_ADMIN_ROLE"),
    Privileged("setAllowlistMode", lambda s, c: s.token.as_(c).setAllowlistMode(True, REF), ("admin",), "DEFAULT_ADMIN_ROLE"),
    Privileged("setExempt", lambda s, c: s.token.as_(c).setExempt(s.actors.alice, True, REF), ("admin",), "DEFAULT_ADMIN_ROLE"),
    Privileged(
        "grantRole", lambda s, c: s.token.as_(c).grantRole(role("FREEZER_ROLE"), s.actors.dave), ("admin",), "DEFAULT_ADMIN_ROLE"
    ),
    Privileged(
        "revokeRole", lambda s, c: s.token.as_(c).revokeRole(role("FREEZER_ROLE"), s.actors.freezer), ("admin",),
        "DEFAULT_ADMIN_ROLE",
    ),
    Privileged(
        "beginDefaultAdminTransfer", lambda s, c: s.token.as_(c).beginDefaultAdminTransfer(s.actors.dave), ("admin",),
        "DEFAULT_ADMIN_ROLE",
    ),
    Privileged(
        "cancelDefaultAdminTransfer", lambda s, c: s.token.as_(c).cancelDefaultAdminTransfer(), ("admin",), "DEFAULT_ADMIN_ROLE"
    ),
    Privileged(
        "changeDefaultAdminDelay", lambda s, c: s.token.as_(c).changeDefaultAdminDelay(7_200), ("admin",), "DEFAULT_ADMIN_ROLE"
    ),
    Privileged(
        "rollbackDefaultAdminDelay", lambda s, c: s.token.as_(c).rollbackDefaultAdminDelay(), ("admin",), "DEFAULT_ADMIN_ROLE"
    ),
)


def test_matrix_covers_every_state_changing_function_of_the_abi(stack: PilotStack) -> None:
    """A new external function must be added here (or to the public list) or this test fails."""
    public = {
        "transfer", "transferWithReference", "transferWithUniqueReference", "transferFrom", "approve", "permit", "transferWithAuthorization", "receiveWithAuthorization",
        "cancelAuthorization", "multicall", "initialize", "acceptDefaultAdminTransfer", "renounceRole",
    }
    mutating = {
        item["name"] for item in stack.token.abi
        if item.get("type") == "function" and item.get("stateMutability") in ("nonpayable", "payable")
    }
    assert mutating - public == {f.name for f in FUNCTIONS}


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.name)
def test_only_the_right_role_may_call(stack: PilotStack, function: Privileged) -> None:
    """Every caller in CALLERS: the refused ones first (simulated: nothing changes), then the allowed."""
    if function.setup is not None:
        function.setup(stack)
    wrong: list[str] = []
    for caller in CALLERS:
        if caller in function.allowed:
            continue
        actor = stack.actors[caller]
        call = function.build(stack, actor)
        try:
            if function.role is not None:
                expect_revert(call, "AccessControlUnauthorizedAccount", account=actor, neededRole=role(function.role))
            else:
                expect_revert(call, str(function.own_error), account=actor)
        except AssertionError as exc:
            wrong.append(f"{caller}: {exc}")
    assert not wrong, f"{function.name} let the wrong callers through or refused them wrongly:\n" + "\n".join(wrong)
    for caller in function.allowed:
        with stack.snapshot():
            function.build(stack, stack.actors[caller]).send()
