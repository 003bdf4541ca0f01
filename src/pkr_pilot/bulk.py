"""The bulk engine: many transactions from one account, fast, with every outcome accounted for.

Used by disbursements, the simulator and the benchmarks; single privileged operations
go through :class:`pkr_pilot.tx.Sender` instead. ::

    from pkr_pilot.bulk import BulkSender, TxRequest

    engine = BulkSender(w3, signer, decoder=stack.decoder, policy=TxPolicy.from_network(net))
    result = engine.send([TxRequest(token, token_call.data) for token_call in calls])
    result.counts()          # {"mined": 1998, "reverted": 2, ...}
    result.failures()        # ItemResult with the decoded error, e.g. FrozenAccount(account=0x…)

    result = engine.multicall(token, [transfer_data, ...])   # payments batched in few transactions

How it is fast
    * **Signing ahead** with explicit consecutive nonces (the ``pending`` nonce read once):
      EIP-1559 transactions are signed by :mod:`pkr_pilot._eip1559` (coincurve, byte-identical
      to eth-account, checked) when the signer offers ``sign_transactions``; chunk *k+1* is
      signed while chunk *k* is on the wire. No process pool: 2,000 signatures take about
      0.1-0.3 s on one core here, a pool of two was slower (start-up, pickling), and the key
      would have to leave the :class:`~pkr_pilot.accounts.Signer` (it refuses to be pickled).
    * **JSON-RPC batches**: ``eth_sendRawTransaction`` and ``eth_getTransactionReceipt`` go
      as JSON arrays over one keep-alive HTTP session (:class:`~pkr_pilot.transport.HttpTransport`). web3 7's
      ``w3.batch_requests()`` refuses ``eth_sendRawTransaction`` (``MethodNotSupported``) and
      took 1.1-1.5 s for 2,000 receipts where the raw session took 0.13-0.16 s.
    * **No per-transaction estimate**: one gas limit per kind of call (target, selector),
      from a few sampled estimates, plus a margin and the cost of one fresh storage slot.
    * **Multicall** (:meth:`BulkSender.multicall`): calls packed into as few transactions as
      fit under a gas limit per transaction (each pack measured once before it is sent).

How it stays safe
    * A **bounded in-flight window**: at most ``window`` transactions sent and not yet mined.
    * **Stop the line**: when the node refuses a transaction, nothing further is sent. A refused
      nonce that later, already accepted transactions wait behind is filled with a zero-value
      transfer to self, so no accepted transaction is left stuck to be mined by surprise later.
    * **Per-item outcome** (:class:`TxStatus`): mined, reverted (error decoded by replaying
      the call), skipped (its simulation reverted, so it was not sent), rejected by the node
      (its message), not sent, or pending (sent, not mined before the timeout: it may still be).
    * Fees come from :meth:`pkr_pilot.tx.Sender.fees` (EIP-1559 within the network's caps),
      and a :class:`BulkObserver` sees every signed transaction *before* the node does, which is
      what makes a journal (see :mod:`pkr_pilot.disburse`) resumable.

Backends: any HTTP JSON-RPC node gets batches; other providers (the in-process memory
chain, websockets) get the same API with one request at a time (:mod:`pkr_pilot.transport`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .contracts import selector
from .decode import ErrorDecoder
from .errors import ContractRevert, TransactionFailed, UserInputError
from .sending import SignedTx, TxStatus, is_already_known
from .transport import RpcReply, Transport, transport_for
from .tx import ChainAccount

if TYPE_CHECKING:
    from web3 import Web3

    from .tx import TxPolicy, TxSigner

__all__ = [
    "FRESH_SLOT_GAS",
    "MULTICALL_SELECTOR",
    "BulkObserver",
    "BulkResult",
    "BulkSender",
    "ItemResult",
    "SignedTx",
    "TxOutcome",
    "TxRequest",
    "TxStatus",
    "encode_multicall",
]

#: ``multicall(bytes[])`` (OpenZeppelin Multicall).
MULTICALL_SELECTOR = selector("multicall(bytes[])")
#: Headroom added to a sampled gas estimate: one storage slot written from zero (20,000)
#: read cold (2,100), so an item that creates a slot its samples did not (a first-time
#: recipient) still fits.
FRESH_SLOT_GAS = 22_100
#: A gas limit per multicall transaction that every network accepts (EIP-7825 caps 2**24).
DEFAULT_MULTICALL_GAS = 15_000_000
#: Geth refuses transactions above 128 KiB; stay below with room for the envelope.
DEFAULT_MAX_TX_BYTES = 120_000
#: Gas used when no sample of a kind of call could be estimated (they all revert).
FALLBACK_GAS = 300_000


# =========================================================================== results


@dataclass(frozen=True)
class TxRequest:
    """One call to send as its own transaction."""

    to: str
    data: bytes
    value: int = 0
    #: Explicit gas limit; None: the fixed limit of its kind (see :meth:`BulkSender.fixed_gas`).
    gas: int | None = None

    @property
    def kind(self) -> tuple[str, bytes, bool]:
        """Calls of one kind share a gas limit: same target, same selector, value or not."""
        return (self.to.lower(), bytes(self.data[:4]), self.value > 0)


@dataclass(frozen=True)
class TxOutcome:
    """What happened to one signed transaction."""

    tx: SignedTx
    status: TxStatus
    block: int | None = None
    gas_used: int | None = None
    error: ContractRevert | None = None
    message: str | None = None


@dataclass(frozen=True)
class ItemResult:
    """What happened to one item (a request of :meth:`BulkSender.send`, a call of ``multicall``)."""

    index: int
    status: TxStatus
    tx_hash: str | None = None
    nonce: int | None = None
    block: int | None = None
    #: Gas of the whole transaction that carried the item (shared in a multicall).
    gas_used: int | None = None
    error: ContractRevert | None = None
    message: str | None = None

    def describe(self) -> str:
        """One line: ``#12 reverted: FrozenAccount(account=0x…) (tx 0x…)``."""
        what = self.error.signature_text if self.error is not None else (self.message or "")
        tail = f" (tx {self.tx_hash})" if self.tx_hash else ""
        return f"#{self.index} {self.status.value}{': ' + what if what else ''}{tail}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status.value}
        for key in ("tx_hash", "nonce", "block", "gas_used", "message"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.error is not None:
            out["error"] = self.error.signature_text
        return out


@dataclass(frozen=True)
class BulkResult:
    """Every item's outcome, the transactions that carried them, and timings in seconds."""

    items: tuple[ItemResult, ...]
    transactions: tuple[TxOutcome, ...]
    fillers: tuple[TxOutcome, ...] = ()
    elapsed: float = 0.0
    #: Time spent signing (overlapped with sending, so it is not a part of ``elapsed``).
    signing_seconds: float = 0.0
    #: Gas limit chosen per kind of call (``to:selector``), or per multicall transaction.
    gas_limits: Mapping[str, int] = field(default_factory=dict)
    signing_backend: str = ""

    def counts(self) -> dict[str, int]:
        out = {status.value: 0 for status in TxStatus}
        for item in self.items:
            out[item.status.value] += 1
        return out

    @property
    def ok(self) -> bool:
        """Every item mined with status 1."""
        return all(item.status is TxStatus.MINED for item in self.items)

    def failures(self) -> list[ItemResult]:
        return [item for item in self.items if item.status is not TxStatus.MINED]

    def by_status(self, status: TxStatus) -> list[ItemResult]:
        return [item for item in self.items if item.status is status]

    def to_json(self, *, items: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "counts": self.counts(),
            "transactions": len(self.transactions),
            "fillers": [o.tx.tx_hash for o in self.fillers],
            "elapsed_seconds": round(self.elapsed, 4),
            "signing_seconds": round(self.signing_seconds, 4),
            "gas_limits": dict(self.gas_limits),
            "signing_backend": self.signing_backend,
        }
        if items:
            out["failures"] = [item.to_json() for item in self.failures()]
        return out


class BulkObserver(Protocol):
    """Hooks around sending; a journal implements them (each may be a no-op)."""

    def signed(self, txs: Sequence[SignedTx]) -> None:
        """Called before the node sees ``txs`` (write-ahead: persist them here)."""

    def sent(self, txs: Sequence[SignedTx]) -> None:
        """The node accepted ``txs``."""

    def settled(self, outcomes: Sequence[TxOutcome]) -> None:
        """Transactions whose outcome is known (mined, reverted, rejected)."""


class _NoObserver:
    def signed(self, txs: Sequence[SignedTx]) -> None:
        return None

    def sent(self, txs: Sequence[SignedTx]) -> None:
        return None

    def settled(self, outcomes: Sequence[TxOutcome]) -> None:
        return None


# =========================================================================== engine


class BulkSender(ChainAccount):
    """Sends many transactions from one signer; see the module docstring for how and why.

    ``batch_size`` transactions go per JSON-RPC batch; at most ``window`` are in flight
    (sent, no receipt). Keep the window small on anvil: while it mines a block, its automine
    queues every ready transaction of the pool again for the next block (they fail there as
    already mined), so thousands in flight make it mine runs of empty blocks and stall; two
    batches in flight (the default 250 / 500) kept it at full speed in our measurements. ``gas_samples`` calls of each kind are estimated to fix its gas limit.
    ``stall_hook`` is called when nothing was mined for ``stall_seconds`` (see :meth:`_wait`);
    leave it None on real networks.
    """

    def __init__(
        self,
        w3: Web3,
        signer: TxSigner,
        *,
        decoder: ErrorDecoder | None = None,
        policy: TxPolicy | None = None,
        transport: Transport | None = None,
        batch_size: int = 250,
        window: int = 500,
        receipt_batch: int = 500,
        gas_samples: int = 3,
        stall_hook: Callable[[], None] | None = None,
        stall_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if batch_size < 1 or window < 1:
            raise UserInputError("batch_size and window must be at least 1")
        super().__init__(w3, signer, decoder=decoder, policy=policy, sleep=sleep, clock=clock)
        self.transport = transport or transport_for(w3)
        self.batch_size = batch_size
        self.window = max(window, batch_size)
        self.receipt_batch = receipt_batch
        self.gas_samples = max(1, gas_samples)
        #: Called when nothing was mined for ``stall_seconds`` (dev chains: mine a block).
        self.stall_hook = stall_hook
        self.stall_seconds = stall_seconds
        self._measure_method: str | None = None

    # ------------------------------------------------------------------ facts

    def pending_nonce(self) -> int:
        """The next nonce, counting transactions already in the node's pool."""
        return int(self.w3.eth.get_transaction_count(self.address, "pending"))  # type: ignore[arg-type]

    def close(self) -> None:
        self.transport.close()

    # ------------------------------------------------------------------ gas

    def fixed_gas(self, requests: Sequence[TxRequest]) -> tuple[list[int], dict[str, int]]:
        """One gas limit per kind of call, from ``gas_samples`` estimates of that kind.

        limit = max(sampled estimates) x (100 + margin) / 100 + :data:`FRESH_SLOT_GAS`. Safe
        when the calls of a kind differ by at most one fresh storage slot (token transfers,
        mints); pass ``TxRequest.gas`` for anything less regular.
        """
        groups: dict[tuple[str, bytes, bool], list[int]] = {}
        for i, req in enumerate(requests):
            if req.gas is None:
                groups.setdefault(req.kind, []).append(i)
        samples: list[tuple[tuple[str, bytes, bool], int]] = []
        for kind, members in groups.items():
            for pick in _spread(members, self.gas_samples):
                samples.append((kind, pick))
        calls = [("eth_estimateGas", [self._call_object(requests[i])]) for _, i in samples]
        best: dict[tuple[str, bytes, bool], int] = {}
        for (kind, _), reply in zip(samples, self.transport.batch(calls), strict=True):
            if reply.error is None and reply.result is not None:
                best[kind] = max(best.get(kind, 0), int(reply.result, 16))
        margin = 100 + self.policy.gas_margin_percent
        limits = {
            kind: (best[kind] * margin // 100 + FRESH_SLOT_GAS) if kind in best else FALLBACK_GAS
            for kind in groups
        }
        gas = [req.gas if req.gas is not None else limits[req.kind] for req in requests]
        named = {f"{k[0]}:0x{k[1].hex()}": v for k, v in limits.items()}
        return gas, named

    # ------------------------------------------------------------------ send

    def send(
        self,
        requests: Sequence[TxRequest],
        *,
        observer: BulkObserver | None = None,
        nonce: int | None = None,
        fees: Mapping[str, int] | None = None,
        gas: Sequence[int] | None = None,
    ) -> BulkResult:
        """Sign and send each request as its own transaction; one :class:`ItemResult` each.

        ``nonce``: the first nonce (default: the ``pending`` nonce). ``gas``: a limit per
        request (default: :meth:`fixed_gas`).
        """
        started = self._clock()
        if not requests:
            return BulkResult(items=(), transactions=(), elapsed=0.0)
        if gas is None:
            gas, gas_limits = self.fixed_gas(requests)
        else:
            gas_limits = {}
        price = dict(fees) if fees is not None else self.fees()
        first = self.pending_nonce() if nonce is None else nonce
        chain_id = self.chain_id

        def fields(i: int) -> dict[str, Any]:
            req = requests[i]
            return {
                "chainId": chain_id,
                "nonce": first + i,
                "to": req.to,
                "value": req.value,
                "data": bytes(req.data),
                "gas": int(gas[i]),
                **price,
            }

        chunks = [
            [(fields(i), (i,)) for i in range(start, min(start + self.batch_size, len(requests)))]
            for start in range(0, len(requests), self.batch_size)
        ]
        outcomes, fillers, signing = self._run(chunks, observer or _NoObserver(), price)
        return self._result(len(requests), outcomes, fillers, started, signing, gas_limits, {})

    def resend(
        self, txs: Sequence[SignedTx], *, observer: BulkObserver | None = None
    ) -> tuple[list[TxOutcome], list[TxOutcome]]:
        """Broadcast already signed transactions again (a resumed journal) and settle them.

        Resending the identical bytes cannot double anything: a nonce admits one transaction.
        Returns (outcomes, fillers).
        """
        if not txs:
            return [], []
        ordered = sorted(txs, key=lambda t: t.nonce)
        chunks = [
            ordered[start : start + self.batch_size] for start in range(0, len(ordered), self.batch_size)
        ]
        signed_chunks: Iterator[tuple[list[SignedTx], float]] = ((c, 0.0) for c in chunks)
        price = {k: int(v) for k, v in ordered[0].fields.items() if k in ("maxFeePerGas", "maxPriorityFeePerGas", "gasPrice")}
        outcomes, fillers = self._pump(signed_chunks, observer or _NoObserver(), price, write_ahead=False)
        return list(outcomes.values()), fillers

    def fill_nonces(
        self,
        nonces: Sequence[int],
        fees: Mapping[str, int] | None = None,
        *,
        observer: BulkObserver | None = None,
    ) -> list[TxOutcome]:
        """Use up free ``nonces`` with zero-value transfers to self and wait for them.

        After this, any other transaction signed with one of these nonces can never be mined.
        """
        if not nonces:
            return []
        watcher = observer or _NoObserver()
        inflight: dict[str, SignedTx] = {}
        outcomes: dict[str, TxOutcome] = {}
        fillers = self._fill_gaps(nonces, dict(fees) if fees is not None else self.fees(), watcher, inflight)
        self._drain(inflight, outcomes, watcher)
        return [outcomes.get(f.tx.tx_hash, f) for f in fillers]

    def sign(self, chunk: Sequence[tuple[Mapping[str, Any], tuple[int, ...]]]) -> list[SignedTx]:
        """Sign prepared transaction fields; each with the items it carries."""
        from eth_hash.auto import keccak

        raws = _sign_many(self.signer, [f for f, _ in chunk])
        return [
            SignedTx(self.address, int(f["nonce"]), "0x" + keccak(raw).hex(), raw, f, items)
            for (f, items), raw in zip(chunk, raws, strict=True)
        ]

    # ------------------------------------------------------------------ multicall

    def multicall(
        self,
        target: str,
        calls: Sequence[bytes],
        *,
        gas_limit: int | None = None,
        max_tx_bytes: int = DEFAULT_MAX_TX_BYTES,
        observer: BulkObserver | None = None,
        nonce: int | None = None,
        fees: Mapping[str, int] | None = None,
    ) -> BulkResult:
        """Send ``calls`` to ``target.multicall(bytes[])`` packed into few transactions.

        Each transaction holds as many calls as fit under ``gas_limit`` (default: 15,000,000
        or 90 % of the block gas limit, whichever is lower) with the policy's margin, and under
        ``max_tx_bytes``. A pack is measured once before it is sent; a pack whose simulation
        reverts is split until the reverting calls stand alone: those are ``skipped`` with
        their decoded error, the others are sent. Multicall is atomic, so every item of a
        transaction shares its outcome.
        """
        started = self._clock()
        if not calls:
            return BulkResult(items=(), transactions=(), elapsed=0.0)
        block_limit = int(self.w3.eth.get_block("latest")["gasLimit"])
        limit = gas_limit or min(DEFAULT_MULTICALL_GAS, block_limit * 9 // 10)
        # In flight at most what one block holds: more cannot be mined sooner anyway, and anvil's
        # automine leaves the rest unmined until another transaction arrives.
        window = max(1, min(self.window, block_limit // limit))
        packs, skipped, gas_of = self.pack_multicall(target, calls, gas_limit=limit, max_tx_bytes=max_tx_bytes)
        price = dict(fees) if fees is not None else self.fees()
        first = self.pending_nonce() if nonce is None else nonce
        chain_id = self.chain_id
        prepared: list[tuple[Mapping[str, Any], tuple[int, ...]]] = []
        for k, pack in enumerate(packs):
            prepared.append(
                (
                    {
                        "chainId": chain_id,
                        "nonce": first + k,
                        "to": target,
                        "value": 0,
                        "data": encode_multicall([calls[i] for i in pack]),
                        "gas": gas_of[k],
                        **price,
                    },
                    tuple(pack),
                )
            )
        chunks = [prepared[s : s + window] for s in range(0, len(prepared), window)]
        outcomes, fillers, signing = self._run(chunks, observer or _NoObserver(), price, window=window)
        return self._result(
            len(calls), outcomes, fillers, started, signing, {"multicall": limit}, skipped
        )

    def pack_multicall(
        self,
        target: str,
        calls: Sequence[bytes],
        *,
        gas_limit: int,
        max_tx_bytes: int = DEFAULT_MAX_TX_BYTES,
    ) -> tuple[list[list[int]], dict[int, ContractRevert], list[int]]:
        """Packs of call indices that each fit ``gas_limit``; the calls whose simulation reverts.

        Returns (packs, skipped index -> decoded error, gas limit per pack). The gas per call
        is predicted from a measured sample; every pack is then measured (one
        ``eth_createAccessList``, or ``eth_estimateGas`` where that is missing) and split in
        two while it is over the limit or reverts.
        """
        margin = 100 + self.policy.gas_margin_percent
        # Predict to 92 % of what fits, so a pack is rarely over once measured (a split halves it).
        budget = gas_limit * 100 // margin * 92 // 100
        sample = list(range(min(8, len(calls))))
        base, per_call = self._calibrate(target, calls, sample)
        packs: list[list[int]] = []
        current: list[int] = []
        size = 0
        for i in range(len(calls)):
            call_bytes = 64 + (len(calls[i]) + 31) // 32 * 32
            if current and (
                base + per_call * (len(current) + 1) > budget or size + call_bytes > max_tx_bytes
            ):
                packs.append(current)
                current, size = [], 0
            current.append(i)
            size += call_bytes
        if current:
            packs.append(current)
        ready: list[list[int]] = []
        gas_of: list[int] = []
        skipped: dict[int, ContractRevert] = {}
        todo = packs
        while todo:
            measured = self._measure([(target, encode_multicall([calls[i] for i in p])) for p in todo])
            nxt: list[list[int]] = []
            for pack, (used, error) in zip(todo, measured, strict=True):
                if error is not None:
                    if len(pack) == 1:
                        skipped[pack[0]] = error
                    else:
                        nxt += [pack[: len(pack) // 2], pack[len(pack) // 2 :]]
                elif used * margin // 100 > gas_limit:
                    if len(pack) == 1:
                        skipped[pack[0]] = ContractRevert(
                            "GasLimitExceeded", {"needed": used, "limit": gas_limit}
                        )
                    else:
                        nxt += [pack[: len(pack) // 2], pack[len(pack) // 2 :]]
                else:
                    ready.append(pack)
                    gas_of.append(min(gas_limit, used * margin // 100 + FRESH_SLOT_GAS))
            todo = nxt
        order = sorted(range(len(ready)), key=lambda k: ready[k][0])
        return [ready[k] for k in order], skipped, [gas_of[k] for k in order]

    def _calibrate(self, target: str, calls: Sequence[bytes], sample: list[int]) -> tuple[int, int]:
        """(fixed cost, cost per call) of a multicall, from a one-call and an n-call measure."""
        one = [sample[0]]
        measured = self._measure(
            [(target, encode_multicall([calls[i] for i in one])), (target, encode_multicall([calls[i] for i in sample]))]
        )
        (used_one, err_one), (used_all, err_all) = measured
        if err_one is not None or err_all is not None or len(sample) < 2:
            # Unknown (a sampled call reverts): assume a costly call; packs get measured anyway.
            return 30_000, max(used_one or 0, used_all or 0, 60_000)
        per_call = max(1, (used_all - used_one) // (len(sample) - 1))
        return max(21_000, used_one - per_call), per_call

    def _measure(self, txs: Sequence[tuple[str, bytes]]) -> list[tuple[int, ContractRevert | None]]:
        """Gas used by each call (from this account, at ``latest``) or its decoded revert."""
        if not txs:
            return []
        objs = [{"from": self.address, "to": to, "data": "0x" + data.hex()} for to, data in txs]
        method = self._measure_method or "eth_createAccessList"
        replies = self.transport.batch([(method, [o, "latest"]) for o in objs])
        if method == "eth_createAccessList" and any(_method_missing(r) for r in replies):
            self._measure_method = "eth_estimateGas"
            return self._measure(txs)
        self._measure_method = method
        out: list[tuple[int, ContractRevert | None]] = []
        need_call: list[int] = []
        for n, reply in enumerate(replies):
            if reply.error is not None:
                need_call.append(n)
                out.append((0, None))
            elif method == "eth_createAccessList":
                result = reply.result or {}
                if result.get("error"):
                    need_call.append(n)
                    out.append((0, None))
                else:
                    out.append((int(result["gasUsed"], 16), None))
            else:
                out.append((int(reply.result, 16), None))
        if need_call:
            calls = [("eth_call", [objs[n], "latest"]) for n in need_call]
            for n, reply in zip(need_call, self.transport.batch(calls), strict=True):
                out[n] = (0, self.decode_reply(reply, failed_tx=False))
        return out

    # ------------------------------------------------------------------ the pump

    def _run(
        self,
        chunks: Sequence[Sequence[tuple[Mapping[str, Any], tuple[int, ...]]]],
        observer: BulkObserver,
        price: Mapping[str, int],
        *,
        window: int | None = None,
    ) -> tuple[dict[str, TxOutcome], list[TxOutcome], float]:
        """Sign chunk k+1 while chunk k is sent; returns (outcomes by hash, fillers, signing s)."""
        signing = [0.0]

        def signed_chunks() -> Iterator[tuple[list[SignedTx], float]]:
            for chunk in chunks:
                t0 = time.perf_counter()
                txs = self.sign(chunk)
                spent = time.perf_counter() - t0
                signing[0] += spent
                yield txs, spent

        outcomes, fillers = self._pump(signed_chunks(), observer, price, write_ahead=True, window=window)
        return outcomes, fillers, signing[0]

    def _pump(
        self,
        chunks: Iterator[tuple[list[SignedTx], float]],
        observer: BulkObserver,
        price: Mapping[str, int],
        *,
        write_ahead: bool,
        window: int | None = None,
    ) -> tuple[dict[str, TxOutcome], list[TxOutcome]]:
        limit = window or self.window
        outcomes: dict[str, TxOutcome] = {}
        inflight: dict[str, SignedTx] = {}
        rejected_free: list[SignedTx] = []  # refused while their nonce stays free
        highest_accepted = -1
        stop = False
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pkr-bulk-send") as pool:
            nxt = next(chunks, None)
            while nxt is not None and not stop:
                chunk = nxt[0]
                if inflight and len(inflight) + len(chunk) > limit:
                    room = limit - len(chunk)
                    self._wait(inflight, outcomes, observer, until=lambda room=room: len(inflight) <= room)  # type: ignore[misc]
                if write_ahead:
                    observer.signed(chunk)
                future = pool.submit(
                    self.transport.batch,
                    [("eth_sendRawTransaction", ["0x" + tx.raw.hex()]) for tx in chunk],
                )
                nxt = next(chunks, None)  # sign the next chunk while this one is on the wire
                replies = future.result()
                accepted: list[SignedTx] = []
                refused: list[TxOutcome] = []
                for tx, reply in zip(chunk, replies, strict=True):
                    if reply.error is None or _already_known(reply):
                        accepted.append(tx)
                        inflight[tx.tx_hash] = tx
                        highest_accepted = max(highest_accepted, tx.nonce)
                    else:
                        stop = True
                        refused.append(TxOutcome(tx, TxStatus.REJECTED, message=reply.message))
                        if not _nonce_used(reply):
                            rejected_free.append(tx)
                if accepted:
                    observer.sent(accepted)
                if refused:
                    for outcome in refused:
                        outcomes[outcome.tx.tx_hash] = outcome
                    observer.settled(refused)
        fillers: list[TxOutcome] = []
        gaps = [tx.nonce for tx in rejected_free if tx.nonce < highest_accepted]
        if gaps:
            # A nonce below the account's mined count was used after all (a message we did not
            # recognise): only the nonces still free get a filler.
            mined = int(self.w3.eth.get_transaction_count(self.address, "latest"))  # type: ignore[arg-type]
            gaps = [n for n in gaps if n >= mined]
        if gaps:
            fillers = self._fill_gaps(gaps, price, observer, inflight)
        self._drain(inflight, outcomes, observer)
        for filler in fillers:
            final = outcomes.pop(filler.tx.tx_hash, None)
            if final is not None:
                fillers[fillers.index(filler)] = final
        self._decode_reverts(outcomes)
        return outcomes, fillers

    def _fill_gaps(
        self,
        nonces: Sequence[int],
        price: Mapping[str, int],
        observer: BulkObserver,
        inflight: dict[str, SignedTx],
    ) -> list[TxOutcome]:
        """Fill refused nonces with zero-value transfers to self, so accepted later ones mine."""
        chunk = [
            (
                {
                    "chainId": self.chain_id,
                    "nonce": n,
                    "to": self.address,
                    "value": 0,
                    "data": b"",
                    "gas": 21_000,
                    **price,
                },
                (),
            )
            for n in sorted(set(nonces))
        ]
        txs = self.sign(chunk)
        observer.signed(txs)
        replies = self.transport.batch([("eth_sendRawTransaction", ["0x" + tx.raw.hex()]) for tx in txs])
        out: list[TxOutcome] = []
        for tx, reply in zip(txs, replies, strict=True):
            if reply.error is None or _already_known(reply):
                inflight[tx.tx_hash] = tx
                out.append(TxOutcome(tx, TxStatus.PENDING))
            else:
                out.append(
                    TxOutcome(
                        tx,
                        TxStatus.REJECTED,
                        message=f"nonce gap filler refused: {reply.message}; later transactions wait behind nonce {tx.nonce}",
                    )
                )
        return out

    def _poll(self, inflight: dict[str, SignedTx], outcomes: dict[str, TxOutcome], observer: BulkObserver) -> bool:
        """One batched round of receipts; True if anything settled."""
        if not inflight:
            return False
        hashes = list(inflight)
        calls: list[tuple[str, Sequence[Any]]] = [("eth_getTransactionReceipt", [h]) for h in hashes]
        need_head = self.policy.confirmations > 1
        if need_head:
            calls.append(("eth_blockNumber", []))
        replies = self.transport.batch(calls)
        head = int(replies[-1].result, 16) if need_head and replies[-1].result else None
        settled: list[TxOutcome] = []
        for tx_hash, reply in zip(hashes, replies, strict=False):
            receipt = reply.result
            if reply.error is not None or not receipt or receipt.get("blockNumber") is None:
                continue
            block = int(receipt["blockNumber"], 16)
            if head is not None and head - block + 1 < self.policy.confirmations:
                continue
            ok = int(receipt.get("status", "0x1"), 16) == 1
            tx = inflight.pop(tx_hash)
            outcome = TxOutcome(
                tx,
                TxStatus.MINED if ok else TxStatus.REVERTED,
                block=block,
                gas_used=int(receipt["gasUsed"], 16),
            )
            outcomes[tx_hash] = outcome
            settled.append(outcome)
        if settled:
            observer.settled([o for o in settled if o.status is TxStatus.MINED])
            reverted = [o for o in settled if o.status is TxStatus.REVERTED]
            if reverted:
                self._decode_reverts({o.tx.tx_hash: o for o in reverted}, into=outcomes)
                observer.settled([outcomes[o.tx.tx_hash] for o in reverted])
        return bool(settled)

    def _drain(self, inflight: dict[str, SignedTx], outcomes: dict[str, TxOutcome], observer: BulkObserver) -> None:
        """Poll until every accepted transaction has a receipt, or no progress for ``timeout`` s."""
        self._wait(inflight, outcomes, observer, until=lambda: not inflight)
        for tx_hash, tx in inflight.items():
            outcomes[tx_hash] = TxOutcome(
                tx,
                TxStatus.PENDING,
                message=f"not mined within {self.policy.timeout:g} s of the last progress; it may still be mined",
            )
        inflight.clear()

    def _wait(
        self,
        inflight: dict[str, SignedTx],
        outcomes: dict[str, TxOutcome],
        observer: BulkObserver,
        *,
        until: Callable[[], bool],
    ) -> None:
        """Poll receipts until ``until()`` or ``timeout`` seconds without progress.

        After ``stall_seconds`` without progress the ``stall_hook`` (if any) is called, once per
        stall: on a dev chain it mines a block (anvil's automine can leave ready transactions
        unmined: foundry-rs/foundry#10122).
        """
        last_progress = self._clock()
        nudged = False
        while inflight and not until():
            if self._poll(inflight, outcomes, observer):
                last_progress = self._clock()
                nudged = False
                continue
            idle = self._clock() - last_progress
            if idle > self.policy.timeout:
                return
            if self.stall_hook is not None and not nudged and idle > self.stall_seconds:
                self.stall_hook()
                nudged = True
                continue
            self._sleep(self.policy.poll_interval)

    def _decode_reverts(self, outcomes: dict[str, TxOutcome], *, into: dict[str, TxOutcome] | None = None) -> None:
        """Replay reverted transactions (batched ``eth_call``) to decode their custom errors.

        A transaction is replayed on the state before its block, then on the state after it
        (an earlier transaction of the same block may have caused the revert); a receipt that
        used all its gas is reported as ``OutOfGas``.
        """
        target = into if into is not None else outcomes
        todo = [o for o in outcomes.values() if o.status is TxStatus.REVERTED and o.error is None]
        if not todo:
            return
        for attempt in (-1, 0):
            if not todo:
                break
            calls: list[tuple[str, Sequence[Any]]] = []
            for o in todo:
                f = o.tx.fields
                obj = {
                    "from": self.address,
                    "to": f["to"],
                    "data": "0x" + bytes(f["data"]).hex(),
                    "value": hex(int(f["value"])),
                    "gas": hex(int(f["gas"])),
                }
                calls.append(("eth_call", [obj, hex(max(0, int(o.block or 0) + attempt))]))
            left: list[TxOutcome] = []
            for o, reply in zip(todo, self.transport.batch(calls), strict=True):
                if o.gas_used is not None and o.gas_used >= int(o.tx.fields["gas"]):
                    err: ContractRevert = TransactionFailed(
                        "OutOfGas", {"gas": int(o.tx.fields["gas"]), "tx": o.tx.tx_hash}
                    )
                elif reply.error is not None:
                    err = self.decode_reply(reply, failed_tx=True)
                    err.args_by_name.setdefault("tx", o.tx.tx_hash)
                elif attempt == -1:
                    left.append(o)
                    continue
                else:
                    err = TransactionFailed(
                        "Reverted", {"note": "the replay did not revert", "tx": o.tx.tx_hash}
                    )
                target[o.tx.tx_hash] = TxOutcome(o.tx, o.status, o.block, o.gas_used, err, o.message)
            todo = left

    def decode_reply(self, reply: RpcReply, *, failed_tx: bool = False) -> ContractRevert:
        """The typed error of a JSON-RPC error answer (revert data decoded with ``decoder``)."""
        data = _revert_bytes(reply.error)
        if data is None:
            cls = TransactionFailed if failed_tx else ContractRevert
            return cls("Reverted", {"message": reply.message})
        return self.decoder.decode(data, failed_tx=failed_tx)

    def _call_object(self, req: TxRequest) -> dict[str, Any]:
        obj: dict[str, Any] = {"from": self.address, "to": req.to, "data": "0x" + bytes(req.data).hex()}
        if req.value:
            obj["value"] = hex(req.value)
        return obj

    def _result(
        self,
        count: int,
        outcomes: Mapping[str, TxOutcome],
        fillers: Sequence[TxOutcome],
        started: float,
        signing: float,
        gas_limits: Mapping[str, int],
        skipped: Mapping[int, ContractRevert],
    ) -> BulkResult:
        items: list[ItemResult | None] = [None] * count
        for outcome in outcomes.values():
            for i in outcome.tx.items:
                items[i] = ItemResult(
                    i,
                    outcome.status,
                    outcome.tx.tx_hash,
                    outcome.tx.nonce,
                    outcome.block,
                    outcome.gas_used,
                    outcome.error,
                    outcome.message,
                )
        for i, error in skipped.items():
            items[i] = ItemResult(i, TxStatus.SKIPPED, error=error, message="its simulation reverted")
        final = tuple(
            item if item is not None else ItemResult(i, TxStatus.NOT_SENT, message="not sent: the line stopped after a rejection")
            for i, item in enumerate(items)
        )
        txs = tuple(sorted((o for o in outcomes.values() if not o.tx.is_filler), key=lambda o: o.tx.nonce))
        from ._eip1559 import signing_backend

        return BulkResult(
            items=final,
            transactions=txs,
            fillers=tuple(fillers),
            elapsed=self._clock() - started,
            signing_seconds=signing,
            gas_limits=dict(gas_limits),
            signing_backend=signing_backend() if hasattr(self.signer, "sign_transactions") else "eth-account",
        )


# =========================================================================== helpers


def encode_multicall(calls: Sequence[bytes]) -> bytes:
    """Call data of ``multicall(bytes[] data)``."""
    from eth_abi.abi import encode

    return MULTICALL_SELECTOR + encode(["bytes[]"], [list(calls)])


def _sign_many(signer: TxSigner, txs: Sequence[Mapping[str, Any]]) -> list[bytes]:
    """Raw signed transactions: the signer's batch method if it has one, else one by one."""
    fast = getattr(signer, "sign_transactions", None)
    if callable(fast):
        return [bytes(raw) for raw in fast(txs)]
    from eth_account.signers.local import LocalAccount

    if isinstance(signer, LocalAccount):
        from ._eip1559 import sign_dynamic_fee_transactions

        return sign_dynamic_fee_transactions(signer, txs)
    return [bytes(signer.sign_transaction(dict(tx)).raw_transaction) for tx in txs]


def _spread(members: Sequence[int], count: int) -> list[int]:
    """Up to ``count`` indices spread over ``members`` (first, last, evenly between)."""
    if len(members) <= count:
        return list(members)
    if count == 1:
        return [members[0]]
    step = (len(members) - 1) / (count - 1)
    return sorted({members[round(k * step)] for k in range(count)})


def _already_known(reply: RpcReply) -> bool:
    return is_already_known(reply.message)


def _nonce_used(reply: RpcReply) -> bool:
    """The refusal says the nonce is taken (by a mined or pooled transaction)."""
    text = reply.message.lower()
    if "invalid transaction nonce" in text:  # py-evm: "Expected 3, but got 0"
        import re

        found = re.search(r"expected (\d+), but got (\d+)", text)
        return found is not None and int(found.group(2)) < int(found.group(1))
    return any(
        phrase in text
        for phrase in ("nonce too low", "replacement transaction underpriced", "nonce has already been used", "already imported")
    )


def _method_missing(reply: RpcReply) -> bool:
    if reply.error is None:
        return False
    code = reply.error.get("code")
    text = reply.message.lower()
    return code == -32601 or "-32601" in text or any(
        phrase in text for phrase in ("not supported", "method not found", "unsupported", "not been implemented", "not implemented")
    )


def _revert_bytes(error: Mapping[str, Any] | None) -> bytes | None:
    if error is None:
        return None
    data = error.get("data")
    if isinstance(data, Mapping):
        data = data.get("data") or data.get("result")
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    message = str(error.get("message", "")).lower()
    if "revert" in message and "0x" not in message:
        return b""
    return None
