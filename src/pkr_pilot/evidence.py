"""Chain evidence of referenced payments: ``PaymentReference`` events found by their indexed ref.

A payment made with ``transferWithReference(to, value, ref)`` (or its strict twin
``transferWithUniqueReference``) leaves two logs in its transaction, one right after the other::

    Transfer(from indexed, to indexed, value)          log i
    PaymentReference(from indexed, ref indexed)        log i + 1

:func:`find_payments` asks the node for the second kind with topic filters (topic1 = the payer, topic2 =
an OR-list of refs, in chunks of refs and of blocks, all in JSON-RPC batches), then reads the payer's
``Transfer`` logs of the same blocks and pairs each reference with the ``Transfer`` just before it in the
same transaction. That pair, buried under the network's confirmations, is the only thing that says
"this row was paid": a receipt that is missing, a nonce that was used or a journal line say nothing.

A node that refuses a range (too many results, too wide) gets it again in halves.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .contracts import event_topic, static_words
from .errors import ChainError
from .sending import quantity

if TYPE_CHECKING:
    from .transport import Transport as RpcTransport

__all__ = [
    "PAYMENT_REFERENCE_TOPIC",
    "TRANSFER_TOPIC",
    "ReferencedPayment",
    "find_payments",
    "payments_in_block",
    "payments_in_logs",
]

TRANSFER_TOPIC = bytes.fromhex("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
#: Refs per OR-list and blocks per ``eth_getLogs`` (most providers accept 10,000 blocks).
REFS_PER_QUERY = 500
BLOCKS_PER_QUERY = 10_000
_CALLS_PER_BATCH = 50


#: keccak256("PaymentReference(address,bytes32)")
PAYMENT_REFERENCE_TOPIC = event_topic("PaymentReference(address,bytes32)")


@dataclass(frozen=True)
class ReferencedPayment:
    """One referenced payment found on chain (``block`` is where its transaction was mined)."""

    ref: bytes
    payer: str
    to: str
    value: int
    tx_hash: str
    block: int
    log_index: int


def payments_in_logs(logs: Iterable[Mapping[str, Any]], token: str, payer: str) -> list[ReferencedPayment]:
    """The referenced payments by ``payer`` among ``logs`` (a receipt's, or ``eth_getLogs`` answers).

    Raises:
        ChainError: a ``PaymentReference`` whose log before it is not the payer's ``Transfer``
            (the node returned a partial transaction: ask again later, or another node).
    """
    by_position: dict[tuple[str, int], Mapping[str, Any]] = {}
    references: list[Mapping[str, Any]] = []
    payer_topic = static_words(payer)
    for log in logs:
        if log.get("removed") or str(log.get("address", "")).lower() != token.lower():
            continue
        topics = [_bytes(t) for t in log.get("topics", [])]
        if len(topics) == 3 and topics[0] == PAYMENT_REFERENCE_TOPIC and topics[1] == payer_topic:
            references.append(log)
        elif len(topics) == 3 and topics[0] == TRANSFER_TOPIC and topics[1] == payer_topic:
            by_position[(str(log["transactionHash"]).lower(), quantity(log["logIndex"]))] = log
    out: list[ReferencedPayment] = []
    for log in references:
        tx_hash = str(log["transactionHash"]).lower()
        index = quantity(log["logIndex"])
        transfer = by_position.get((tx_hash, index - 1))
        if transfer is None:
            raise ChainError(
                f"PaymentReference log {index} of {tx_hash} has no Transfer from {payer} right before it",
                hint="the node answered with part of a transaction; run again (or against another node)",
            )
        out.append(
            ReferencedPayment(
                ref=_bytes(log["topics"][2]),
                payer=payer,
                to=_checksum("0x" + _bytes(transfer["topics"][2])[12:].hex()),
                value=quantity(transfer.get("data") or "0x0"),
                tx_hash=tx_hash,
                block=quantity(log["blockNumber"]),
                log_index=index,
            )
        )
    return out


def find_payments(
    transport: RpcTransport,
    token: str,
    payer: str,
    refs: Sequence[bytes],
    *,
    from_block: int,
    to_block: int,
    refs_per_query: int = REFS_PER_QUERY,
    blocks_per_query: int = BLOCKS_PER_QUERY,
    scanned: Callable[[int], None] | None = None,
) -> dict[bytes, list[ReferencedPayment]]:
    """Every payment by ``payer`` on ``token`` carrying one of ``refs``, in ``[from_block, to_block]``.

    Returns ref -> the payments found with it, oldest first (more than one: it was paid more than once).
    ``scanned`` hears how many blocks of the range were searched so far (for a progress line).
    """
    wanted = list(dict.fromkeys(refs))
    if not wanted or to_block < from_block:
        return {}
    payer_topic = "0x" + static_words(payer).hex()
    queries: list[dict[str, Any]] = []
    for start in range(from_block, to_block + 1, blocks_per_query):
        end = min(to_block, start + blocks_per_query - 1)
        for i in range(0, len(wanted), refs_per_query):
            chunk = ["0x" + r.hex() for r in wanted[i : i + refs_per_query]]
            queries.append(
                {"address": token, "fromBlock": hex(start), "toBlock": hex(end),
                 "topics": ["0x" + PAYMENT_REFERENCE_TOPIC.hex(), payer_topic, chunk]}
            )
    done = None if scanned is None else (lambda query: scanned(int(query["toBlock"], 16) - from_block + 1))
    references = _get_logs(transport, queries, done=done)
    if not references:
        return {}
    blocks = sorted({quantity(log["blockNumber"]) for log in references})
    transfers = _get_logs(
        transport,
        [
            {"address": token, "fromBlock": hex(first), "toBlock": hex(last),
             "topics": ["0x" + TRANSFER_TOPIC.hex(), payer_topic]}
            for first, last in _runs(blocks, blocks_per_query)
        ],
    )
    found: dict[bytes, list[ReferencedPayment]] = {}
    for payment in payments_in_logs([*transfers, *references], token, payer):
        found.setdefault(payment.ref, []).append(payment)
    for payments in found.values():
        payments.sort(key=lambda p: (p.block, p.log_index))
    return found


def payments_in_block(transport: RpcTransport, token: str, payer: str, block: int) -> list[ReferencedPayment]:
    """The referenced payments by ``payer`` mined in ``block``: its ``Transfer`` and ``PaymentReference``
    logs of that block, read as logs (a node may serve the logs of a block and not its receipts)."""
    topics = [["0x" + TRANSFER_TOPIC.hex(), "0x" + PAYMENT_REFERENCE_TOPIC.hex()], "0x" + static_words(payer).hex()]
    query = {"address": token, "fromBlock": hex(block), "toBlock": hex(block), "topics": topics}
    return payments_in_logs(_get_logs(transport, [query]), token, payer)


def _get_logs(
    transport: RpcTransport,
    queries: Sequence[dict[str, Any]],
    depth: int = 0,
    *,
    done: Callable[[Mapping[str, Any]], None] | None = None,
) -> list[Mapping[str, Any]]:
    """``eth_getLogs`` for every query, batched; a refused block range is asked again in halves.

    ``done`` hears the last query of each answered batch."""
    out: list[Mapping[str, Any]] = []
    for i in range(0, len(queries), _CALLS_PER_BATCH):
        chunk = queries[i : i + _CALLS_PER_BATCH]
        replies = transport.batch([("eth_getLogs", [q]) for q in chunk])
        for query, reply in zip(chunk, replies, strict=True):
            if reply.error is None and isinstance(reply.result, list):
                out.extend(reply.result)
                continue
            first, last = int(query["fromBlock"], 16), int(query["toBlock"], 16)
            if last <= first or depth >= 24:
                raise ChainError(f"eth_getLogs for blocks {first}..{last} failed: {reply.message}",
                                 hint="check the node (or its log limits) and run again")
            middle = (first + last) // 2
            halves = [{**query, "toBlock": hex(middle)}, {**query, "fromBlock": hex(middle + 1)}]
            out.extend(_get_logs(transport, halves, depth + 1))
        if done is not None:
            done(chunk[-1])
    return out


def _runs(blocks: Sequence[int], width: int) -> list[tuple[int, int]]:
    """Sorted block numbers as a few ranges, each at most ``width`` blocks wide."""
    runs: list[tuple[int, int]] = []
    for block in blocks:
        if runs and block - runs[-1][0] < width:
            runs[-1] = (runs[-1][0], block)
        else:
            runs.append((block, block))
    return runs


@functools.lru_cache(maxsize=1 << 16)
def _checksum(address: str) -> str:
    from eth_utils.address import to_checksum_address

    return str(to_checksum_address(address))


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return bytes.fromhex(str(value)[2:])


