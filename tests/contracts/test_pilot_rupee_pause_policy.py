"""PilotRupee pause policy (contracts/README.md, "Pause"): what stops and what keeps working.

Decided here: approve, permit and cancelAuthorization work while paused (they move no funds and
every spending path re-checks pause); freeze, partial freeze and seize work (compliance must act
during an incident); transfer, transferFrom, mint, burn and EIP-3009 transfers stop. Unpause needs
UNPAUSER_ROLE, separate from PAUSER_ROLE.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from _gas_stack import GasStack, anvil, deploy_gas_stack
from eth_account import Account
from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

from _provider import ape_web3, under_ape
from pkr_pilot.contracts._eip712 import AUTHORIZATION_FIELDS
from pkr_pilot.decode import ErrorDecoder, revert_data_from_exception
from pkr_pilot.errors import ContractRevert

pytestmark = pytest.mark.behaviour

REF = keccak(text="case 2026/17")
# A throwaway key generated for this test module (never funded with anything real).
HOLDER = Account.from_key(keccak(text="pkr-pilot pause policy test holder"))


class Paused:
    def __init__(self, stack: GasStack) -> None:
        self.stack = stack
        self.w3 = stack.w3
        self.t = stack.token.functions
        self.a = stack.accounts
        self.decoder = ErrorDecoder([stack.token.abi])
        acc = [Web3.to_checksum_address(x) for x in self.w3.eth.accounts]
        self.pauser, self.seizer = acc[9], acc[10]

    def send(self, fn: Any, sender: str) -> Any:
        receipt = self.w3.eth.wait_for_transaction_receipt(
            fn.transact({"from": sender, "gas": 1_000_000})
        )
        assert receipt["status"] == 1
        return receipt

    def revert_of(self, fn: Any, sender: str) -> ContractRevert:
        with pytest.raises((ContractCustomError, ContractLogicError)) as info:
            fn.call({"from": sender, "gas": 1_000_000})
        return self.decoder.decode(revert_data_from_exception(info.value) or b"")

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def domain(self) -> dict[str, Any]:
        return {
            "name": "Pilot Pakistani Rupee",
            "version": "1",
            "chainId": self.w3.eth.chain_id,
            "verifyingContract": self.stack.token.address,
        }


@pytest.fixture(scope="module")
def env(request: pytest.FixtureRequest) -> Iterator[Paused]:
    with ape_web3() if under_ape(request.config) else anvil() as w3:
        stack = deploy_gas_stack(w3)
        p = Paused(stack)
        t, a, admin = p.t, p.a, stack.accounts.admin
        for role, holder in (
            ("PAUSER_ROLE", p.pauser),
            ("SEIZER_ROLE", p.seizer),
        ):
            p.send(t.grantRole(getattr(t, role)().call(), holder), admin)
        p.send(t.setSupplyCap(10**12, REF), admin)
        p.send(t.attestReserves(10**12, p.now(), REF), a.attestor)
        p.send(t.configureMinter(a.minter, 10**12, REF), a.minter_admin)
        for holder in (a.sender, a.recipient, a.minter, HOLDER.address):
            p.send(t.mint(holder, 100_000, REF), a.minter)
        p.send(t.approve(a.spender, 50_000), a.sender)
        p.send(t.freezeAmount(a.recipient, 10_000, REF), a.freezer)
        p.send(t.pause(), p.pauser)
        yield p


def test_transfer_reverts_enforced_pause(env: Paused) -> None:
    assert env.revert_of(env.t.transfer(env.a.recipient, 1), env.a.sender).name == "EnforcedPause"


def test_transfer_from_reverts_enforced_pause(env: Paused) -> None:
    fn = env.t.transferFrom(env.a.sender, env.a.recipient, 1)
    assert env.revert_of(fn, env.a.spender).name == "EnforcedPause"


def test_mint_and_burn_revert_enforced_pause(env: Paused) -> None:
    assert env.revert_of(env.t.mint(env.a.sender, 1, REF), env.a.minter).name == "EnforcedPause"
    assert env.revert_of(env.t.burn(1, REF), env.a.minter).name == "EnforcedPause"


def test_transfer_with_authorization_reverts_enforced_pause(env: Paused) -> None:
    nonce = keccak(text="auth while paused")
    valid_before = env.now() + 3_600
    message = {
        "from": HOLDER.address,
        "to": env.a.recipient,
        "value": 5,
        "validAfter": 0,
        "validBefore": valid_before,
        "nonce": nonce,
    }
    signed = Account.sign_typed_data(
        HOLDER.key, env.domain(), {"TransferWithAuthorization": AUTHORIZATION_FIELDS}, message
    )
    fn = env.stack.token.get_function_by_signature(
        "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"
    )(HOLDER.address, env.a.recipient, 5, 0, valid_before, nonce, signed.signature)
    assert env.revert_of(fn, env.a.spender).name == "EnforcedPause"


def test_approve_works_while_paused(env: Paused) -> None:
    env.send(env.t.approve(env.a.spender, 123), env.a.recipient)
    assert env.t.allowance(env.a.recipient, env.a.spender).call() == 123


def test_permit_works_while_paused(env: Paused) -> None:
    deadline = env.now() + 3_600
    nonce = env.t.nonces(HOLDER.address).call()
    fields = [
        {"name": "owner", "type": "address"},
        {"name": "spender", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
    message = {
        "owner": HOLDER.address,
        "spender": env.a.spender,
        "value": 777,
        "nonce": nonce,
        "deadline": deadline,
    }
    signed = Account.sign_typed_data(HOLDER.key, env.domain(), {"Permit": fields}, message)
    fn = env.stack.token.get_function_by_signature(
        "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"
    )(
        HOLDER.address,
        env.a.spender,
        777,
        deadline,
        signed.v,
        signed.r.to_bytes(32, "big"),
        signed.s.to_bytes(32, "big"),
    )
    env.send(fn, env.a.spender)
    assert env.t.allowance(HOLDER.address, env.a.spender).call() == 777
    assert env.t.nonces(HOLDER.address).call() == nonce + 1


def test_cancel_authorization_works_while_paused(env: Paused) -> None:
    nonce = keccak(text="cancel while paused")
    fields = [{"name": "authorizer", "type": "address"}, {"name": "nonce", "type": "bytes32"}]
    signed = Account.sign_typed_data(
        HOLDER.key,
        env.domain(),
        {"CancelAuthorization": fields},
        {"authorizer": HOLDER.address, "nonce": nonce},
    )
    fn = env.stack.token.get_function_by_signature("cancelAuthorization(address,bytes32,bytes)")(
        HOLDER.address, nonce, signed.signature
    )
    env.send(fn, env.a.spender)
    assert env.t.authorizationState(HOLDER.address, nonce).call() is True


def test_freeze_partial_freeze_and_seize_work_while_paused(env: Paused) -> None:
    t, a = env.t, env.a
    env.send(t.freezeAmount(a.sender, 1_000, REF), a.freezer)
    assert t.frozenBalanceOf(a.sender).call() == 1_000
    env.send(t.seize(a.recipient, a.minter, 4_000, REF), env.seizer)
    assert t.frozenBalanceOf(a.recipient).call() == 6_000
    assert t.balanceOf(a.recipient).call() == 96_000
    env.send(t.freeze(a.spender, REF), a.freezer)
    env.send(t.unfreeze(a.spender, REF), a.freezer)
    assert t.paused().call() is True


def test_unpause_needs_unpauser_role_not_pauser_role(env: Paused) -> None:
    err = env.revert_of(env.t.unpause(), env.pauser)
    assert err.name == "AccessControlUnauthorizedAccount"
    assert err.args_by_name == {
        "account": env.pauser,
        "neededRole": env.t.UNPAUSER_ROLE().call(),
    }
