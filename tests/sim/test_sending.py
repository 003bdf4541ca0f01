"""The payment batch sender: one block per chunk on a node it controls, every transaction accounted for."""

from __future__ import annotations

from typing import Any

import pytest

from pkr_pilot.sending import SignedTx, TxStatus
from pkr_pilot.sim.sending import BlockSender
from pkr_pilot.transport import transport_for

GAS = 100_000


def _signed(actor: Any, nonce: int, *, to: str, data: bytes = b"", gas: int = GAS, chain_id: int = 31337) -> SignedTx:
    tx = {"to": to, "value": 0, "gas": gas, "nonce": nonce, "chainId": chain_id, "type": 2, "data": data,
          "maxFeePerGas": 50 * 10**9, "maxPriorityFeePerGas": 10**9}
    signed = actor.account.sign_transaction(tx)
    return SignedTx(actor.address, nonce, "0x" + bytes(signed.hash).hex(), bytes(signed.raw_transaction), tx)


@pytest.fixture
def parts(stack: Any) -> Any:
    transport = transport_for(stack.w3)
    yield stack, transport
    transport.close()


def test_a_controlled_batch_lands_in_one_block_with_reverts_mined(parts: Any) -> None:
    stack, transport = parts
    alice, bob = stack.actors.alice, stack.actors.bob
    token = stack.deployment.token.address
    nonce = stack.w3.eth.get_transaction_count(alice.address)
    too_much = bytes.fromhex("a9059cbb") + bytes(12) + bytes.fromhex(bob.address[2:]) + (10**30).to_bytes(32, "big")
    txs = [
        _signed(alice, nonce, to=bob.address),
        _signed(alice, nonce + 1, to=token, data=too_much),  # reverts: more than alice has
        _signed(bob, stack.w3.eth.get_transaction_count(bob.address), to=alice.address),
    ]
    head = stack.w3.eth.block_number
    mined = BlockSender(stack.chain, transport, controlled=True).send(txs)
    assert [m.status for m in mined] == [TxStatus.MINED, TxStatus.REVERTED, TxStatus.MINED]
    assert {m.block for m in mined} == {head + 1}
    assert stack.w3.eth.block_number == head + 1
    assert stack.chain.rpc("anvil_getAutomine") is True  # automine is back on


class _Counting:
    """The transport, counting the calls by method."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def batch(self, calls: Any) -> Any:
        self.calls += [method for method, _ in calls]
        return self.inner.batch(calls)


def test_a_logged_transaction_needs_no_receipt_and_a_silent_one_is_asked(parts: Any) -> None:
    """Receipts cost anvil the square of a block's size: a transaction that emitted a log succeeded,
    and only the others (a revert, a plain ETH transfer) are asked for their receipt."""
    stack, transport = parts
    alice, bob = stack.actors.alice, stack.actors.bob
    token = stack.deployment.token.address
    nonce = stack.w3.eth.get_transaction_count(alice.address)
    one = bytes.fromhex("a9059cbb") + bytes(12) + bytes.fromhex(bob.address[2:]) + (1).to_bytes(32, "big")
    too_much = one[:36] + (10**30).to_bytes(32, "big")
    txs = [_signed(alice, nonce + n, to=token, data=one) for n in range(3)]
    txs += [_signed(alice, nonce + 3, to=token, data=too_much), _signed(alice, nonce + 4, to=bob.address)]
    counting = _Counting(transport)
    mined = BlockSender(stack.chain, counting, controlled=True).send(txs)  # type: ignore[arg-type]
    assert [m.status for m in mined] == [TxStatus.MINED] * 3 + [TxStatus.REVERTED, TxStatus.MINED]
    assert "eth_getBlockReceipts" not in counting.calls
    assert counting.calls.count("eth_getTransactionReceipt") == 2  # the revert and the ETH transfer


class _NoBlocks(_Counting):
    """A node that does not show the blocks just mined (a lagging replica): null for eth_getBlockByNumber."""

    def batch(self, calls: Any) -> Any:
        from pkr_pilot.transport import RpcReply

        replies = super().batch(calls)
        return [RpcReply(None) if method == "eth_getBlockByNumber" else reply
                for (method, _), reply in zip(calls, replies, strict=True)]


def test_a_block_the_node_does_not_show_is_read_from_receipts(parts: Any) -> None:
    stack, transport = parts
    alice, bob = stack.actors.alice, stack.actors.bob
    token = stack.deployment.token.address
    nonce = stack.w3.eth.get_transaction_count(alice.address)
    one = bytes.fromhex("a9059cbb") + bytes(12) + bytes.fromhex(bob.address[2:]) + (1).to_bytes(32, "big")
    txs = [_signed(alice, nonce + n, to=token, data=one) for n in range(2)]
    lagging = _NoBlocks(transport)
    mined = BlockSender(stack.chain, lagging, controlled=True).send(txs)  # type: ignore[arg-type]
    assert [m.status for m in mined] == [TxStatus.MINED] * 2
    assert lagging.calls.count("eth_getTransactionReceipt") == 2


def test_a_refused_transaction_is_rejected_and_the_one_stuck_behind_it_is_dropped(parts: Any) -> None:
    stack, transport = parts
    alice, bob = stack.actors.alice, stack.actors.bob
    sender = BlockSender(stack.chain, transport, controlled=True)
    nonce = stack.w3.eth.get_transaction_count(alice.address)
    assert sender.send([_signed(alice, nonce, to=bob.address)])[0].status is TxStatus.MINED
    mined = sender.send([
        _signed(alice, nonce, to=alice.address),  # nonce already used: the node refuses it
        _signed(alice, nonce + 2, to=bob.address),  # waits behind nonce + 1, which never comes
    ])
    assert [m.status for m in mined] == ["rejected", "dropped"]
    assert "nonce" in (mined[0].error or "").lower()
    assert stack.w3.eth.get_transaction_count(alice.address, "pending") == nonce + 1
    # The dropped one is gone for good: filling its gap does not bring it back.
    assert sender.send([_signed(alice, nonce + 1, to=stack.actors.carol.address)])[0].status is TxStatus.MINED
    assert stack.w3.eth.get_transaction_count(alice.address, "pending") == nonce + 2


def test_a_nonce_gap_is_dropped_from_the_pool(parts: Any) -> None:
    stack, transport = parts
    alice, bob = stack.actors.alice, stack.actors.bob
    nonce = stack.w3.eth.get_transaction_count(alice.address)
    mined = BlockSender(stack.chain, transport, controlled=True).send([_signed(alice, nonce + 3, to=bob.address)])
    assert mined[0].status == "dropped"
    assert stack.w3.eth.get_transaction_count(alice.address, "pending") == nonce


def test_on_a_node_it_does_not_control_it_polls_for_receipts(parts: Any) -> None:
    stack, transport = parts
    alice = stack.actors.alice
    nonce = stack.w3.eth.get_transaction_count(alice.address)
    # (to carol: not byte-identical to a transaction an earlier test dropped from the pool)
    txs = [_signed(alice, nonce + n, to=stack.actors.carol.address) for n in range(3)]
    mined = BlockSender(stack.chain, transport, controlled=False).send(txs)
    assert [m.status for m in mined] == [TxStatus.MINED] * 3, [m.error for m in mined]
    assert all(m.block is not None and m.block > 0 for m in mined)
