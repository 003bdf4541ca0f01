"""What every sender shares: the one EIP-1559 fee rule, the one nonce book, the one signed transaction
(:class:`SignedTx`) and the one set of transaction statuses (:class:`TxStatus`).

The single-operation path (:class:`~pkr_pilot.tx.Sender`), the simulator's runner and the gas
snapshot price their transactions with :func:`fee_fields`; the simulator, the bulk engine and the
gas snapshot number theirs with a :class:`NonceBook`.

>>> fee_fields(100, tip=2)
{'maxFeePerGas': 202, 'maxPriorityFeePerGas': 2}
>>> fee_fields(None, gas_price=7, max_fee_cap=5)
{'gasPrice': 5}
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ChainError

__all__ = ["DEFAULT_PRIORITY_FEE", "NonceBook", "SignedTx", "TxStatus", "fee_fields", "is_already_known"]

#: The tip when the node does not suggest one (1 gwei).
DEFAULT_PRIORITY_FEE = 10**9


def quantity(value: Any) -> int:
    """A JSON-RPC quantity (``0x`` hex text) or an int as an int (decimal text is read as decimal).

    >>> quantity("0x1a"), quantity(26), quantity("26")
    (26, 26, 26)
    """
    return value if isinstance(value, int) else int(str(value), 0)


class TxStatus(enum.StrEnum):
    """What happened to a transaction, or to an item it carries (the bulk engine, the simulator)."""

    MINED = "mined"  #: mined, receipt status 1
    REVERTED = "reverted"  #: mined, receipt status 0 (gas spent, nothing else happened)
    SKIPPED = "skipped"  #: not sent: its simulation reverted (multicall packing)
    REJECTED = "rejected"  #: the node refused the signed transaction
    NOT_SENT = "not_sent"  #: never sent (the line stopped after a rejection)
    PENDING = "pending"  #: sent, not mined within the timeout: it may still be mined
    DROPPED = "dropped"  #: accepted, then never mined (an earlier nonce of its sender was refused)

    @property
    def final(self) -> bool:
        """True when the outcome can no longer change (everything but ``pending``)."""
        return self is not TxStatus.PENDING


@dataclass(frozen=True)
class SignedTx:
    """A signed transaction: its sender, nonce and hash and the raw bytes to send. The bulk engine
    keeps its fields too and the items (request indices) it carries."""

    sender: str
    nonce: int
    tx_hash: str
    raw: bytes
    fields: Mapping[str, Any] = field(default_factory=dict)
    items: tuple[int, ...] = ()

    @property
    def is_filler(self) -> bool:
        """(bulk engine) A zero-value transfer to self that only fills a nonce gap: it carries no item."""
        return not self.items


def fee_fields(
    base_fee: int | None,
    *,
    tip: int = DEFAULT_PRIORITY_FEE,
    gas_price: int | None = None,
    max_fee_cap: int | None = None,
    tip_cap: int | None = None,
) -> dict[str, int]:
    """The fee fields of a transaction: the one fee rule.

    EIP-1559 chains (``base_fee`` known): ``maxFeePerGas = 2 * base fee + tip``, room for the base
    fee to double (six full blocks) before the transaction stops being includable; the tip and the
    maximum are held under the network's caps. A chain without a base fee: ``gasPrice`` (the node's
    ``gas_price``), under the cap.

    Raises:
        ChainError: the cap is below the current base fee (nothing could be included).
    """
    if base_fee is None:
        price = int(gas_price or 0)
        return {"gasPrice": min(price, max_fee_cap) if max_fee_cap is not None else price}
    if tip_cap is not None:
        tip = min(tip, tip_cap)
    max_fee = 2 * int(base_fee) + tip
    if max_fee_cap is not None:
        if max_fee_cap < int(base_fee):
            raise ChainError(
                f"fee cap {max_fee_cap} wei is below the current base fee {int(base_fee)} wei",
                hint="raise max_fee_gwei in the network config, or wait for fees to fall",
            )
        max_fee = min(max_fee, max_fee_cap)
        tip = min(tip, max_fee)
    return {"maxFeePerGas": max_fee, "maxPriorityFeePerGas": tip}


class NonceBook:
    """The next nonce of each sending address: asked of the node once, then counted here.

    ``read(address)`` gives the node's ``pending`` transaction count. :meth:`take` hands out
    consecutive nonces; after a refusal (the nonce was not used) :meth:`forget` the address so the
    next :meth:`take` asks the node again instead of leaving a gap.
    """

    def __init__(self, read: Callable[[str], int]) -> None:
        self._read = read
        self._next: dict[str, int] = {}

    def take(self, address: str, count: int = 1) -> int:
        """The first of ``count`` consecutive nonces for ``address``, now reserved."""
        first = self.peek(address)
        self._next[address] = first + count
        return first

    def peek(self, address: str) -> int:
        """The nonce :meth:`take` would hand out next."""
        if address not in self._next:
            self._next[address] = int(self._read(address))
        return self._next[address]

    def forget(self, *addresses: str) -> None:
        """Ask the node again next time (after a refusal, or when another sender used the address)."""
        for address in addresses:
            self._next.pop(address, None)

    def load(self, counts: Iterable[tuple[str, int]]) -> None:
        """Set many addresses at once (one batched read of their pending counts)."""
        self._next.update((address, int(count)) for address, count in counts)


#: How nodes say "I already hold this very transaction": geth and Besu ("already known"), Nethermind and
#: OpenEthereum ("known transaction", "AlreadyKnown"), anvil ("transaction already imported").
_ALREADY_KNOWN = ("already known", "known transaction", "alreadyknown", "already imported")


def is_already_known(message: str) -> bool:
    """Whether a node's refusal of a raw transaction means it already holds that same transaction.

    >>> is_already_known("transaction already imported"), is_already_known("nonce too low")
    (True, False)
    """
    text = message.lower()
    return any(marker in text or marker in text.replace(" ", "") for marker in _ALREADY_KNOWN)
