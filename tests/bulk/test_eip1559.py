"""The fast EIP-1559 signer gives eth-account's exact bytes, and the Signer keeps its checks."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from pkr_pilot import _eip1559
from pkr_pilot.accounts import dev_account
from pkr_pilot.errors import AccountError, DevKeyRefused

KEY = "0x" + "4c" * 32
ACCOUNT = Account.from_key(KEY)

uint = st.one_of(st.sampled_from([0, 1, 127, 128, 255, 256, 2**64 - 1]), st.integers(0, 2**256 - 1))
transactions = st.fixed_dictionaries(
    {
        "chainId": st.integers(1, 2**64),
        "nonce": st.integers(0, 2**64 - 2),
        "maxPriorityFeePerGas": uint,
        "maxFeePerGas": uint,
        "gas": st.integers(0, 2**63),
        "to": st.binary(min_size=20, max_size=20).map(lambda b: str(to_checksum_address(b))),
        "value": uint,
        "data": st.one_of(st.binary(max_size=80), st.binary(min_size=54, max_size=58), st.binary(min_size=300, max_size=400)),
    }
)


@settings(max_examples=150, deadline=None)
@given(transactions)
def test_fast_signature_is_byte_identical_to_eth_account(tx: dict[str, Any]) -> None:
    (fast,) = _eip1559.sign_dynamic_fee_transactions(ACCOUNT, [tx])

    assert fast == bytes(ACCOUNT.sign_transaction(tx).raw_transaction)


def test_many_transactions_sign_in_order_with_one_cross_check() -> None:
    base = {
        "chainId": 31337,
        "maxPriorityFeePerGas": 10**9,
        "maxFeePerGas": 3 * 10**9,
        "gas": 90_000,
        "to": ACCOUNT.address,
        "value": 0,
    }
    txs = [dict(base, nonce=n, data=bytes([n % 256]) * 68) for n in range(50)]

    raws = _eip1559.sign_dynamic_fee_transactions(ACCOUNT, txs)

    assert raws == [bytes(ACCOUNT.sign_transaction(tx).raw_transaction) for tx in txs]


def test_other_shapes_are_signed_by_eth_account_itself() -> None:
    legacy = {"chainId": 1, "nonce": 0, "gasPrice": 10**9, "gas": 21_000, "to": ACCOUNT.address, "value": 1, "data": b""}

    assert not _eip1559.is_fast_shape(legacy)
    assert _eip1559.sign_dynamic_fee_transactions(ACCOUNT, [legacy]) == [
        bytes(ACCOUNT.sign_transaction(legacy).raw_transaction)
    ]


def test_signing_backend_is_coincurve_like_eth_keys() -> None:
    from pkr_pilot.accounts import eth_keys_backend

    assert eth_keys_backend() == "CoinCurveECCBackend"
    assert _eip1559.signing_backend() == "coincurve"


def test_signer_batch_signing_keeps_the_chain_id_rules() -> None:
    signer = dev_account(3)
    tx = {"chainId": 31337, "nonce": 0, "maxPriorityFeePerGas": 1, "maxFeePerGas": 2, "gas": 21_000, "to": signer.address, "value": 0, "data": b""}

    assert signer.sign_transactions([tx]) == [bytes(signer.sign_transaction(tx).raw_transaction)]
    with pytest.raises(DevKeyRefused):
        signer.sign_transactions([dict(tx, chainId=1)])
    with pytest.raises(AccountError):
        signer.sign_transactions([{k: v for k, v in tx.items() if k != "chainId"}])


def test_many_keys_sign_like_eth_account_in_order() -> None:
    keys = [bytes([n + 1]) * 32 for n in range(4)]
    base = {"chainId": 31337, "maxPriorityFeePerGas": 1, "maxFeePerGas": 3, "gas": 21_000, "value": 5, "data": b""}
    items = [(key, dict(base, nonce=n, to=ACCOUNT.address)) for n, key in enumerate(keys)]
    items.append((keys[0], {**base, "nonce": 9, "gasPrice": 1, "to": ACCOUNT.address}))  # not the fast shape
    for item in items[-1:]:
        item[1].pop("maxFeePerGas"), item[1].pop("maxPriorityFeePerGas")

    raws = _eip1559.sign_with_keys(items)

    assert raws == [bytes(Account.from_key(k).sign_transaction(tx).raw_transaction) for k, tx in items]
