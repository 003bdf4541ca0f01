"""Sending a step's plain transactions: pre-signed, JSON-RPC batches, block by block.

On a node whose mining we control (anvil), automine is switched off while a batch is submitted and
one block is mined per chunk, so the blocks of a run hold the same transactions in the same order
every time (anvil orders a block's pending transactions deterministically), which makes a seeded run
reproducible down to block numbers and log indices. On any other node the batch is submitted and the
receipts are polled.

The JSON-RPC batches go through the bulk engine's transport (:func:`pkr_pilot.transport.transport_for`:
one keep-alive HTTP session, arrays of calls; one call at a time where a provider cannot batch). The
bulk engine's own sender is made for many transactions from *one* account and waits for receipts
while the node mines; a step's payments come from many wallets and must land in planned blocks, which
is what this module adds on top of the transport.

Every transaction carries an explicit gas limit, so one that reverts is mined with status 0 (an
expected failure in a scenario is a real, visible transaction).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING, Any

from ..contracts import static_words
from ..errors import TransactionTimeout
from ..sending import SignedTx, TxStatus
from ..transport import call_all

if TYPE_CHECKING:
    from ..chain import Chain
    from ..transport import RpcReply, Transport

__all__ = ["BlockSender", "Calldata", "Mined", "blocks_by_gas"]


def blocks_by_gas(gas: Sequence[int], block_gas_limit: int) -> list[range]:
    """``gas`` (each transaction's gas limit, in sending order) cut into runs that fit one block each,
    a tenth of the block left to spare (a node fills a block by the transactions' gas limits); a
    transaction larger than that still gets a block of its own."""
    usable = block_gas_limit * 9 // 10
    runs: list[range] = []
    start = total = 0
    for index, each in enumerate(gas):
        if index > start and total + each > usable:
            runs.append(range(start, index))
            start, total = index, 0
        total += each
    if start < len(gas):
        runs.append(range(start, len(gas)))
    return runs


@dataclass(frozen=True)
class Mined:
    """What happened to one :class:`SignedTx`."""

    tx_hash: str
    #: ``mined``, ``reverted`` (mined, status 0), ``rejected`` (the node refused it) or ``dropped``.
    status: TxStatus
    block: int | None = None
    error: str | None = None


class Calldata:
    """The token calls the simulator sends by the thousand, ABI-encoded by hand.

    ``transfer(address,uint256)`` and the one-address views (``balanceOf``, ``frozenBalanceOf``,
    ``isFrozen``) are a selector and 32-byte words; encoding them through the contract handle costs
    about 0.4 ms each (most of a 100,000-wallet report). Each shape is compared once with the
    handle's own encoding, and a difference raises before anything is sent.
    """

    def __init__(self, token: Any) -> None:
        self.token = token
        self._selectors: dict[str, bytes] = {}

    def transfer(self, to: str, amount: int) -> bytes:
        return self._encoded("transfer", to, amount)

    def view(self, function: str, account: str) -> bytes:
        return self._encoded(function, account)

    def _encoded(self, function: str, *args: Any) -> bytes:
        selector = self._selectors.get(function)
        words = static_words(*args)
        if selector is None:
            reference = bytes(self.token.build(function, *args).data)
            selector = reference[:4]
            if selector + words != reference:
                raise RuntimeError(f"hand-encoded {function} differs from the ABI encoding; refusing to send")
            self._selectors[function] = selector
        return selector + words


#: Transactions to one JSON-RPC batch on a node that mines by itself.
_SUBMIT_BATCH = 500


def _gas(tx: SignedTx) -> int:
    gas = tx.fields.get("gas")
    if gas is None:
        raise ValueError(f"transaction {tx.tx_hash} carries no gas limit in its fields")
    return int(gas)


@dataclass
class BlockSender:
    """Submits signed transactions in batches and reports each one's fate (see the module docstring)."""

    chain: Chain
    transport: Transport
    _: KW_ONLY
    controlled: bool
    #: The node's block gas limit: a controlled node gets as many transactions to a block as it takes
    #: by their gas limits (each :class:`SignedTx` carries its ``gas`` in ``fields``).
    block_gas_limit: int = 30_000_000
    timeout: float = 120.0
    sleep: Callable[[float], None] = time.sleep

    def send(self, txs: Sequence[SignedTx]) -> list[Mined]:
        """Submit ``txs`` (in order) and wait until each is mined, rejected or dropped."""
        if not txs:
            return []
        rejected: dict[str, str] = {}
        if self.controlled:
            self.chain.rpc("evm_setAutomine", False)
            try:
                blocks: list[int] = []
                for run in blocks_by_gas([_gas(t) for t in txs], self.block_gas_limit):
                    rejected.update(self._submit(txs[run.start : run.stop]))
                    self.chain.mine(1)
                    blocks.append(self._head())
                wanted = [t.tx_hash for t in txs if t.tx_hash not in rejected]
                receipts = self._in_blocks(blocks, wanted)
                for _ in range(3):  # a chunk larger than one block's gas: mine the rest
                    if all(r is not None for r in receipts.values()):
                        break
                    self.chain.mine(1)
                    late = self._in_blocks([self._head()], [h for h, r in receipts.items() if r is None])
                    receipts.update({h: r for h, r in late.items() if r is not None})
                stuck = {t.sender: None for t in txs if t.tx_hash in receipts and receipts[t.tx_hash] is None}
                for sender in stuck:
                    # Behind a refused nonce: out of the pool, or it would be mined by surprise once the
                    # gap fills (anvil_dropTransaction leaves a queued transaction where it is).
                    self.chain.rpc("anvil_removePoolTransactions", sender)
            finally:
                self.chain.rpc("evm_setAutomine", True)
        else:
            for start in range(0, len(txs), _SUBMIT_BATCH):
                rejected.update(self._submit(txs[start : start + _SUBMIT_BATCH]))
            receipts = self._wait([t.tx_hash for t in txs if t.tx_hash not in rejected])
        out: list[Mined] = []
        for tx in txs:
            if tx.tx_hash in rejected:
                out.append(Mined(tx.tx_hash, TxStatus.REJECTED, error=rejected[tx.tx_hash]))
                continue
            receipt = receipts.get(tx.tx_hash)
            if receipt is None:
                out.append(Mined(tx.tx_hash, TxStatus.DROPPED, error="not mined (an earlier nonce was refused)"))
                continue
            status = TxStatus.MINED if int(receipt["status"], 16) == 1 else TxStatus.REVERTED
            out.append(Mined(tx.tx_hash, status, int(receipt["blockNumber"], 16)))
        return out

    # ------------------------------------------------------------------ internals
    def _submit(self, chunk: Sequence[SignedTx]) -> dict[str, str]:
        replies: list[RpcReply] = self.transport.batch(
            [("eth_sendRawTransaction", ["0x" + t.raw.hex()]) for t in chunk]
        )
        return {tx.tx_hash: reply.message for tx, reply in zip(chunk, replies, strict=True) if reply.error is not None}

    def _head(self) -> int:
        return int(call_all(self.transport, [("eth_blockNumber", [])], what="reading the head")[0], 16)

    def _in_blocks(self, blocks: Sequence[int], hashes: Sequence[str]) -> dict[str, Mapping[str, Any] | None]:
        """The outcome of ``hashes`` in ``blocks`` (None: not in them), as ``{status, blockNumber}``.

        Which transactions a block holds is in the block; a transaction that emitted a log succeeded
        (a reverted one leaves none), so only the few without a log are asked for their receipt.
        Receipts are not fetched per block: anvil builds each one by walking its block
        (``eth_getBlockReceipts`` on 2,000 transfers took 0.6 s against 4 ms for the block and its
        logs), so a large block's receipts cost the square of its size.
        """
        calls: list[tuple[str, Sequence[Any]]] = [("eth_getBlockByNumber", [hex(b), False]) for b in blocks]
        calls += [("eth_getLogs", [{"fromBlock": hex(b), "toBlock": hex(b)}]) for b in blocks]
        replies = call_all(self.transport, calls, what="reading the mined blocks")
        block_of: dict[str, int] = {}
        unseen = False  # a block the node does not show (yet): its transactions are asked one by one
        for block in replies[: len(blocks)]:
            if block is None:
                unseen = True
                continue
            block_of.update({str(h).lower(): int(block["number"], 16) for h in block["transactions"]})
        logged = {str(log["transactionHash"]).lower() for logs in replies[len(blocks) :] for log in logs or ()}
        out: dict[str, Mapping[str, Any] | None] = {}
        ask: list[str] = []
        for tx_hash in hashes:
            mined_in = block_of.get(tx_hash.lower())
            if mined_in is None and unseen:
                ask.append(tx_hash)
            elif mined_in is None:
                out[tx_hash] = None
            elif tx_hash.lower() in logged:
                out[tx_hash] = {"status": "0x1", "blockNumber": hex(mined_in)}
            else:
                ask.append(tx_hash)  # reverted, or succeeded without a log: its receipt says which
        out.update(self._receipts(ask))
        return out

    def _receipts(self, hashes: Sequence[str]) -> dict[str, Mapping[str, Any] | None]:
        results = call_all(self.transport, [("eth_getTransactionReceipt", [h]) for h in hashes], what="receipts")
        return dict(zip(hashes, results, strict=True))

    def _wait(self, hashes: Sequence[str]) -> dict[str, Mapping[str, Any] | None]:
        deadline = time.monotonic() + self.timeout
        pending = list(hashes)
        found: dict[str, Mapping[str, Any] | None] = {}
        while pending:
            receipts = self._receipts(pending)
            for tx_hash, receipt in receipts.items():
                if receipt is not None:
                    found[tx_hash] = receipt
            pending = [h for h in pending if h not in found]
            if not pending:
                break
            if time.monotonic() > deadline:
                raise TransactionTimeout(pending[0], self.timeout)
            self.sleep(0.2)
        return found

