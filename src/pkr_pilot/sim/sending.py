"""Sending a step's plain transactions: pre-signed, JSON-RPC batches, block by block.

On a node whose mining we control (anvil), automine is switched off while a batch is submitted and
one block is mined per chunk, so the blocks of a run hold the same transactions in the same order
every time (anvil orders a block's pending transactions deterministically), which makes a seeded run
reproducible down to block numbers and log indices. On any other node the batch is submitted and the
receipts are polled.

Every transaction carries an explicit gas limit, so one that reverts is mined with status 0 (an
expected failure in a scenario is a real, visible transaction).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ChainError, TransactionTimeout

if TYPE_CHECKING:
    from ..chain import Chain

__all__ = ["BlockSender", "Mined", "SignedTx", "batch_rpc"]


@dataclass(frozen=True)
class SignedTx:
    """A signed transaction and what the run needs to account for it."""

    sender: str
    nonce: int
    raw: bytes
    tx_hash: str


@dataclass(frozen=True)
class Mined:
    """What happened to one :class:`SignedTx`."""

    tx_hash: str
    #: ``ok``, ``reverted`` (mined, status 0), ``rejected`` (the node refused it) or ``dropped``.
    status: str
    block: int | None = None
    gas_used: int = 0
    error: str | None = None


def batch_rpc(w3: Any, requests: Sequence[tuple[str, Sequence[Any]]]) -> list[Mapping[str, Any]]:
    """Answers to ``requests`` in order: one JSON-RPC batch, or one call at a time without batching."""
    if not requests:
        return []
    provider = w3.provider
    try:
        responses = provider.make_batch_request([(m, list(p)) for m, p in requests])
    except NotImplementedError:
        return [provider.make_request(m, list(p)) for m, p in requests]
    except OSError as exc:
        raise ChainError(f"a batch of {len(requests)} requests failed: {exc}") from None
    if not isinstance(responses, list) or len(responses) != len(requests):
        raise ChainError(f"the node refused a batch of {len(requests)} requests: {_message(responses)}")
    return list(responses)


class BlockSender:
    """Submits signed transactions in batches and reports each one's fate (see the module docstring)."""

    def __init__(
        self,
        chain: Chain,
        *,
        controlled: bool,
        per_block: int = 200,
        timeout: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.chain = chain
        self.controlled = controlled
        self.per_block = per_block
        self.timeout = timeout
        self._sleep = sleep

    def send(self, txs: Sequence[SignedTx]) -> list[Mined]:
        """Submit ``txs`` (in order) and wait until each is mined, rejected or dropped."""
        if not txs:
            return []
        rejected: dict[str, str] = {}
        if self.controlled:
            self.chain.rpc("evm_setAutomine", False)
            try:
                for start in range(0, len(txs), self.per_block):
                    chunk = txs[start : start + self.per_block]
                    rejected.update(self._submit(chunk))
                    self.chain.mine(1)
                receipts = self._receipts([t.tx_hash for t in txs if t.tx_hash not in rejected])
                for _ in range(3):  # a chunk larger than one block's gas: mine the rest
                    if all(r is not None for r in receipts.values()):
                        break
                    self.chain.mine(1)
                    receipts = self._receipts(list(receipts))
                for tx_hash, receipt in receipts.items():
                    if receipt is None:  # stuck behind a refused nonce: take it out of the pool
                        self.chain.rpc("anvil_dropTransaction", tx_hash)
            finally:
                self.chain.rpc("evm_setAutomine", True)
        else:
            for start in range(0, len(txs), self.per_block):
                rejected.update(self._submit(txs[start : start + self.per_block]))
            receipts = self._wait([t.tx_hash for t in txs if t.tx_hash not in rejected])
        out: list[Mined] = []
        for tx in txs:
            if tx.tx_hash in rejected:
                out.append(Mined(tx.tx_hash, "rejected", error=rejected[tx.tx_hash]))
                continue
            receipt = receipts.get(tx.tx_hash)
            if receipt is None:
                out.append(Mined(tx.tx_hash, "dropped", error="not mined (an earlier nonce was refused)"))
                continue
            status = "ok" if int(receipt["status"], 16) == 1 else "reverted"
            out.append(Mined(tx.tx_hash, status, int(receipt["blockNumber"], 16), int(receipt["gasUsed"], 16)))
        return out

    # ------------------------------------------------------------------ internals
    def _submit(self, chunk: Sequence[SignedTx]) -> dict[str, str]:
        responses = batch_rpc(self.chain.w3, [("eth_sendRawTransaction", ["0x" + t.raw.hex()]) for t in chunk])
        refused: dict[str, str] = {}
        for tx, response in zip(chunk, responses, strict=True):
            if "error" in response:
                refused[tx.tx_hash] = _message(response)
        return refused

    def _receipts(self, hashes: Sequence[str]) -> dict[str, Mapping[str, Any] | None]:
        out: dict[str, Mapping[str, Any] | None] = {}
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            responses = batch_rpc(self.chain.w3, [("eth_getTransactionReceipt", [h]) for h in chunk])
            for tx_hash, response in zip(chunk, responses, strict=True):
                if "error" in response:
                    raise ChainError(f"reading the receipt of {tx_hash} failed: {_message(response)}")
                out[tx_hash] = response.get("result")
        return out

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
            self._sleep(0.2)
        return found


def _message(response: Any) -> str:
    if isinstance(response, Mapping):
        error = response.get("error")
        if isinstance(error, Mapping):
            return str(error.get("message", error))
        if error is not None:
            return str(error)
    return "unexpected answer"
