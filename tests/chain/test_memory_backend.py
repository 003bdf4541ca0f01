"""The memory backend looks like anvil: same dev accounts and funding, EVM version, limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account
from eth_utils.exceptions import ValidationError

from pkr_pilot.accounts import DEV_BALANCE_WEI, DEV_MNEMONIC, dev_account, dev_addresses
from pkr_pilot.chain import Chain, connect
from pkr_pilot.config import Project

# Init code "PUSH2 size PUSH1 0 RETURN": deploys `size` zero bytes as runtime code.
EIP170_LIMIT = 24_576

# Runtime "BLOBBASEFEE PUSH0 MSTORE PUSH1 32 PUSH0 RETURN" (BLOBBASEFEE is new in Cancun),
# wrapped in init code that stores and returns those 7 bytes.
CANCUN_PROBE_INIT = bytes.fromhex("66" + "4a5f5260205ff3" + "5f52" + "6007" + "6019" + "f3")


def _zeros_init(size: int) -> bytes:
    return bytes.fromhex(f"61{size:04x}6000f3")


@pytest.fixture(params=["local", "memory"])
def chain(request: pytest.FixtureRequest, project: Project) -> Iterator[Chain]:
    with connect(project, request.param) as handle:
        yield handle


def test_memory_dev_accounts_equal_anvils_and_are_funded_alike(project: Project) -> None:
    with connect(project, "local") as anvil_chain:
        anvil_accounts = anvil_chain.w3.eth.accounts
    with connect(project, "memory") as memory:
        memory_accounts = memory.w3.eth.accounts
        balances = {memory.w3.eth.get_balance(a) for a in memory_accounts}
    assert list(memory_accounts) == list(anvil_accounts) == list(dev_addresses())
    assert balances == {DEV_BALANCE_WEI}


def test_memory_chain_enforces_its_chain_id_on_signed_transactions(project: Project) -> None:
    with connect(project, "memory") as chain:
        signer = dev_account(2, chain_id=chain.chain_id)
        w3 = chain.w3
        tx = {
            "to": dev_addresses()[3],
            "value": 1,
            "nonce": 0,
            "gas": 21_000,
            "maxFeePerGas": 3 * 10**9,
            "maxPriorityFeePerGas": 10**9,
            "chainId": 1337,
        }
        receipt = w3.eth.wait_for_transaction_receipt(
            w3.eth.send_raw_transaction(signer.sign_transaction(tx).raw_transaction)
        )
        assert receipt["status"] == 1
        Account.enable_unaudited_hdwallet_features()
        funded = Account.from_mnemonic(DEV_MNEMONIC, account_path="m/44'/60'/0'/0/4")
        foreign = funded.sign_transaction({**tx, "chainId": 31337})  # signed for anvil's chain
        with pytest.raises(ValidationError, match="signed for chain id 31337, but this chain is 1337"):
            w3.eth.send_raw_transaction(foreign.raw_transaction)
        assert w3.eth.get_transaction_count(funded.address) == 0


def test_block_gas_limit_is_30_million(chain: Chain) -> None:
    assert chain.w3.eth.get_block("latest")["gasLimit"] == 30_000_000


def test_a_contract_of_the_eip170_maximum_size_deploys(chain: Chain) -> None:
    w3 = chain.w3
    tx_hash = w3.eth.send_transaction(
        {"from": w3.eth.accounts[0], "data": _zeros_init(EIP170_LIMIT), "gas": 6_000_000}
    )
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    assert len(w3.eth.get_code(receipt["contractAddress"])) == EIP170_LIMIT  # type: ignore[arg-type]


def test_one_byte_over_eip170_fails_on_both_backends(chain: Chain) -> None:
    w3 = chain.w3
    try:
        tx_hash = w3.eth.send_transaction(
            {"from": w3.eth.accounts[0], "data": _zeros_init(EIP170_LIMIT + 1), "gas": 6_000_000}
        )
    except Exception as exc:  # eth-tester raises at once; anvil mines a failed transaction
        assert "size" in str(exc).lower() or "code" in str(exc).lower()
        return
    assert w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 0


def test_both_backends_run_cancun_opcodes(chain: Chain) -> None:
    w3 = chain.w3
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": w3.eth.accounts[0], "data": CANCUN_PROBE_INIT})
    )
    assert receipt["status"] == 1
    assert len(w3.eth.get_code(receipt["contractAddress"])) == 7  # type: ignore[arg-type]
    probe = receipt["contractAddress"]
    assert probe is not None
    blob_base_fee = w3.eth.call({"to": probe})
    assert len(blob_base_fee) == 32 and int.from_bytes(blob_base_fee, "big") >= 1


def test_base_fee_starts_at_one_gwei_like_anvil(chain: Chain) -> None:
    assert chain.w3.eth.get_block(0)["baseFeePerGas"] == 10**9


def test_memory_transactions_are_dated_when_sent_like_anvil(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pkr_pilot.chain import memory

    with connect(project, "memory") as chain:
        later = chain.latest_timestamp() + 600  # as if the chain sat idle for ten minutes
        monkeypatch.setattr(memory, "_now", lambda: later)
        pay = {"from": dev_addresses()[0], "to": dev_addresses()[1], "value": 1}
        tx_hash = chain.w3.eth.send_transaction(pay)  # type: ignore[arg-type]
        assert chain.w3.eth.get_block(chain.w3.eth.get_transaction(tx_hash)["blockNumber"])["timestamp"] == later
        # An explicit next timestamp wins over the clock.
        pinned = later + 10
        monkeypatch.setattr(memory, "_now", lambda: later + 5_000)
        chain.set_next_timestamp(pinned)
        chain.w3.eth.send_transaction(pay)  # type: ignore[arg-type]
        assert chain.latest_timestamp() == pinned
