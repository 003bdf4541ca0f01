"""The one way pkr-pilot sends a transaction: simulate, sign, send, wait, decode.

:class:`Sender` wraps an explicit ``Web3`` and a signer. It

* simulates with ``eth_call`` first and raises the decoded custom error
  (:class:`~pkr_pilot.errors.ContractRevert`) before anything is signed;
* prices with EIP-1559 fees capped by the network's ``max_fee_gwei`` /
  ``max_priority_fee_gwei`` (legacy ``gasPrice`` only where the node has no base fee);
* takes the ``pending`` nonce and retries once when another operator's
  transaction took it;
* waits for the configured confirmations with a timeout that says what to do,
  notices a dropped transaction, and raises :class:`~pkr_pilot.errors.TransactionFailed`
  (decoded by replaying the call) when a receipt has status 0;
* fills a nonce gap: a transaction that waits in the pool behind a nonce the chain has not
  mined and no pooled transaction holds (a node answered a ``pending`` count one too high; the
  node's own ``pending`` count, which stops at the gap, says so) gets the free nonces below it filled with empty transfers to self (:meth:`Sender.fill_gap`), so it is
  mined once and nothing is signed twice;
* never calls a submission whose answer was lost "refused": the signed hash is known locally,
  so it is looked up; unknown, the send is undecided (:class:`~pkr_pilot.errors.SendUndecided`);
* can replace a stuck transaction with the same nonce and higher fees.

Deployments, operator actions, the simulator and the tests all go through it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .decode import ErrorDecoder, revert_data_from_exception
from .errors import (
    ChainError,
    ContractRevert,
    MinedUnseen,
    PilotError,
    SendUndecided,
    TransactionFailed,
    TransactionTimeout,
)
from .progress import eta_text
from .sending import is_already_known

if TYPE_CHECKING:
    from eth_account.datastructures import SignedTransaction
    from web3 import Web3
    from web3.types import TxReceipt

    from .config import NetworkConfig

__all__ = [
    "ChainAccount",
    "GapWatch",
    "JournalingSigner",
    "Sender",
    "Sent",
    "Simulation",
    "TransactionDropped",
    "TxPolicy",
    "TxSigner",
    "node_knows",
    "receipt_of",
]

#: Minimum fee bump a node accepts for a same-nonce replacement is 10 %; use more.
REPLACEMENT_BUMP_PERCENT = 15

#: A transaction waiting behind a free nonce for this share of the policy's timeout (at most
#: GAP_GRACE_MAX seconds) is behind a gap, not behind a slow predecessor: the gap is filled.
GAP_GRACE_SHARE = 0.25
GAP_GRACE_MAX = 30.0

#: Gas of an empty transfer to self (a nonce filler).
FILLER_GAS = 21_000

#: While waiting for a transaction to be mined, the time left is said again this often (seconds).
WAIT_REPORT_SECONDS = 10.0
#: Looks in a row at which the node shows neither a sent transaction nor its receipt before it is
#: called dropped (its nonce free) or undecided (its nonce used).
UNSEEN_LOOKS = 3


class TransactionDropped(ChainError):
    """The node no longer knows a transaction we sent and its nonce is still free."""

    def __init__(self, tx_hash: str) -> None:
        self.tx_hash = tx_hash
        super().__init__(
            f"transaction {tx_hash} was dropped by the node",
            hint="re-run the same command: it resends with the same idempotency key",
        )


class TxSigner(Protocol):
    """What :class:`Sender` needs from an account: an address and a signature."""

    @property
    def address(self) -> str: ...

    def sign_transaction(self, tx: Mapping[str, Any]) -> SignedTransaction: ...


def receipt_of(w3: Web3, tx_hash: str) -> TxReceipt | None:
    """The receipt of ``tx_hash``, or None while the node shows none (pending, dropped or unknown:
    a missing receipt proves nothing by itself)."""
    from web3.exceptions import TransactionNotFound

    try:
        return w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    except TransactionNotFound:
        return None


def node_knows(w3: Web3, tx_hash: str) -> bool:
    """The node shows ``tx_hash``, pending or mined."""
    from web3.exceptions import TransactionNotFound

    try:
        w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    except TransactionNotFound:
        return False
    return True


class JournalingSigner:
    """A :class:`TxSigner` that records each signature before the transaction can reach a node.

    The write-ahead hook of the exactly-once journals (operator actions, deploy steps):
    ``record(tx_hash, tx)`` runs between signing and :class:`Sender`'s submission, so a crash or a
    lost answer after it leaves a hash for the next run to look up on chain. ``signed`` lists the
    hashes signed so far (an interrupt after the first one may leave a live transaction).
    """

    def __init__(self, inner: TxSigner, record: Callable[[str, Mapping[str, Any]], None]) -> None:
        self._inner = inner
        self._record = record
        self.signed: list[str] = []

    @property
    def address(self) -> str:
        return str(self._inner.address)

    def sign_transaction(self, tx: Mapping[str, Any]) -> SignedTransaction:
        signed = self._inner.sign_transaction(tx)
        tx_hash = "0x" + bytes(signed.hash).hex()
        self._record(tx_hash, tx)
        self.signed.append(tx_hash)
        return signed


@dataclass(frozen=True)
class TxPolicy:
    """How to price and wait; built from a :class:`NetworkConfig`."""

    confirmations: int = 1
    timeout: float = 120.0
    poll_interval: float = 0.05
    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    #: Gas limit = estimate * (100 + margin) / 100.
    gas_margin_percent: int = 20

    @classmethod
    def from_network(cls, network: NetworkConfig) -> TxPolicy:
        return cls(
            confirmations=max(1, network.confirmations),
            timeout=network.timeout,
            max_fee_per_gas=network.max_fee_per_gas,
            max_priority_fee_per_gas=network.max_priority_fee_per_gas,
        )


@dataclass(frozen=True)
class Simulation:
    """Outcome of a dry run: the return data and gas estimate."""

    result: bytes
    gas: int


@dataclass(frozen=True)
class Sent:
    """A signed transaction the node accepted (enough to wait for or replace it)."""

    tx_hash: str
    nonce: int
    sender: str
    tx: Mapping[str, Any]


class ChainAccount:
    """One signer on one chain, what every sender starts from: the ``Web3``, the signer, the error
    decoder, the network's policy, its address, the chain id (read once) and the fee rule's fees.
    :class:`Sender` (one operation) and :class:`~pkr_pilot.bulk.BulkSender` (thousands) build on it."""

    def __init__(
        self,
        w3: Web3,
        signer: TxSigner,
        *,
        decoder: ErrorDecoder | None = None,
        policy: TxPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        chain_id: int | None = None,
    ) -> None:
        self.w3 = w3
        self.signer = signer
        self.decoder = decoder or ErrorDecoder([])
        self.policy = policy or TxPolicy()
        self._sleep = sleep
        self._clock = clock
        #: Given by a caller that already knows it (a sender built from another), else read once.
        self._chain_id: int | None = chain_id

    @property
    def address(self) -> str:
        return self.signer.address

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    def fees(self) -> dict[str, int]:
        """EIP-1559 fees within the policy's caps; legacy gasPrice if no base fee."""
        from .sending import DEFAULT_PRIORITY_FEE, fee_fields

        base = self.w3.eth.get_block("latest").get("baseFeePerGas")
        cap, tip_cap = self.policy.max_fee_per_gas, self.policy.max_priority_fee_per_gas
        if base is None:
            return fee_fields(None, gas_price=int(self.w3.eth.gas_price), max_fee_cap=cap, tip_cap=tip_cap)
        try:
            tip = int(self.w3.eth.max_priority_fee)
        except Exception:  # nodes without eth_maxPriorityFeePerGas
            tip = DEFAULT_PRIORITY_FEE
        return fee_fields(int(base), tip=tip, max_fee_cap=cap, tip_cap=tip_cap)


class Sender(ChainAccount):
    """Simulate, sign, send and wait for transactions from one account."""

    # -- reading -----------------------------------------------------------

    def call(self, tx: Mapping[str, Any], *, action: str | None = None, block: Any = "latest") -> bytes:
        """``eth_call`` from this account; a revert raises the decoded error."""
        params = {"from": self.address, **tx}
        try:
            return bytes(self.w3.eth.call(params, block))  # type: ignore[arg-type]
        except Exception as exc:
            raise self._translate(exc, action) from None

    def simulate(self, tx: Mapping[str, Any], *, action: str | None = None) -> Simulation:
        """Dry-run ``tx``: its return data and gas estimate, or the decoded revert."""
        result = self.call(tx, action=action)
        params = {"from": self.address, **tx}
        try:
            gas = int(self.w3.eth.estimate_gas(params))  # type: ignore[arg-type]
        except Exception as exc:
            raise self._translate(exc, action) from None
        return Simulation(result=result, gas=gas)

    # -- sending -----------------------------------------------------------
    def transact(self, tx: Mapping[str, Any], *, action: str | None = None) -> TxReceipt:
        """Simulate, then send and wait; the receipt of a successful transaction."""
        sim = self.simulate(tx, action=action)
        sent = self.send(tx, gas=self._with_margin(sim.gas))
        return self.wait(sent, action=action)

    def send(self, tx: Mapping[str, Any], *, gas: int | None = None, nonce: int | None = None) -> Sent:
        """Price, sign and submit ``tx``; retries once if the pending nonce moved."""
        for attempt in (1, 2):
            full = self.build(tx, gas=gas, nonce=nonce)
            try:
                return self._submit(full)
            except _NonceTaken:
                if nonce is not None or attempt == 2:
                    raise ChainError(
                        f"nonce {full['nonce']} of {self.address} is taken by another transaction",
                        hint="another operator uses this account; wait for its transaction or use --replace",
                    ) from None
        raise AssertionError("unreachable")

    def build(self, tx: Mapping[str, Any], *, gas: int | None = None, nonce: int | None = None) -> dict[str, Any]:
        """Complete ``tx`` with chain id, nonce, gas and fees (EIP-1559 when available)."""
        full: dict[str, Any] = {"from": self.address, "value": 0, **tx, "chainId": self.chain_id}
        full["nonce"] = nonce if nonce is not None else int(
            self.w3.eth.get_transaction_count(self.address, "pending")  # type: ignore[arg-type]
        )
        if gas is None and "gas" not in full:
            gas = self._with_margin(self.simulate(tx).gas)
        if gas is not None:
            full["gas"] = gas
        if "maxFeePerGas" not in full and "gasPrice" not in full:
            full.update(self.fees())
        return full

    def replace(self, sent: Sent, *, bump_percent: int = REPLACEMENT_BUMP_PERCENT) -> Sent:
        """Resend ``sent`` with the same nonce and fees raised by ``bump_percent``."""
        tx = dict(sent.tx)
        fresh = self.fees()
        for key in ("maxFeePerGas", "maxPriorityFeePerGas", "gasPrice"):
            if key in tx:
                bumped = int(tx[key]) * (100 + bump_percent) // 100 + 1
                tx[key] = max(bumped, fresh.get(key, 0))
        cap = self.policy.max_fee_per_gas
        if cap is not None and int(tx.get("maxFeePerGas", tx.get("gasPrice", 0))) > cap:
            raise ChainError(
                f"replacing {sent.tx_hash} needs a fee above the cap of {cap} wei",
                hint="raise max_fee_gwei in the network config",
            )
        if "maxPriorityFeePerGas" in tx:
            tx["maxPriorityFeePerGas"] = min(tx["maxPriorityFeePerGas"], tx["maxFeePerGas"])
        return self._submit(tx)

    def gap_below(self, sent: Sent) -> bool:
        """Whether ``sent`` (held by the node) waits behind a gap: the node's count of executable
        transactions (``pending``: mined plus the unbroken run of pooled ones) stops below its nonce."""
        return self._pending_count(sent.sender) <= sent.nonce

    def gap_grace(self) -> float:
        """How long a transaction may wait behind a gap before the gap is filled."""
        return min(self.policy.timeout * GAP_GRACE_SHARE, GAP_GRACE_MAX)

    def fill_gap(
        self, nonce: int, *, fees: Mapping[str, Any] | None = None, notice: Callable[[str], None] | None = None
    ) -> list[Sent]:
        """Fill the free nonces below ``nonce`` with empty transfers to self, one at a time, each waited for.

        The chain decides which nonce is free: the node's ``pending`` count is the first nonce neither
        mined nor held by an executable pooled transaction. Filling it makes any pooled transaction
        above it executable, so the count is read again before the next one; a nonce the node turns
        out to hold (refused: taken) is no gap and ends the filling. ``fees`` (the waiting
        transaction's fee fields) price the fillers. Returns the fillers sent.
        """
        price = {k: v for k, v in (fees or {}).items() if k in ("maxFeePerGas", "maxPriorityFeePerGas", "gasPrice")}
        fillers: list[Sent] = []
        free = self._pending_count(self.address)
        while free < nonce:
            if notice is not None:
                notice(f"nonce {free} of {self.address} is free while nonce {nonce} waits behind it: "
                       "sending an empty transfer to self to fill it")
            try:
                filler = self._submit(self.build({"to": self.address, "value": 0, **price}, gas=FILLER_GAS, nonce=free))
            except _NonceTaken:
                break  # a transaction the node holds (or has mined meanwhile) uses it: not a gap
            self.wait(filler)
            fillers.append(filler)
            filled, free = free, self._pending_count(self.address)
            if free <= filled:
                break  # the node's count did not move past the filler: stop rather than guess
        return fillers

    def wait(
        self, sent: Sent | str | Sequence[Sent], *, action: str | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> TxReceipt:
        """Wait for the receipt and the policy's confirmations; decode a failure.

        ``sent`` may be a transaction and its same-nonce replacements: the one mined counts. One the
        node no longer shows, nor its receipt, :data:`UNSEEN_LOOKS` looks in a row, was dropped
        while its nonce is free (:class:`TransactionDropped`: sending again is safe) and is undecided
        once the nonce is used (:class:`~pkr_pilot.errors.MinedUnseen`: it or another transaction
        with that nonce was mined, and sending again could do it twice). A bare hash is waited for
        until the timeout. ``progress`` hears the time left every :data:`WAIT_REPORT_SECONDS` and
        about a nonce gap filled below it.
        """
        group = [sent] if isinstance(sent, Sent) else [] if isinstance(sent, str) else list(sent)
        hashes = [sent] if isinstance(sent, str) else [s.tx_hash for s in group]
        tx_hash = hashes[-1]
        try:
            return self._wait(group, hashes, action, progress)
        except PilotError:  # ours (ChainError is a ConnectionError, hence an OSError)
            raise
        except OSError as exc:  # requests' and the builtin connection errors
            raise _lost_node(tx_hash, exc) from None
        except Exception as exc:
            from web3.exceptions import ProviderConnectionError

            if isinstance(exc, ProviderConnectionError):
                raise _lost_node(tx_hash, exc) from None
            raise

    def _wait(
        self, group: Sequence[Sent], hashes: Sequence[str], action: str | None, progress: Callable[[str], None] | None
    ) -> TxReceipt:
        deadline = self._clock() + self.policy.timeout
        misses = 0
        told_at: float | None = None
        mined_said = False
        gap = GapWatch(self, notice=progress)
        while True:
            mined = next(((h, r) for h in reversed(hashes) if (r := receipt_of(self.w3, h)) is not None), None)
            if mined is not None:
                tx_hash, receipt = mined
                head = int(self.w3.eth.block_number)
                if head - int(receipt["blockNumber"]) + 1 >= self.policy.confirmations:
                    if int(receipt["status"]) != 1:
                        raise self._failure(tx_hash, receipt, action)
                    return receipt
                if progress is not None and not mined_said:
                    progress(f"{tx_hash} mined, waiting for {self.policy.confirmations} confirmations")
                    mined_said = True
            else:
                now = self._clock()
                if progress is not None and (told_at is None or now - told_at >= WAIT_REPORT_SECONDS):
                    left = eta_text(max(0.0, deadline - now))
                    progress(f"waiting for {hashes[-1]} to be mined ({left} left of {self.policy.timeout:g} s)")
                    told_at = now
                if group:
                    known = any(node_knows(self.w3, s.tx_hash) for s in group)
                    misses = 0 if known else misses + 1
                    if misses >= UNSEEN_LOOKS:
                        last = group[-1]
                        if self.mined_count(last.sender) > last.nonce:
                            raise MinedUnseen(last.tx_hash, last.nonce)
                        raise TransactionDropped(last.tx_hash)
                    if known:  # pending: behind a nonce nothing mined (a gap)? filled once it lasts
                        gap.check(group[-1])
            if self._clock() > deadline:
                raise TransactionTimeout(hashes[-1], self.policy.timeout)
            self._sleep(self.policy.poll_interval)

    # -- internals -----------------------------------------------------------
    def _submit(self, full: Mapping[str, Any]) -> Sent:
        signable = {k: v for k, v in full.items() if k != "from"}
        signed = self.signer.sign_transaction(signable)
        try:
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        except Exception as exc:
            if _answer_lost(exc):  # the node may hold it: follow it by its hash, never call it refused
                return self._follow_lost(full, signed.hash, exc)
            text = str(exc).lower()
            if "nonce too low" in text or is_already_known(text) or "replacement transaction underpriced" in text:
                ours = self._known(signed.hash)
                if ours is not None:  # this very transaction reached the node (a duplicated or retried request)
                    return Sent(tx_hash=ours, nonce=int(full["nonce"]), sender=self.address, tx=dict(full))
                raise _NonceTaken() from None
            if "underpriced" in text or "fee per gas less than" in text or "fee cap less than" in text:
                raise ChainError(
                    f"the node refused the fee of a transaction from {self.address}: {exc}",
                    hint="the fee is below what the node accepts; raise max_fee_gwei for this network "
                    "in pkr-pilot.toml (or wait for lower fees) and run again",
                ) from None
            revert = self._maybe_revert(exc, None)
            if revert is not None:
                raise revert from None
            raise ChainError(f"the node refused the transaction: {exc}") from None
        return Sent(tx_hash="0x" + bytes(tx_hash).hex(), nonce=int(full["nonce"]), sender=self.address, tx=dict(full))

    def _follow_lost(self, full: Mapping[str, Any], signed_hash: bytes, exc: Exception) -> Sent:
        """The answer to a submission was lost: the transaction if the node holds it, else undecided."""
        tx_hash = "0x" + bytes(signed_hash).hex()
        try:
            ours = self._known(signed_hash)
        except Exception as again:
            if _answer_lost(again):
                raise SendUndecided(tx_hash, f"{type(exc).__name__}; the node is still unreachable") from None
            raise
        if ours is None:
            raise SendUndecided(tx_hash, type(exc).__name__)
        return Sent(tx_hash=ours, nonce=int(full["nonce"]), sender=self.address, tx=dict(full))

    def _pending_count(self, address: str) -> int:
        return int(self.w3.eth.get_transaction_count(address, "pending"))  # type: ignore[arg-type]

    def _known(self, signed_hash: bytes) -> str | None:
        """The hash of the signed transaction if the node knows it (pending or mined), else None."""
        tx_hash = "0x" + bytes(signed_hash).hex()
        return tx_hash if node_knows(self.w3, tx_hash) else None

    def mined_count(self, address: str) -> int:
        """Transactions of ``address`` mined (its nonce at ``latest``)."""
        return int(self.w3.eth.get_transaction_count(address, "latest"))  # type: ignore[arg-type]

    def _failure(self, tx_hash: str, receipt: TxReceipt, action: str | None) -> ContractRevert:
        """Replay a failed transaction at its block to recover the revert data."""
        tx = self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        call = {"from": tx["from"], "to": tx.get("to"), "data": tx.get("input"), "value": tx.get("value", 0), "gas": tx["gas"]}
        data = b""
        try:
            self.w3.eth.call(call, int(receipt["blockNumber"]) - 1)  # type: ignore[arg-type]
        except Exception as exc:
            data = revert_data_from_exception(exc) or b""
        if not data and int(receipt["gasUsed"]) >= int(tx["gas"]):
            return TransactionFailed("OutOfGas", {"gas": int(tx["gas"]), "tx": tx_hash}, action=action)
        err = self.decoder.decode(data, action=action, failed_tx=True)
        err.args_by_name.setdefault("tx", tx_hash)
        return err

    def _translate(self, exc: Exception, action: str | None) -> Exception:
        revert = self._maybe_revert(exc, action)
        if revert is not None:
            return revert
        if isinstance(exc, ConnectionError | TimeoutError) or "connection" in type(exc).__name__.lower():
            return ChainError(f"the node did not answer: {exc}", hint="check the node is running and --network")
        return exc

    def _maybe_revert(self, exc: Exception, action: str | None) -> ContractRevert | None:
        from web3.exceptions import ContractLogicError

        data = revert_data_from_exception(exc)
        if data is not None and (isinstance(exc, ContractLogicError) or len(data) >= 4 or data == b""):
            if isinstance(exc, ContractLogicError) or "revert" in str(exc).lower():
                return self.decoder.decode(data, action=action)
        if isinstance(exc, ContractLogicError) or "execution reverted" in str(exc).lower():
            return ContractRevert("Reverted", {"message": str(exc)}, action=action)
        return None

    def _with_margin(self, gas: int) -> int:
        return gas * (100 + self.policy.gas_margin_percent) // 100


class GapWatch:
    """Watches one waiting transaction for a nonce gap below it and fills the gap once it has lasted.

    ``check(sent)`` is called on each poll while ``sent`` is known to the node and not mined. When the
    node has not counted it executable (:meth:`Sender.gap_below`) for the sender's
    :meth:`Sender.gap_grace`, the free nonces below it are filled (:meth:`Sender.fill_gap`, priced
    like ``sent``). A predecessor that is merely slow is counted by the node, so it is never touched.
    """

    def __init__(self, sender: Sender, *, notice: Callable[[str], None] | None = None) -> None:
        self.sender = sender
        self.notice = notice
        self._since: float | None = None

    def check(self, sent: Sent) -> None:
        if not self.sender.gap_below(sent):
            self._since = None
            return
        now = self.sender._clock()
        if self._since is None:
            self._since = now
        elif now - self._since >= self.sender.gap_grace():
            self.sender.fill_gap(sent.nonce, fees=sent.tx, notice=self.notice)
            self._since = None


def _answer_lost(exc: BaseException) -> bool:
    """The request may have reached the node but its answer never came (connection dropped, timed out)."""
    from requests import HTTPError
    from web3.exceptions import ProviderConnectionError

    if isinstance(exc, PilotError):
        return False
    if isinstance(exc, HTTPError) and exc.response is not None and exc.response.status_code < 500:
        return False  # the node (not a gateway on its way) answered: a refusal
    return isinstance(exc, OSError | TimeoutError | ProviderConnectionError)


def _lost_node(tx_hash: str, exc: BaseException) -> ChainError:
    return ChainError(
        f"lost the connection to the node while waiting for {tx_hash} ({type(exc).__name__})",
        hint="check the node, then re-run the same command: it resumes from the journal",
    )


class _NonceTaken(Exception):
    """Internal: the node refused a transaction because its nonce was used."""

