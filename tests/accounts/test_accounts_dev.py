"""Dev keys (public test mnemonic), account specs, and a signer that never shows its key."""

from __future__ import annotations

import copy
import pickle

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from pkr_pilot.accounts import (
    AccountSpec,
    Signer,
    dev_account,
    dev_address,
    dev_addresses,
    eth_keys_backend,
    load_account,
    parse_account_spec,
)
from pkr_pilot.errors import AccountError, DevKeyRefused, UserInputError

# anvil's well-known dev:0 and its (public) key, as printed by every anvil.
ANVIL_DEV0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ANVIL_DEV9 = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"
DEV0_KEY_HEX = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def _tx(chain_id: int | None) -> dict[str, object]:
    tx: dict[str, object] = {
        "to": ANVIL_DEV9,
        "value": 1,
        "nonce": 0,
        "gas": 21_000,
        "maxFeePerGas": 2 * 10**9,
        "maxPriorityFeePerGas": 10**9,
    }
    if chain_id is not None:
        tx["chainId"] = chain_id
    return tx


def test_dev_addresses_are_anvils() -> None:
    addresses = dev_addresses()
    assert len(addresses) == 10
    assert addresses[0] == ANVIL_DEV0 and addresses[9] == ANVIL_DEV9
    assert dev_address(0) == ANVIL_DEV0


@pytest.mark.parametrize("chain_id", [31337, 1337])
def test_dev_keys_are_accepted_on_dev_chains(chain_id: int) -> None:
    signer = load_account(None, "dev:0", chain_id=chain_id)
    signed = signer.sign_transaction(_tx(chain_id))
    assert Account.recover_transaction(signed.raw_transaction) == ANVIL_DEV0


@pytest.mark.parametrize("chain_id", [1, 5, 11155111, 2026])
def test_dev_keys_are_refused_on_other_chains(chain_id: int) -> None:
    with pytest.raises(DevKeyRefused) as info:
        load_account(None, "dev:0", chain_id=chain_id)
    message = str(info.value)
    assert f"refusing to use it on chain id {chain_id}" in message
    assert "keystore" in message  # says what to do instead


def test_a_dev_signer_refuses_to_sign_for_a_non_dev_chain_wherever_it_came_from() -> None:
    signer = dev_account(1)  # created without a chain id
    with pytest.raises(DevKeyRefused, match="refusing to sign a transaction for chain id 1"):
        signer.sign_transaction(_tx(1))
    with pytest.raises(DevKeyRefused):
        signer.sign_transaction(_tx("0x5"))  # type: ignore[arg-type]
    with pytest.raises(DevKeyRefused, match="typed data"):
        signer.sign_typed_data(full_message=_typed_message(chain_id=1))
    assert signer.sign_typed_data(full_message=_typed_message(chain_id=31337)).signature


def test_no_signer_signs_a_transaction_without_chain_id() -> None:
    with pytest.raises(AccountError, match="without chainId"):
        dev_account(0).sign_transaction(_tx(None))


def test_signer_repr_and_str_never_show_the_key() -> None:
    signer = dev_account(0)
    for text in (repr(signer), str(signer), f"{signer}", f"{signer!r}"):
        assert DEV0_KEY_HEX not in text.lower()
        assert ANVIL_DEV0 in text and "dev:0" in text
    assert not hasattr(signer, "key")
    assert not hasattr(signer, "__dict__")


def test_signer_is_read_only_and_cannot_be_pickled() -> None:
    signer = dev_account(0)
    with pytest.raises(AttributeError):
        signer.address = ANVIL_DEV9
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(signer)
    assert copy.copy(signer) is signer and copy.deepcopy(signer) is signer


def test_signer_signs_messages_verifiably() -> None:
    signer = dev_account(3)
    message = encode_defunct(text="pkr-pilot")
    signed = signer.sign_message(message)
    assert Account.recover_message(message, signature=signed.signature) == signer.address
    assert isinstance(signer, Signer) and signer.is_dev


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("dev:0", AccountSpec("dev", index=0)),
        ("dev:12", AccountSpec("dev", index=12)),
        ("keystore:operator", AccountSpec("keystore", name="operator")),
        ("operator", AccountSpec("keystore", name="operator")),
        ("  ops-2.backup_1 ", AccountSpec("keystore", name="ops-2.backup_1")),
    ],
)
def test_account_specs_parse(text: str, spec: AccountSpec) -> None:
    assert parse_account_spec(text) == spec


@pytest.mark.parametrize("text", ["dev:", "dev:x", "dev:-1", "dev:1000", "", "../etc", "a/b", "-x", "x" * 65])
def test_bad_account_specs_are_refused(text: str) -> None:
    with pytest.raises(UserInputError):
        parse_account_spec(text)


def test_a_private_key_given_as_account_is_refused_without_echoing_it() -> None:
    with pytest.raises(UserInputError) as info:
        parse_account_spec("0x" + DEV0_KEY_HEX)
    assert DEV0_KEY_HEX not in str(info.value)
    assert "looks like a private key" in str(info.value)


def test_an_address_is_not_an_account() -> None:
    with pytest.raises(UserInputError, match="is an address, not an account"):
        parse_account_spec(ANVIL_DEV0)


def test_eth_keys_uses_the_coincurve_backend() -> None:
    assert eth_keys_backend() == "CoinCurveECCBackend"


def _typed_message(chain_id: int) -> dict[str, object]:
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "chainId", "type": "uint256"},
            ],
            "Ping": [{"name": "n", "type": "uint256"}],
        },
        "primaryType": "Ping",
        "domain": {"name": "pkr", "chainId": chain_id},
        "message": {"n": 1},
    }
