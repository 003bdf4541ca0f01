"""Ape lane smoke suite: the repo is a working Ape project offline.

``ape compile`` builds contracts/ with the Node-backed solc installed where py-solc-x looks and
OpenZeppelin from node_modules; ``ape-foundry`` runs the npm anvil. Through Ape alone: deploy
PilotRupee behind its proxy, grant the roles, attest reserves, mint, freeze, burn and pause, with
the custom errors checked by ``ape.reverts``.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils.crypto import keccak

import ape

pytestmark = pytest.mark.ape_native
REF = keccak(text="ape smoke")
SUPPLY_CAP = 10**12
RESERVES = 10**11


@pytest.fixture(scope="module")
def roles(accounts: Any) -> dict[str, Any]:
    names = ("admin", "minter_admin", "pauser", "freezer", "attestor", "minter", "alice", "bob")
    return dict(zip(names, accounts, strict=False))


@pytest.fixture(scope="module")
def token(project: Any, roles: dict[str, Any], chain: Any) -> Any:
    admin = roles["admin"]
    implementation = admin.deploy(project.PilotRupee)
    init = implementation.initialize.encode_input("Pilot Pakistani Rupee", "PKRP", 2, admin.address, 0)
    proxy = admin.deploy(project.PilotRupeeProxy, implementation.address, init)
    token = project.PilotRupee.at(proxy.address)
    for role, who in (
        ("MINTER_ADMIN_ROLE", "minter_admin"), ("PAUSER_ROLE", "pauser"), ("UNPAUSER_ROLE", "pauser"),
        ("FREEZER_ROLE", "freezer"), ("ATTESTOR_ROLE", "attestor"),
    ):
        token.grantRole(getattr(token, role)(), roles[who], sender=admin)
    token.setSupplyCap(SUPPLY_CAP, REF, sender=admin)
    token.attestReserves(RESERVES, chain.pending_timestamp - 1, REF, sender=roles["attestor"])
    token.configureMinter(roles["minter"], 2 * RESERVES, REF, sender=roles["minter_admin"])
    return token


def test_deployed_through_ape_with_metadata_and_roles(token: Any, roles: dict[str, Any]) -> None:
    assert token.name() == "Pilot Pakistani Rupee"
    assert token.decimals() == 2
    assert token.version() == 1
    assert token.defaultAdmin() == roles["admin"].address
    assert token.isMinter(roles["minter"])


def test_mint_credits_and_emits(token: Any, roles: dict[str, Any]) -> None:
    minter, alice = roles["minter"], roles["alice"]
    receipt = token.mint(alice, 5_000, REF, sender=minter)
    assert token.balanceOf(alice) == 5_000
    assert token.totalSupply() == 5_000
    minted = receipt.events.filter(token.Minted)
    assert len(minted) == 1 and minted[0].amount == 5_000 and minted[0].to == alice.address


def test_mint_above_reserves_reverts_with_the_custom_error(token: Any, roles: dict[str, Any]) -> None:
    with ape.reverts(token.ReservesExceeded, reserves=RESERVES, newSupply=RESERVES + 1):
        token.mint(roles["alice"], RESERVES + 1, REF, sender=roles["minter"])


def test_freeze_blocks_transfers_and_unfreeze_restores_them(token: Any, roles: dict[str, Any]) -> None:
    alice, bob, freezer = roles["alice"], roles["bob"], roles["freezer"]
    token.mint(alice, 1_000, REF, sender=roles["minter"])
    token.freeze(alice, REF, sender=freezer)
    assert token.isFrozen(alice)
    with ape.reverts(token.FrozenAccount, account=alice.address):
        token.transfer(bob, 1, sender=alice)
    token.unfreeze(alice, REF, sender=freezer)
    token.transfer(bob, 1, sender=alice)
    assert token.balanceOf(bob) == 1


def test_burn_by_minter_and_refused_for_holders(token: Any, roles: dict[str, Any]) -> None:
    minter, alice = roles["minter"], roles["alice"]
    token.mint(minter, 700, REF, sender=minter)
    token.burn(300, REF, sender=minter)
    assert token.balanceOf(minter) == 400
    with ape.reverts(token.NotBurner, account=alice.address):
        token.burn(1, REF, sender=alice)


def test_pause_stops_transfers_and_mints(token: Any, roles: dict[str, Any]) -> None:
    alice, bob, pauser = roles["alice"], roles["bob"], roles["pauser"]
    token.mint(alice, 10, REF, sender=roles["minter"])
    token.pause(sender=pauser)
    with ape.reverts(token.EnforcedPause):
        token.transfer(bob, 1, sender=alice)
    with ape.reverts(token.EnforcedPause):
        token.mint(alice, 1, REF, sender=roles["minter"])
    token.unpause(sender=pauser)
    token.transfer(bob, 1, sender=alice)


def test_only_the_freezer_may_freeze(token: Any, roles: dict[str, Any]) -> None:
    bob = roles["bob"]
    with ape.reverts(token.AccessControlUnauthorizedAccount, account=bob.address, neededRole=token.FREEZER_ROLE()):
        token.freeze(roles["alice"], REF, sender=bob)
