"""Signatures from outside: EIP-2612 permits and EIP-3009 authorizations signed with eth-account.

Every signature here is produced by eth-account's EIP-712 signer (``sign_typed_data``) from the
domain the token publishes (``eip712Domain()``, ERC-5267), as a wallet would. Accepted ones move
or approve exactly what was signed; wrong chain id, wrong domain, expired, not-yet-valid, replayed,
cancelled and wrongly-signed ones are refused with the exact error.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from _stack import CANCEL_BYTES, HOLDER_FUNDING, PilotStack
from helpers import ZERO_ADDRESS, Actor, PreparedCall, expect_revert, random_nonce
from pkr_pilot.errors import ContractRevert

pytestmark = pytest.mark.both_backends


def expect_invalid_signer(call: PreparedCall, owner: Actor, signer: Actor | None = None) -> None:
    """An EOA signature that recovers to someone else: OpenZeppelin's ERC2612InvalidSigner(signer, owner).

    A signature checked against another digest (other domain, nonce, value or owner) recovers to an
    arbitrary address, so ``signer`` is checked only when given; it is never the owner.
    """
    with pytest.raises(ContractRevert) as caught:
        call.call(block="pending")
    err = caught.value
    assert err.name == "ERC2612InvalidSigner", err
    assert err.args_by_name["owner"] == owner.address
    assert err.args_by_name["signer"] != owner.address
    if signer is not None:
        assert err.args_by_name["signer"] == signer.address


def other_dev_chain_id(stack: PilotStack) -> int:
    """The other local dev chain id: a dev key may sign for it, and it is wrong for this chain."""
    return 1337 if stack.chain_id == 31337 else 31337


# -------------------------------------------------------------------------------- domain


def test_domain_is_the_token_name_version_1_this_chain_and_the_proxy(stack: PilotStack) -> None:
    d = stack.domain()
    assert (d.name, d.version, d.chain_id, d.verifying_contract) == (
        "Pilot Pakistani Rupee", "1", stack.chain_id, stack.token.address,
    )
    assert len(d.name.encode()) <= 31


def test_domain_separator_matches_eth_account_hashing(stack: PilotStack) -> None:
    from eth_account.messages import encode_typed_data

    d = stack.domain()
    encoded = encode_typed_data(domain_data=d.as_dict(), message_types={"X": [{"name": "a", "type": "uint256"}]},
                                message_data={"a": 1})
    assert stack.token.view("DOMAIN_SEPARATOR") == encoded.header


# -------------------------------------------------------------------------------- permit


def test_permit_from_eth_account_sets_allowance_and_bumps_nonce(stack: PilotStack) -> None:
    a = stack.actors
    receipt = stack.permit(a.alice, a.spender, 5_000).send()
    receipt.expect_event("Approval", owner=a.alice, spender=a.spender, value=5_000)
    assert stack.token.view("allowance", a.alice, a.spender) == 5_000
    assert stack.token.view("nonces", a.alice) == 1
    stack.token.as_(a.spender).transferFrom(a.alice, a.bob, 5_000).send()
    assert stack.balance(a.bob) == HOLDER_FUNDING + 5_000


def test_permit_with_packed_signature_is_accepted(stack: PilotStack) -> None:
    a = stack.actors
    stack.permit(a.alice, a.spender, 9, packed=True).send()
    assert stack.token.view("allowance", a.alice, a.spender) == 9


def test_permit_may_be_submitted_by_anyone(stack: PilotStack) -> None:
    a = stack.actors
    stack.permit(a.alice, a.spender, 9, submitter=a.stranger).send()
    assert stack.token.view("allowance", a.alice, a.spender) == 9


def test_permit_for_wrong_chain_id_is_refused(stack: PilotStack) -> None:
    a = stack.actors
    wrong = stack.domain(chain_id=other_dev_chain_id(stack))
    expect_invalid_signer(stack.permit(a.alice, a.spender, 1, domain=wrong), a.alice)


@pytest.mark.parametrize(
    "override",
    [{"name": "Pilot Pakistani Rupee 2"}, {"version": "2"}, {"verifying_contract": "0x" + "11" * 20}],
    ids=["name", "version", "contract"],
)
def test_permit_for_wrong_domain_is_refused(stack: PilotStack, override: dict[str, str]) -> None:
    a = stack.actors
    expect_invalid_signer(stack.permit(a.alice, a.spender, 1, domain=stack.domain(**override)), a.alice)


def test_permit_exactly_at_deadline_passes_and_after_it_is_refused(stack: PilotStack) -> None:
    a = stack.actors
    deadline = stack.now() + 100
    stack.set_next_timestamp(deadline)
    stack.permit(a.alice, a.spender, 1, deadline=deadline).send()
    stack.next_block_not_before(deadline + 1)
    expect_revert(stack.permit(a.alice, a.spender, 2, deadline=deadline), "ERC2612ExpiredSignature", deadline=deadline)


def test_replayed_permit_is_refused(stack: PilotStack) -> None:
    a = stack.actors
    call = stack.permit(a.alice, a.spender, 10)
    call.send()
    expect_invalid_signer(call, a.alice)


def test_permit_signed_with_a_future_nonce_is_refused(stack: PilotStack) -> None:
    a = stack.actors
    expect_invalid_signer(stack.permit(a.alice, a.spender, 10, nonce=1), a.alice)


def test_permit_signed_by_someone_else_is_refused(stack: PilotStack) -> None:
    a = stack.actors
    forged = stack.permit(a.bob, a.spender, 10)  # bob signs, then claims to be alice
    call = replace(forged, args=(a.alice, *forged.args[1:]))
    expect_invalid_signer(call, a.alice)


def test_permit_with_changed_value_is_refused(stack: PilotStack) -> None:
    a = stack.actors
    call = stack.permit(a.alice, a.spender, 10)
    tampered = replace(call, args=(call.args[0], call.args[1], 11, *call.args[3:]))
    expect_invalid_signer(tampered, a.alice)


def test_permit_to_zero_spender_is_refused_and_uses_no_nonce(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(stack.permit(a.alice, ZERO_ADDRESS, 1), "ERC20InvalidSpender", spender=ZERO_ADDRESS)
    assert stack.token.view("nonces", a.alice) == 0


# ---------------------------------------------------------------------------- EIP-3009


def test_transfer_with_authorization_moves_funds_marks_nonce_and_emits(stack: PilotStack) -> None:
    a = stack.actors
    nonce = random_nonce()
    receipt = stack.authorization(a.alice, a.bob, 2_500, nonce=nonce, submitter=a.stranger).send()
    receipt.expect_event("AuthorizationUsed", authorizer=a.alice, nonce=nonce)
    receipt.expect_event("Transfer", **{"from": a.alice, "to": a.bob, "value": 2_500})
    assert stack.token.view("authorizationState", a.alice, nonce) is True
    assert stack.balance(a.bob) == HOLDER_FUNDING + 2_500


def test_transfer_with_authorization_packed_signature_is_accepted(stack: PilotStack) -> None:
    a = stack.actors
    stack.authorization(a.alice, a.bob, 3, packed=True).send()
    assert stack.balance(a.bob) == HOLDER_FUNDING + 3


def test_receive_with_authorization_by_the_payee(stack: PilotStack) -> None:
    a = stack.actors
    stack.authorization(a.alice, a.bob, 7, receive=True).send()
    stack.authorization(a.alice, a.bob, 8, receive=True, packed=True).send()
    assert stack.balance(a.bob) == HOLDER_FUNDING + 15


def test_receive_with_authorization_by_anyone_else_is_refused(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(
        stack.authorization(a.alice, a.bob, 7, receive=True, submitter=a.stranger),
        "CallerNotPayee", caller=a.stranger, payee=a.bob,
    )


def test_transfer_signature_cannot_be_used_as_receive_and_vice_versa(stack: PilotStack) -> None:
    a = stack.actors
    nonce = random_nonce()
    as_transfer = stack.authorization(a.alice, a.bob, 7, nonce=nonce)
    as_receive = stack.authorization(a.alice, a.bob, 7, receive=True, nonce=nonce)
    swapped = replace(as_receive, args=as_receive.args[:6] + as_transfer.args[6:])
    expect_invalid_signer(swapped, a.alice)


def test_authorization_for_wrong_chain_id_is_refused(stack: PilotStack) -> None:
    a = stack.actors
    wrong = stack.domain(chain_id=other_dev_chain_id(stack))
    expect_invalid_signer(stack.authorization(a.alice, a.bob, 1, domain=wrong), a.alice)


def test_authorization_for_wrong_verifying_contract_is_refused(stack: PilotStack) -> None:
    a = stack.actors
    wrong = stack.domain(verifying_contract="0x" + "22" * 20)
    expect_invalid_signer(stack.authorization(a.alice, a.bob, 1, domain=wrong), a.alice)


def test_replayed_authorization_is_refused(stack: PilotStack) -> None:
    a = stack.actors
    nonce = random_nonce()
    call = stack.authorization(a.alice, a.bob, 1, nonce=nonce)
    call.send()
    expect_revert(call, "AuthorizationUsedOrCanceled", authorizer=a.alice, nonce=nonce)


def test_expired_authorization_is_refused_and_one_second_before_passes(stack: PilotStack) -> None:
    a = stack.actors
    valid_before = stack.now() + 100
    stack.set_next_timestamp(valid_before - 1)
    stack.authorization(a.alice, a.bob, 1, valid_before=valid_before).send()
    stack.next_block_not_before(valid_before)
    expect_revert(
        stack.authorization(a.alice, a.bob, 1, valid_before=valid_before), "AuthorizationExpired", validBefore=valid_before
    )


def test_not_yet_valid_authorization_is_refused_and_one_second_after_passes(stack: PilotStack) -> None:
    a = stack.actors
    valid_after = stack.now() + 100
    stack.set_next_timestamp(valid_after)
    expect_revert(
        stack.authorization(a.alice, a.bob, 1, valid_after=valid_after), "AuthorizationNotYetValid", validAfter=valid_after
    )
    stack.next_block_not_before(valid_after + 1)
    stack.authorization(a.alice, a.bob, 1, valid_after=valid_after).send()


def test_cancelled_authorization_is_refused(stack: PilotStack) -> None:
    a = stack.actors
    nonce = random_nonce()
    call = stack.authorization(a.alice, a.bob, 1, nonce=nonce)
    receipt = stack.cancel_authorization(a.alice, nonce, submitter=a.stranger).send()
    receipt.expect_event("AuthorizationCanceled", authorizer=a.alice, nonce=nonce)
    assert stack.token.view("authorizationState", a.alice, nonce) is True
    expect_revert(call, "AuthorizationUsedOrCanceled", authorizer=a.alice, nonce=nonce)


def test_cancel_with_packed_signature_and_cancel_twice_is_refused(stack: PilotStack) -> None:
    from helpers import cancel_signature

    a = stack.actors
    nonce = random_nonce()
    sig = cancel_signature(a.alice, stack.domain(), nonce)
    stack.token.as_(a.alice).fn(CANCEL_BYTES)(a.alice, nonce, sig.packed).send()
    expect_revert(
        stack.token.as_(a.alice).fn(CANCEL_BYTES)(a.alice, nonce, sig.packed),
        "AuthorizationUsedOrCanceled", authorizer=a.alice, nonce=nonce,
    )


def test_used_authorization_cannot_be_cancelled(stack: PilotStack) -> None:
    a = stack.actors
    nonce = random_nonce()
    stack.authorization(a.alice, a.bob, 1, nonce=nonce).send()
    expect_revert(stack.cancel_authorization(a.alice, nonce), "AuthorizationUsedOrCanceled", authorizer=a.alice, nonce=nonce)


def test_cancel_signed_by_someone_else_is_refused(stack: PilotStack) -> None:
    a = stack.actors
    nonce = random_nonce()
    forged = stack.cancel_authorization(a.bob, nonce)
    call = replace(forged, args=(a.alice, *forged.args[1:]))
    expect_invalid_signer(call, a.alice)
    assert stack.token.view("authorizationState", a.alice, nonce) is False


def test_cancel_works_while_paused(stack: PilotStack) -> None:
    a = stack.actors
    stack.token.as_(a.pauser).pause().send()
    stack.cancel_authorization(a.alice, random_nonce()).send()


def test_authorization_above_available_balance_is_refused_and_nonce_stays_unused(stack: PilotStack) -> None:
    a = stack.actors
    nonce = random_nonce()
    expect_revert(
        stack.authorization(a.alice, a.bob, HOLDER_FUNDING + 1, nonce=nonce),
        "ERC20InsufficientBalance", sender=a.alice, balance=HOLDER_FUNDING, needed=HOLDER_FUNDING + 1,
    )
    assert stack.token.view("authorizationState", a.alice, nonce) is False


# ----------------------------------------------------- OpenZeppelin's errors, and ERC-1271 wallets


def test_authorization_signed_by_someone_else_is_refused_as_an_invalid_signer(stack: PilotStack) -> None:
    a = stack.actors
    forged = stack.authorization(a.bob, a.carol, 5)  # bob signs a transfer out of alice's balance
    call = replace(forged, args=(a.alice, *forged.args[1:]))
    expect_invalid_signer(call, a.alice)


def test_malformed_eoa_signature_reverts_with_openzeppelins_ecdsa_error(stack: PilotStack) -> None:
    a = stack.actors
    call = stack.permit(a.alice, a.spender, 1, packed=True)
    short = replace(call, args=(*call.args[:4], call.args[4][:64]))
    expect_revert(short, "ECDSAInvalidSignatureLength", length=64)
    auth = stack.authorization(a.alice, a.bob, 1, packed=True)
    expect_revert(replace(auth, args=(*auth.args[:6], b"\x01" * 66)), "ECDSAInvalidSignatureLength", length=66)


def _wallet_permit(stack: PilotStack, wallet: str, key: Actor, value: int) -> PreparedCall:
    from _stack import PERMIT_BYTES
    from helpers import _PERMIT_TYPES, _sign

    a = stack.actors
    deadline = stack.now() + 3_600
    nonce = int(stack.token.view("nonces", wallet))
    sig = _sign(key, stack.domain(), _PERMIT_TYPES, {
        "owner": wallet, "spender": a.spender.address, "value": value, "nonce": nonce, "deadline": deadline,
    })
    return stack.token.as_(a.spender).fn(PERMIT_BYTES)(wallet, a.spender, value, deadline, sig.packed)


def test_erc1271_wallet_permit_still_works_and_a_refusal_is_invalid_signature(stack: PilotStack) -> None:
    a = stack.actors
    wallet = stack.deploy("MockERC1271Wallet", a.alice).address
    _wallet_permit(stack, wallet, a.alice, 77).send()
    assert stack.token.view("allowance", wallet, a.spender) == 77
    expect_revert(_wallet_permit(stack, wallet, a.bob, 78), "InvalidSignature", signer=wallet)


def test_erc1271_wallet_transfer_with_authorization_still_works(stack: PilotStack) -> None:
    from _stack import AUTH_ARGS
    from helpers import _AUTH_FIELDS, _sign

    a = stack.actors
    wallet = stack.deploy("MockERC1271Wallet", a.alice).address
    stack.token.as_(a.alice).transfer(wallet, 500).send()

    def authorization(key: Actor, nonce: bytes) -> PreparedCall:
        valid_before = stack.now() + 3_600
        sig = _sign(key, stack.domain(), {"TransferWithAuthorization": _AUTH_FIELDS}, {
            "from": wallet, "to": a.bob.address, "value": 200, "validAfter": 0, "validBefore": valid_before,
            "nonce": nonce,
        })
        fn = stack.token.as_(a.stranger).fn(f"transferWithAuthorization{AUTH_ARGS[:-1]},bytes)")
        return fn(wallet, a.bob, 200, 0, valid_before, nonce, sig.packed)

    authorization(a.alice, random_nonce()).send()
    assert stack.balance(wallet) == 300
    expect_revert(authorization(a.bob, random_nonce()), "InvalidSignature", signer=wallet)


def test_permit_of_alices_account_signed_with_bobs_key_names_bob_as_the_signer(stack: PilotStack) -> None:
    from _stack import PERMIT_VRS
    from helpers import _PERMIT_TYPES, _sign

    a = stack.actors
    deadline = stack.now() + 3_600
    sig = _sign(a.bob, stack.domain(), _PERMIT_TYPES, {
        "owner": a.alice.address, "spender": a.spender.address, "value": 5, "nonce": 0, "deadline": deadline,
    })
    call = stack.token.as_(a.spender).fn(PERMIT_VRS)(a.alice, a.spender, 5, deadline, sig.v, sig.r, sig.s)
    expect_invalid_signer(call, a.alice, signer=a.bob)
