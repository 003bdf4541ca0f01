"""pkr_pilot.testing: the pytest plugin other projects load (its fixtures are used right here too)."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from importlib.metadata import entry_points
from typing import Any

import pytest

from pkr_pilot.errors import ContractRevert
from pkr_pilot.testing import PkrpStack


def test_the_plugin_is_registered_for_pytest() -> None:
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("pkr_pilot") == "pkr_pilot.testing.plugin"


def test_loading_the_plugin_imports_no_toolkit_internals() -> None:
    """pytest starts fast in every project that has pkr-pilot installed: web3, the compiler and the
    EVMs are imported only when a test asks for a pkrp fixture."""
    heavy = ("web3", "eth_tester", "eth_abi", "pkr_pilot.chain", "pkr_pilot.compile", "pkr_pilot.testing._stack")
    code = f"import sys, pkr_pilot.testing.plugin; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_actors_hold_their_roles_and_wallets_are_funded(pkrp: PkrpStack, pkrp_actors: Any, pkrp_wallets: Any) -> None:
    token = pkrp.token
    assert token.is_minter(pkrp_actors["minter"].address)
    for role in ("freezer", "attestor", "pauser", "seizer", "burner"):
        assert token.has_role(f"{role.upper()}_ROLE", pkrp_actors[role].address), role
    assert len(pkrp_wallets) == 10
    for wallet in pkrp_wallets:
        assert pkrp.balance(wallet.address) == Decimal("1000.00")
        assert pkrp.w3.eth.get_balance(wallet.address) >= 10 * 10**18
        assert not any(token.has_role(f"{r}_ROLE", wallet.address) for r in ("MINTER_ADMIN", "FREEZER"))


def test_one_line_helpers_mint_freeze_and_attest(pkrp: PkrpStack, pkrp_wallets: Any) -> None:
    alice, bob = pkrp_wallets[:2]
    pkrp.mint(alice.address, "250.50")
    assert pkrp.balance(alice.address) == Decimal("1250.50")
    pkrp.freeze(bob.address)
    assert pkrp.token.is_frozen(bob.address)
    with pytest.raises(ContractRevert) as refused:
        pkrp.send(bob, pkrp.token.transfer(alice.address, pkrp.units("1.00")))
    assert refused.value.name == "FrozenAccount"
    pkrp.unfreeze(bob.address)
    pkrp.attest("2,000,000,000")
    assert pkrp.token.reserves().amount == 2_000_000_000 * 100


def test_each_test_gets_the_stack_as_deployed(pkrp: PkrpStack, pkrp_wallets: Any) -> None:
    """The previous test's mint and freeze were reverted with its snapshot (same session)."""
    assert pkrp.balance(pkrp_wallets[0].address) == Decimal("1000.00")
    assert not pkrp.token.is_frozen(pkrp_wallets[1].address)
    assert pkrp.token.reserves().amount == 1_000_000_000 * 100


def test_permit_signs_what_the_token_accepts(pkrp: PkrpStack, pkrp_wallets: Any) -> None:
    owner, spender = pkrp_wallets[2], pkrp_wallets[3]
    deadline, v, r, s = pkrp.permit(owner, spender.address, "75.00")
    token = pkrp.w3.eth.contract(address=pkrp.address, abi=pkrp.token.abi)  # type: ignore[call-overload]
    permit = token.get_function_by_signature("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)")
    data = permit(owner.address, spender.address, 7_500, deadline, v, r, s)._encode_transaction_data()
    pkrp.sender(spender).transact({"to": pkrp.address, "data": data})
    assert pkrp.token.view("allowance", owner.address, spender.address) == 7_500


def test_a_payment_ref_is_found_on_chain_on_the_plugins_backend(pkrp: PkrpStack, pkrp_wallets: Any, tmp_path: Any) -> None:
    """'Already paid?' from the chain's logs (ops transfer evidence) on whatever backend the plugin runs."""
    from pkr_pilot import ops
    from pkr_pilot.errors import UserInputError

    alice, bob = pkrp_wallets[:2]

    def operator(journal: str) -> ops.Operator:
        folder = tmp_path / journal
        return ops.Operator(pkrp.contracts, pkrp.sender(alice), ops.OperationsJournal.in_folder(folder), network="plugin")

    yes = ops.RunOptions(yes=True)
    first = ops.transfer(operator("one"), bob.address, "7", ref="PLUGIN-PAY-1", options=yes)
    assert first.status == "confirmed"
    again = ops.transfer(operator("lost"), bob.address, "7", ref="PLUGIN-PAY-1", options=yes)  # no journal
    assert again.status == "already-done" and again.tx_hash == first.tx_hash
    with pytest.raises(UserInputError, match="already used") as refused:
        ops.transfer(operator("other"), bob.address, "8", ref="PLUGIN-PAY-1", options=yes)
    assert f"7.00 PKRP paid to {bob.address}" in str(refused.value)  # a person reads it: checksummed
    assert pkrp.balance(bob.address) == Decimal("1007.00")


def test_payments_are_found_by_their_refs_on_the_plugins_backend(pkrp: PkrpStack, pkrp_wallets: Any) -> None:
    """The payout's 'already paid?' (evidence.find_payments: one query for many refs) on the plugin's backend."""
    from pkr_pilot.evidence import find_payments
    from pkr_pilot.transport import transport_for

    alice, bob, carol = pkrp_wallets[:3]
    refs = [bytes([n]) * 32 for n in (1, 2, 3)]
    token = pkrp.token
    pkrp.send(alice, token.build("transferWithReference", bob.address, pkrp.units("1.00"), refs[0]))
    pkrp.send(alice, token.build("transferWithReference", carol.address, pkrp.units("2.00"), refs[1]))
    found = find_payments(transport_for(pkrp.w3), token.address, alice.address, refs, from_block=0,
                          to_block=pkrp.w3.eth.block_number)
    assert sorted(found) == refs[:2]
    assert [(p.to, p.value) for p in found[refs[1]]] == [(carol.address, pkrp.units("2.00"))]
