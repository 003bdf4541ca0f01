"""The transaction sender: simulate first, EIP-1559 caps, confirmations, failures decoded."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from faultproxy import DropResponse, FaultProxy, HttpError, NonceGap
from web3 import Web3

from pkr_pilot.accounts import dev_account
from pkr_pilot.chain import Chain, connect
from pkr_pilot.config import NetworkConfig, Project, load_project
from pkr_pilot.decode import ErrorDecoder
from pkr_pilot.errors import (
    ChainError,
    ContractRevert,
    MinedUnseen,
    SendUndecided,
    TransactionFailed,
    TransactionTimeout,
)
from pkr_pilot.tx import Sender, TxPolicy

# runtime: revert with custom error Boom(uint256 7) on any call
#   PUSH4 selector, PUSH1 0xe0, SHL, PUSH1 0, MSTORE, PUSH1 7, PUSH1 4, MSTORE, PUSH1 0x24, PUSH1 0, REVERT
BOOM_ABI = [{"type": "error", "name": "Boom", "inputs": [{"name": "code", "type": "uint256"}]}]


def _reverting_contract_initcode() -> bytes:
    selector = bytes.fromhex(ErrorDecoder([BOOM_ABI]).selector_of("Boom")[2:])
    runtime = (
        b"\x63" + selector + b"\x60\xe0\x1b\x60\x00\x52" + b"\x60\x07\x60\x04\x52" + b"\x60\x24\x60\x00\xfd"
    )
    # copy runtime to memory and return it
    size = len(runtime)
    init = b"\x60" + bytes([size]) + b"\x60\x0c\x60\x00\x39" + b"\x60" + bytes([size]) + b"\x60\x00\xf3"
    assert len(init) == 12
    return init + runtime


@pytest.fixture(scope="module")
def project() -> Project:
    return load_project()


def _network(**changes: object) -> NetworkConfig:
    return replace(NetworkConfig(name="tx-test", backend="anvil", chain_id=31337), **changes)  # type: ignore[arg-type]


@pytest.fixture
def chain(project: Project) -> Iterator[Chain]:
    with connect(project, _network()) as c:
        yield c


def test_simulate_raises_the_decoded_custom_error_before_signing(chain: Chain) -> None:
    signer = dev_account(0, chain_id=chain.chain_id)
    sender = Sender(chain.w3, signer, decoder=ErrorDecoder([BOOM_ABI]))
    receipt = sender.transact({"data": _reverting_contract_initcode()})
    target = receipt["contractAddress"]
    nonce = chain.w3.eth.get_transaction_count(signer.address)
    with pytest.raises(ContractRevert) as info:
        sender.transact({"to": target, "data": b"\x01"}, action="poke")
    assert info.value.name == "Boom"
    assert info.value.args_by_name == {"code": 7}
    assert str(info.value) == "poke reverted: Boom(code=7)"
    assert chain.w3.eth.get_transaction_count(signer.address) == nonce  # nothing was sent


def test_a_mined_failure_is_replayed_and_decoded(chain: Chain) -> None:
    signer = dev_account(0, chain_id=chain.chain_id)
    sender = Sender(chain.w3, signer, decoder=ErrorDecoder([BOOM_ABI]))
    target = sender.transact({"data": _reverting_contract_initcode()})["contractAddress"]
    sent = sender.send({"to": target, "data": b"\x01"}, gas=100_000)  # skip the simulation on purpose
    with pytest.raises(TransactionFailed) as info:
        sender.wait(sent, action="poke")
    assert info.value.name == "Boom"
    assert info.value.args_by_name["code"] == 7
    assert info.value.args_by_name["tx"] == sent.tx_hash


def test_fees_respect_the_network_caps(chain: Chain) -> None:
    signer = dev_account(1, chain_id=chain.chain_id)
    base = int(chain.w3.eth.get_block("latest")["baseFeePerGas"])
    capped = Sender(chain.w3, signer, policy=TxPolicy(max_fee_per_gas=base + 5, max_priority_fee_per_gas=3))
    fees = capped.fees()
    assert fees["maxFeePerGas"] <= base + 5
    assert fees["maxPriorityFeePerGas"] <= 3
    too_low = Sender(chain.w3, signer, policy=TxPolicy(max_fee_per_gas=max(base - 1, 0)))
    with pytest.raises(ChainError, match="below the current base fee"):
        too_low.fees()


def test_a_fee_refusal_is_not_blamed_on_another_operator(chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    sender = Sender(chain.w3, dev_account(2, chain_id=chain.chain_id))

    def refuse(raw: bytes) -> None:  # geth below --txpool.pricelimit
        raise ValueError({"code": -32000, "message": "transaction underpriced"})

    monkeypatch.setattr(chain.w3.eth, "send_raw_transaction", refuse)
    with pytest.raises(ChainError) as info:
        sender.send({"to": sender.address, "gas": 21_000})
    assert "refused the fee" in str(info.value)
    assert "max_fee_gwei" in str(info.value.hint)
    assert "another operator" not in str(info.value)


def test_a_duplicated_send_is_the_same_transaction_not_a_second_one(chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    """The request reached the node twice (a retrying proxy): the second copy's "already known" is ours."""
    sender = Sender(chain.w3, dev_account(2, chain_id=chain.chain_id))
    original = chain.w3.eth.send_raw_transaction

    def twice(raw: bytes) -> object:
        original(raw)
        return original(raw)  # anvil: "transaction already imported" / "nonce too low"

    before = chain.w3.eth.get_transaction_count(sender.address)
    monkeypatch.setattr(chain.w3.eth, "send_raw_transaction", twice)
    sent = sender.send({"to": sender.address, "gas": 21_000, "value": 1})
    monkeypatch.undo()
    assert sent.nonce == before
    assert sender.wait(sent)["status"] == 1
    assert chain.w3.eth.get_transaction_count(sender.address) == before + 1  # one transaction, not two


def test_a_fee_below_the_base_fee_is_a_fee_refusal(chain: Chain) -> None:
    sender = Sender(chain.w3, dev_account(2, chain_id=chain.chain_id))
    with pytest.raises(ChainError, match="refused the fee"):
        sender.send({"to": sender.address, "gas": 21_000, "maxFeePerGas": 1, "maxPriorityFeePerGas": 1})


def test_a_same_fee_replacement_is_a_taken_nonce(chain: Chain) -> None:
    sender = Sender(chain.w3, dev_account(2, chain_id=chain.chain_id))
    chain.rpc("evm_setAutomine", False)
    first = sender.send({"to": sender.address, "gas": 21_000})
    with pytest.raises(ChainError, match="is taken by another transaction"):
        sender.send({"to": sender.address, "gas": 21_000, "value": 1}, nonce=first.nonce)


def test_waiting_times_out_with_a_hint_and_replace_gets_it_mined(project: Project) -> None:
    with connect(project, _network(no_mining=True)) as chain:
        signer = dev_account(2, chain_id=chain.chain_id)
        sender = Sender(chain.w3, signer, policy=TxPolicy(timeout=0.3))
        sent = sender.send({"to": dev_account(3).address, "value": 1}, gas=21_000)
        with pytest.raises(TransactionTimeout, match="re-run the same command"):
            sender.wait(sent)
        bumped = sender.replace(sent)
        assert bumped.nonce == sent.nonce
        assert bumped.tx["maxFeePerGas"] > sent.tx["maxFeePerGas"]
        chain.mine()
        receipt = sender.wait(bumped)
        assert receipt["status"] == 1
        assert "0x" + bytes(receipt["transactionHash"]).hex() == bumped.tx_hash


def test_waiting_for_a_replacement_group_returns_the_one_mined_and_says_the_time_left(project: Project) -> None:
    with connect(project, _network(no_mining=True)) as chain:
        signer = dev_account(8, chain_id=chain.chain_id)
        sender = Sender(chain.w3, signer, policy=TxPolicy(timeout=0.3, poll_interval=0.05))
        sent = sender.send({"to": dev_account(9).address, "value": 1}, gas=21_000)
        said: list[str] = []
        with pytest.raises(TransactionTimeout):
            sender.wait(sent, progress=said.append)
        assert said and said[0].startswith(f"waiting for {sent.tx_hash} to be mined (") and said[0].endswith("left of 0.3 s)")
        bumped = sender.replace(sent)
        chain.mine()
        receipt = sender.wait([sent, bumped])
        assert "0x" + bytes(receipt["transactionHash"]).hex() == bumped.tx_hash


def test_a_sent_transaction_the_node_forgot_while_its_nonce_was_used_is_undecided_not_waited_out(project: Project) -> None:
    with connect(project, _network()) as chain:
        signer = dev_account(2, chain_id=chain.chain_id)
        sender = Sender(chain.w3, signer, policy=TxPolicy(timeout=30, poll_interval=0.02))
        mined = sender.send({"to": dev_account(3).address, "value": 1}, gas=21_000)
        sender.wait(mined)
        # What a node that lost the block (or a lagging replica) shows: no transaction, no receipt,
        # and the sender's nonce used. It or another transaction with that nonce was mined.
        forgotten = replace(mined, tx_hash="0x" + "ab" * 32)
        with pytest.raises(MinedUnseen, match=f"nonce {mined.nonce} of its sender was used"):
            sender.wait(forgotten)


def test_losing_the_node_while_waiting_is_a_one_line_chain_error(project: Project) -> None:
    with connect(project, _network(no_mining=True)) as chain:
        signer = dev_account(4, chain_id=chain.chain_id)
        sender = Sender(chain.w3, signer, policy=TxPolicy(timeout=5))
        sent = sender.send({"to": dev_account(5).address, "value": 1}, gas=21_000)
        assert chain.node is not None
        chain.node.kill()
        with pytest.raises(ChainError, match="lost the connection to the node"):
            sender.wait(sent)


def test_confirmations_wait_for_later_blocks(project: Project) -> None:
    with connect(project, _network(no_mining=True)) as chain:
        signer = dev_account(6, chain_id=chain.chain_id)
        sender = Sender(chain.w3, signer, policy=TxPolicy(confirmations=3, timeout=0.3))
        sent = sender.send({"to": dev_account(7).address, "value": 1}, gas=21_000)
        chain.mine()  # included, 1 confirmation
        with pytest.raises(TransactionTimeout):
            sender.wait(sent)
        chain.mine(2)  # 3 confirmations
        assert sender.wait(sent)["status"] == 1


def test_revert_bytes_rendered_into_a_py_evm_message_are_recovered() -> None:
    from pkr_pilot.decode import revert_data_from_exception

    data = bytes.fromhex(ErrorDecoder([BOOM_ABI]).selector_of("Boom")[2:]) + (7).to_bytes(32, "big")
    inner = RuntimeError(f"execution reverted: {data!r}")
    try:
        try:
            raise inner
        except RuntimeError as exc:
            raise ValueError("wrapped by the provider") from exc
    except ValueError as outer:
        assert revert_data_from_exception(outer) == data
    assert ErrorDecoder([BOOM_ABI]).decode(data).args_by_name == {"code": 7}


def test_simulate_decodes_custom_errors_on_the_memory_backend(project: Project) -> None:
    with connect(project, NetworkConfig(name="mem", backend="memory", chain_id=1337)) as chain:
        signer = dev_account(0, chain_id=chain.chain_id)
        sender = Sender(chain.w3, signer, decoder=ErrorDecoder([BOOM_ABI]))
        target = sender.transact({"data": _reverting_contract_initcode()})["contractAddress"]
        with pytest.raises(ContractRevert) as info:
            sender.simulate({"to": target, "data": b"\x01"})
        assert info.value.name == "Boom" and info.value.args_by_name == {"code": 7}


# -- faults between the sender and the node (the drills' fault proxy, one transaction each) -------------------
@pytest.fixture
def proxied(chain: Chain) -> Iterator[tuple[FaultProxy, Web3]]:
    assert chain.url is not None
    with FaultProxy(chain.url) as proxy:
        yield proxy, Web3(Web3.HTTPProvider(proxy.url, request_kwargs={"timeout": 10}))


def test_a_send_whose_answer_was_lost_is_followed_by_its_hash_not_called_refused(
    chain: Chain, proxied: tuple[FaultProxy, Web3]
) -> None:
    proxy, w3 = proxied
    proxy.add(DropResponse())  # the node gets it, the answer never comes back
    sender = Sender(w3, dev_account(3, chain_id=chain.chain_id), policy=TxPolicy(timeout=10, poll_interval=0.02))
    before = chain.w3.eth.get_transaction_count(sender.address)
    sent = sender.send({"to": sender.address, "gas": 21_000, "value": 1})
    assert proxy.injected["DropResponse"] == 1
    assert sender.wait(sent)["status"] == 1
    assert chain.w3.eth.get_transaction_count(sender.address) == before + 1


def test_a_lost_answer_the_node_does_not_show_is_undecided_with_its_hash(
    chain: Chain, proxied: tuple[FaultProxy, Web3]
) -> None:
    proxy, w3 = proxied
    proxy.add(HttpError(status=502, methods=("eth_sendRawTransaction",), times=None))  # never forwarded (web3 retries 5x)
    sender = Sender(w3, dev_account(3, chain_id=chain.chain_id))
    before = chain.w3.eth.get_transaction_count(sender.address)
    with pytest.raises(SendUndecided) as info:
        sender.send({"to": sender.address, "gas": 21_000, "value": 1})
    assert info.value.exit_code == 10
    assert "refused" not in str(info.value) and "undecided" in str(info.value)
    assert info.value.tx_hash.startswith("0x") and info.value.tx_hash in str(info.value)
    assert chain.w3.eth.get_transaction_count(sender.address) == before  # nothing reached the node


def test_a_transaction_behind_a_nonce_gap_gets_the_gap_filled_and_is_mined_once(
    chain: Chain, proxied: tuple[FaultProxy, Web3]
) -> None:
    proxy, w3 = proxied
    proxy.add(NonceGap(times=1))  # the pending count answers one too high: the transaction waits behind a gap
    sender = Sender(w3, dev_account(4, chain_id=chain.chain_id), policy=TxPolicy(timeout=8, poll_interval=0.02))
    payee = dev_account(5, chain_id=chain.chain_id).address
    before, paid = chain.w3.eth.get_transaction_count(sender.address), chain.w3.eth.get_balance(payee)
    receipt = sender.transact({"to": payee, "value": 7})
    assert proxy.injected["NonceGap"] == 1
    assert chain.w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == before + 1
    assert chain.w3.eth.get_transaction_count(sender.address) == before + 2  # the filler at `before`, then it
    assert chain.w3.eth.get_balance(payee) == paid + 7  # paid once
