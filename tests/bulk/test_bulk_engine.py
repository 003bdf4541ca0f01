"""The bulk engine: per-item outcomes, reverts decoded, window bound, nonce gaps, Multicall packing."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from _stack import REF, PilotStack
from pkr_pilot.bulk import BulkSender, TxRequest, TxStatus
from pkr_pilot.contracts import Stack
from pkr_pilot.transport import HttpTransport, ProviderTransport, RpcReply, Transport, transport_for
from pkr_pilot.tx import TxPolicy


def _fresh(n: int, base: int = 0xB0_0000) -> list[str]:
    from eth_utils.address import to_checksum_address

    return [str(to_checksum_address(f"0x{base + i:040x}")) for i in range(n)]


def _engine(stack: PilotStack, payer: Any, **kwargs: Any) -> tuple[BulkSender, Stack]:
    wrapped = Stack.from_deployment(stack.w3, stack.deployment)
    policy = kwargs.pop("policy", TxPolicy(timeout=20.0, poll_interval=0.01))
    return BulkSender(stack.w3, payer.account, decoder=wrapped.decoder, policy=policy, **kwargs), wrapped


def _transfers(wrapped: Stack, recipients: Sequence[str], amount: int) -> list[TxRequest]:
    token = wrapped.token
    return [TxRequest(token.address, token.transfer(to, amount).data) for to in recipients]


class RecordingTransport:
    """Wraps a transport; counts transactions in flight (accepted, no receipt seen yet)."""

    def __init__(self, inner: Transport, *, mine_on_poll: Any = None) -> None:
        self.inner = inner
        self.mine_on_poll = mine_on_poll
        self.inflight: set[str] = set()
        self.max_inflight = 0
        self.receipt_polls = 0
        self.methods: list[str] = []

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        return self.inner.call(method, params)

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[RpcReply]:
        from eth_hash.auto import keccak

        methods = {m for m, _ in calls}
        self.methods.extend(m for m, _ in calls)
        if "eth_getTransactionReceipt" in methods:
            self.receipt_polls += 1
            if self.mine_on_poll is not None:
                self.mine_on_poll()
        replies = self.inner.batch(calls)
        for (method, params), reply in zip(calls, replies, strict=True):
            if method == "eth_sendRawTransaction" and reply.error is None:
                self.inflight.add("0x" + keccak(bytes.fromhex(str(params[0])[2:])).hex())
            elif method == "eth_getTransactionReceipt" and reply.result:
                self.inflight.discard(str(params[0]))
        self.max_inflight = max(self.max_inflight, len(self.inflight))
        return replies

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def manual_mining(stack: PilotStack) -> Iterator[Any]:
    """Switch anvil's automine off for the test; returns a function that mines one block."""
    if stack.chain.kind != "anvil":
        pytest.skip("needs anvil's evm_setAutomine")
    stack.chain.rpc("evm_setAutomine", False)
    try:
        yield lambda: stack.chain.rpc("evm_mine")
    finally:
        stack.chain.rpc("evm_setAutomine", True)


# --------------------------------------------------------------------------- sending


@pytest.mark.both_backends
def test_send_mines_every_transfer_and_reports_each_item(stack: PilotStack) -> None:
    alice = stack.actors.alice
    engine, wrapped = _engine(stack, alice, batch_size=4)
    recipients = _fresh(10)
    before = stack.balance(alice)

    result = engine.send(_transfers(wrapped, recipients, 125))

    assert result.counts()["mined"] == 10 and result.ok
    assert [item.index for item in result.items] == list(range(10))
    nonces = [item.nonce for item in result.items]
    assert nonces == list(range(nonces[0], nonces[0] + 10))  # consecutive, signed ahead
    assert all(stack.balance(to) == 125 for to in recipients)
    assert stack.balance(alice) == before - 10 * 125
    if stack.chain.kind == "memory":
        assert isinstance(engine.transport, ProviderTransport)


def test_transfers_to_frozen_accounts_in_the_middle_revert_alone_with_decoded_error(stack: PilotStack) -> None:
    alice, freezer = stack.actors.alice, stack.actors.freezer
    recipients = _fresh(9, base=0xC0_0000)
    for frozen in (recipients[3], recipients[6]):
        stack.token.as_(freezer).freeze(frozen, REF).send()
    engine, wrapped = _engine(stack, alice, batch_size=4)

    result = engine.send(_transfers(wrapped, recipients, 10))

    reverted = result.by_status(TxStatus.REVERTED)
    assert [item.index for item in reverted] == [3, 6]
    for item in reverted:
        assert item.error is not None and item.error.name == "FrozenAccount"
        assert item.error.args_by_name["account"] == recipients[item.index]
        assert item.block is not None and item.tx_hash is not None
    assert len(result.by_status(TxStatus.MINED)) == 7
    assert [stack.balance(to) for to in recipients] == [10, 10, 10, 0, 10, 10, 0, 10, 10]


def test_transfer_from_frozen_owners_reverts_exactly_those_items(stack: PilotStack) -> None:
    # The spender moves money out of several owners; the frozen owners' items fail alone.
    spender, freezer = stack.actors.spender, stack.actors.freezer
    owners = [stack.actors.alice, stack.actors.bob, stack.actors.carol, stack.actors.dave]
    for owner in owners:
        stack.token.as_(owner).approve(spender, 1_000).send()
    stack.token.as_(freezer).freeze(stack.actors.bob, REF).send()
    engine, wrapped = _engine(stack, spender)
    to = _fresh(1, base=0xD0_0000)[0]
    token = wrapped.token
    requests = [
        TxRequest(token.address, token.build("transferFrom", owner.address, to, 100).data) for owner in owners
    ]

    result = engine.send(requests)

    assert [item.status for item in result.items] == [
        TxStatus.MINED,
        TxStatus.REVERTED,
        TxStatus.MINED,
        TxStatus.MINED,
    ]
    error = result.items[1].error
    assert error is not None and error.name == "FrozenAccount"
    assert error.args_by_name["account"] == stack.actors.bob.address
    assert stack.balance(to) == 300


def test_fixed_gas_per_kind_comes_from_sampled_estimates_not_one_per_transaction(stack: PilotStack) -> None:
    alice = stack.actors.alice
    engine, wrapped = _engine(stack, alice, gas_samples=3)
    recorder = RecordingTransport(engine.transport)
    engine.transport = recorder

    result = engine.send(_transfers(wrapped, _fresh(12, base=0xE0_0000), 1))

    assert result.ok
    assert recorder.methods.count("eth_estimateGas") == 3
    (limit,) = result.gas_limits.values()
    assert all(int(o.tx.fields["gas"]) == limit for o in result.transactions)
    assert all(o.gas_used is not None and o.gas_used < limit for o in result.transactions)


# --------------------------------------------------------------------------- window and timeouts


def test_in_flight_window_is_never_exceeded(stack: PilotStack, manual_mining: Any) -> None:
    alice = stack.actors.alice
    engine, wrapped = _engine(stack, alice, batch_size=3, window=7)
    recorder = RecordingTransport(engine.transport, mine_on_poll=manual_mining)
    engine.transport = recorder

    result = engine.send(_transfers(wrapped, _fresh(25, base=0xF0_0000), 2))

    assert result.ok
    assert 0 < recorder.max_inflight <= 7
    assert recorder.receipt_polls >= 25 // 7  # the window made it wait for receipts


def test_unmined_transactions_are_pending_not_failed_after_the_timeout(stack: PilotStack, manual_mining: Any) -> None:
    alice = stack.actors.alice
    engine, wrapped = _engine(stack, alice, policy=TxPolicy(timeout=0.3, poll_interval=0.05))

    result = engine.send(_transfers(wrapped, _fresh(3, base=0xF1_0000), 2))

    assert [item.status for item in result.items] == [TxStatus.PENDING] * 3
    assert all(item.tx_hash and "may still be mined" in (item.message or "") for item in result.items)
    manual_mining()  # they were in the pool all along
    receipts = [stack.w3.eth.get_transaction_receipt(item.tx_hash) for item in result.items]  # type: ignore[arg-type]
    assert [r["status"] for r in receipts] == [1, 1, 1]


# --------------------------------------------------------------------------- rejections and nonce gaps


def test_rejected_transaction_stops_the_line_and_its_nonce_gap_is_filled(stack: PilotStack) -> None:
    if stack.chain.kind != "anvil":
        pytest.skip("py-evm has no pool: it refuses a nonce above the next one, so nothing queues")
    alice = stack.actors.alice
    engine, wrapped = _engine(stack, alice, batch_size=4)
    recipients = _fresh(8, base=0xF2_0000)
    requests = _transfers(wrapped, recipients, 5)
    # Item 1 carries less gas than any transaction needs: the node refuses it on arrival,
    # after items 2 and 3 of the same batch are already queued behind its nonce.
    requests[1] = TxRequest(requests[1].to, requests[1].data, gas=20_000)
    start = stack.w3.eth.get_transaction_count(alice.address)
    gas = [r.gas or 120_000 for r in requests]

    result = engine.send(requests, gas=gas)

    statuses = [item.status for item in result.items]
    assert statuses == [TxStatus.MINED, TxStatus.REJECTED, TxStatus.MINED, TxStatus.MINED] + [
        TxStatus.NOT_SENT
    ] * 4
    assert "gas" in (result.items[1].message or "").lower()
    (filler,) = result.fillers
    assert filler.status is TxStatus.MINED and filler.tx.nonce == start + 1
    assert filler.tx.fields["to"] == alice.address and filler.tx.fields["value"] == 0
    # No gap is left behind: every nonce up to the last accepted one is used, nothing waits.
    assert stack.w3.eth.get_transaction_count(alice.address) == start + 4
    assert stack.w3.eth.get_transaction_count(alice.address, "pending") == start + 4
    assert [stack.balance(to) for to in recipients] == [5, 0, 5, 5, 0, 0, 0, 0]


def test_nonce_taken_by_another_sender_is_rejected_without_filler(stack: PilotStack) -> None:
    alice = stack.actors.alice
    engine, wrapped = _engine(stack, alice)
    start = stack.w3.eth.get_transaction_count(alice.address)
    stack.transactor.send(alice, alice.address, b"", gas=21_000)  # another operator took `start`

    result = engine.send(_transfers(wrapped, _fresh(3, base=0xF3_0000), 1), nonce=start)

    assert result.items[0].status is TxStatus.REJECTED
    assert "nonce" in (result.items[0].message or "").lower()
    assert result.fillers == ()


# --------------------------------------------------------------------------- multicall


def test_multicall_packs_payments_under_the_gas_limit_per_transaction(stack: PilotStack) -> None:
    alice = stack.actors.alice
    engine, wrapped = _engine(stack, alice)
    recipients = _fresh(60, base=0xF4_0000)
    calls = [wrapped.token.transfer(to, 7).data for to in recipients]
    limit = 500_000

    result = engine.multicall(wrapped.token.address, calls, gas_limit=limit)

    assert result.ok and len(result.items) == 60
    assert len(result.transactions) >= 60 * 25_000 // limit  # it had to split
    for outcome in result.transactions:
        assert int(outcome.tx.fields["gas"]) <= limit
        assert outcome.gas_used is not None and outcome.gas_used <= limit
    covered = sorted(i for o in result.transactions for i in o.tx.items)
    assert covered == list(range(60))
    assert all(stack.balance(to) == 7 for to in recipients)


def test_multicall_skips_calls_that_would_revert_and_sends_the_rest(stack: PilotStack) -> None:
    alice, freezer = stack.actors.alice, stack.actors.freezer
    recipients = _fresh(12, base=0xF5_0000)
    stack.token.as_(freezer).freeze(recipients[5], REF).send()
    engine, wrapped = _engine(stack, alice)
    calls = [wrapped.token.transfer(to, 3).data for to in recipients]

    result = engine.multicall(wrapped.token.address, calls)

    (skipped,) = result.by_status(TxStatus.SKIPPED)
    assert skipped.index == 5 and skipped.tx_hash is None
    assert skipped.error is not None and skipped.error.name == "FrozenAccount"
    assert skipped.error.args_by_name["account"] == recipients[5]
    assert len(result.by_status(TxStatus.MINED)) == 11
    assert [stack.balance(to) for to in recipients] == [3] * 5 + [0] + [3] * 6


def test_multicall_batches_a_minters_mints_in_one_transaction(stack: PilotStack) -> None:
    minter = stack.actors.minter
    engine, wrapped = _engine(stack, minter)
    recipients = _fresh(120, base=0xF6_0000)
    calls = [wrapped.token.mint(to, 100 + i, REF).data for i, to in enumerate(recipients)]
    supply = wrapped.token.total_supply()

    result = engine.multicall(wrapped.token.address, calls)

    assert result.ok and len(result.transactions) == 1
    assert [stack.balance(to) for to in recipients] == [100 + i for i in range(120)]
    assert wrapped.token.total_supply() == supply + sum(100 + i for i in range(120))


def test_http_nodes_get_batches_and_other_providers_the_sequential_transport(stack: PilotStack) -> None:
    transport = transport_for(stack.w3)
    expected = HttpTransport if stack.chain.kind == "anvil" else ProviderTransport
    assert isinstance(transport, expected)
    (reply,) = transport.batch([("eth_chainId", [])])
    assert int(reply.result, 16) == stack.chain_id
