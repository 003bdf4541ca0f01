"""``pkr-pilot bench bulk``: plain web3.py against the bulk engine and Multicall, on one fresh anvil.

One run starts one anvil (``--silent``: its per-transaction log lines would otherwise go through
a Python thread of this process), deploys the stack with the dev default config
(:func:`pkr_pilot.deploy.deploy_stack`), funds three payers with tokens (one per way, so the
ways share no nonce or balance), then sends the same number of referenced payments
(``transferWithReference(to, amount, ref)``, a distinct ref each, as ``pkr-pilot disburse`` pays),
each to a fresh recipient (so every payment has the same gas profile), three ways:

``naive``
    how people write it: ``token.functions.transferWithReference(to, amount, ref).transact({"from": payer})``
    with the node's unlocked dev account, then ``w3.eth.wait_for_transaction_receipt`` for
    each, in a loop (web3.py estimates gas, reads the nonce and fees, the node signs).
``bulk``
    :meth:`pkr_pilot.bulk.BulkSender.send`: one transaction per transfer, signed locally.
``multicall``
    :meth:`pkr_pilot.bulk.BulkSender.multicall`: the payer's transfers batched into
    ``multicall(bytes[])`` transactions of at most 15,000,000 gas each.

Each timing runs from the list of (recipient, amount) to the last receipt (call encoding,
gas estimates, fees, nonces, signing, sending and receipts all included). After each way,
every recipient's balance is checked (not timed). Rates: transfers (payments) per second.
Each way starts from the same chain state (``evm_snapshot`` after the setup, ``evm_revert``
after each way): anvil's cost per block grows with its history, so no way pays for another's.

The engine runs with its defaults (250 transactions per batch, 500 in flight) and, as on any
dev chain, a stall hook that mines a block when anvil's automine leaves ready transactions
unmined for a second (foundry-rs/foundry#10122); ``details.blocks`` shows how many blocks each
way produced.

Warning: this starts its own anvil; it never touches a configured network.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import PilotError
from ..progress import Progress

if TYPE_CHECKING:
    from web3 import Web3

    from ..config import Project

__all__ = ["BENCH_ANVIL_ARGS", "GOALS", "BulkBench", "run_bulk_bench"]

#: Goals of issue 7: bulk and Multicall against plain web3.py, same node, same count.
GOALS: Mapping[str, float] = {"bulk_vs_naive": 15.0, "multicall_vs_naive": 50.0}
#: Extra anvil flags of the benchmark node.
BENCH_ANVIL_ARGS: tuple[str, ...] = ("--silent",)
#: Paisa per transfer (1.00 PKRP).
AMOUNT = 100
#: One payer per way: dev accounts anvil funds with ETH (their roles in the dev default config
#: play no part in a plain transfer).
_PAYERS = {"naive": 9, "bulk": 7, "multicall": 6}
_MINTER = 8


@dataclass(frozen=True)
class BulkBench:
    """Figures of one benchmark run (rates per second, times in seconds)."""

    count: int
    naive_tps: float
    bulk_tps: float
    multicall_pps: float
    naive_seconds: float
    bulk_seconds: float
    multicall_seconds: float
    bulk_transactions: int
    multicall_transactions: int
    bulk_signing_seconds: float
    signing_backend: str
    eth_keys_backend: str
    anvil_args: tuple[str, ...]
    all_landed: bool
    load_average: tuple[float, float, float] | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def bulk_vs_naive(self) -> float:
        return self.bulk_tps / self.naive_tps if self.naive_tps else 0.0

    @property
    def multicall_vs_naive(self) -> float:
        return self.multicall_pps / self.naive_tps if self.naive_tps else 0.0

    def goals_met(self) -> dict[str, bool]:
        return {
            "bulk_vs_naive": self.bulk_vs_naive >= GOALS["bulk_vs_naive"],
            "multicall_vs_naive": self.multicall_vs_naive >= GOALS["multicall_vs_naive"],
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "naive_tps": round(self.naive_tps, 2),
            "bulk_tps": round(self.bulk_tps, 2),
            "multicall_pps": round(self.multicall_pps, 2),
            "bulk_vs_naive": round(self.bulk_vs_naive, 2),
            "multicall_vs_naive": round(self.multicall_vs_naive, 2),
            "goals": dict(GOALS),
            "goals_met": self.goals_met(),
            "naive_seconds": round(self.naive_seconds, 4),
            "bulk_seconds": round(self.bulk_seconds, 4),
            "multicall_seconds": round(self.multicall_seconds, 4),
            "bulk_transactions": self.bulk_transactions,
            "multicall_transactions": self.multicall_transactions,
            "bulk_signing_seconds": round(self.bulk_signing_seconds, 4),
            "signing_backend": self.signing_backend,
            "eth_keys_backend": self.eth_keys_backend,
            "all_landed": self.all_landed,
            "anvil_args": list(self.anvil_args),
            "cpu_count": os.cpu_count(),
            "load_average": list(self.load_average) if self.load_average else None,
            **dict(self.details),
        }


def run_bulk_bench(
    project: Project,
    *,
    count: int = 2000,
    progress: Callable[[str], None] | None = None,
    batch_size: int = 250,
    window: int = 500,
    counter: Callable[[Progress], None] | None = None,
) -> BulkBench:
    """Start anvil, deploy, and time the three ways (see the module docstring).

    ``progress`` receives one line per phase; ``counter`` the transfers done in the naive phase
    (the long one: one round trip per transfer).
    """
    from ..accounts import dev_account, eth_keys_backend
    from ..chain import AnvilNode, AnvilOptions, Chain
    from ..config import NetworkConfig
    from ..contracts import Stack
    from ..deploy import deploy_stack
    from ..tx import Sender, TxPolicy

    if count < 1:
        raise PilotError("--count must be at least 1")
    say = progress or (lambda _message: None)
    options = AnvilOptions(accounts=10, extra_args=BENCH_ANVIL_ARGS)
    say("starting anvil")
    with AnvilNode.for_project(project, options, log=False) as node:
        w3 = _web3(node.url)
        network = NetworkConfig(name="bench", backend="anvil", chain_id=options.chain_id)
        chain = Chain(w3, network, options.chain_id, "anvil", node=node)
        say("deploying the stack")
        deployment = deploy_stack(chain, dev_account(0, chain_id=chain.chain_id), project, deployments_dir=None)
        stack = Stack.from_deployment(w3, deployment)
        token = stack.token
        minter = Sender(w3, dev_account(_MINTER, chain_id=chain.chain_id), decoder=stack.decoder)
        payers = {way: dev_account(index, chain_id=chain.chain_id) for way, index in _PAYERS.items()}
        for way, payer in payers.items():
            minter.transact(token.mint(payer.address, count * AMOUNT, _ref(f"bench {way}")).tx())
        recipients = {way: _recipients(count, salt=n + 1) for n, way in enumerate(_PAYERS)}
        policy = TxPolicy(timeout=120.0, poll_interval=0.01)
        landed = True
        blocks: dict[str, int] = {}
        # Each way starts from the same state (snapshot, revert): anvil's cost per block grows
        # with the chain, so no way runs on another way's history.
        start_block = int(w3.eth.block_number)
        snapshot = chain.take_snapshot()

        def mine() -> None:
            chain.rpc("evm_mine")

        say(f"naive: {count} x transferWithReference(...).transact() + wait_for_transaction_receipt")
        naive_seconds = _naive(w3, token.address, token.abi, payers["naive"].address, recipients["naive"],
                               tick=None if counter is None else lambda done: counter(Progress(done, count, "naive")))
        landed &= _all_received(w3, token.address, recipients["naive"])
        blocks["naive"] = int(w3.eth.block_number) - start_block
        chain.revert_to(snapshot)
        snapshot = chain.take_snapshot()

        say(f"bulk: {count} signed transactions in JSON-RPC batches")
        from ..bulk import BulkSender, TxRequest

        engine = BulkSender(
            w3, payers["bulk"], decoder=stack.decoder, policy=policy, batch_size=batch_size,
            window=window, stall_hook=mine,
        )
        started = time.perf_counter()
        requests = [TxRequest(token.address, token.build("transferWithReference", to, AMOUNT, _ref(to)).data)
                    for to in recipients["bulk"]]
        bulk = engine.send(requests)
        bulk_seconds = time.perf_counter() - started
        engine.close()
        landed &= bulk.ok and _all_received(w3, token.address, recipients["bulk"])
        blocks["bulk"] = int(w3.eth.block_number) - start_block
        chain.revert_to(snapshot)

        say(f"multicall: {count} transfers packed into multicall transactions")
        engine = BulkSender(w3, payers["multicall"], decoder=stack.decoder, policy=policy, stall_hook=mine)
        started = time.perf_counter()
        calls = [token.build("transferWithReference", to, AMOUNT, _ref(to)).data for to in recipients["multicall"]]
        multi = engine.multicall(token.address, calls)
        multicall_seconds = time.perf_counter() - started
        engine.close()
        landed &= multi.ok and _all_received(w3, token.address, recipients["multicall"])
        blocks["multicall"] = int(w3.eth.block_number) - start_block

    def rate(seconds: float) -> float:
        return count / seconds if seconds > 0 else 0.0

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return BulkBench(
        count=count,
        naive_tps=rate(naive_seconds),
        bulk_tps=rate(bulk_seconds),
        multicall_pps=rate(multicall_seconds),
        naive_seconds=naive_seconds,
        bulk_seconds=bulk_seconds,
        multicall_seconds=multicall_seconds,
        bulk_transactions=len(bulk.transactions),
        multicall_transactions=len(multi.transactions),
        bulk_signing_seconds=bulk.signing_seconds,
        signing_backend=bulk.signing_backend,
        eth_keys_backend=eth_keys_backend(),
        anvil_args=BENCH_ANVIL_ARGS,
        all_landed=bool(landed),
        load_average=(load[0], load[1], load[2]) if load else None,
        details={
            "bulk_gas_limits": dict(bulk.gas_limits),
            "multicall_gas_limit": dict(multi.gas_limits).get("multicall"),
            "multicall_gas_used": [o.gas_used for o in multi.transactions],
            "batch_size": batch_size,
            "window": window,
            "blocks": blocks,
            "same_start_state": "evm_snapshot before each way, evm_revert after",
            "measured": {
                "naive": "token.functions.transferWithReference(to, amount, ref).transact({'from': unlocked dev account}) "
                "then w3.eth.wait_for_transaction_receipt, one after another",
                "bulk": "BulkSender.send: encode, sampled gas estimates, fees, pending nonce, sign locally, "
                "eth_sendRawTransaction in JSON-RPC batches, batched receipts",
                "multicall": "BulkSender.multicall: encode, pack under 15M gas (measured per pack), sign, "
                "send, receipts",
            },
        },
    )


def _web3(url: str) -> Web3:
    from web3 import HTTPProvider, Web3

    return Web3(HTTPProvider(url, request_kwargs={"timeout": 120}))


def _naive(
    w3: Web3, token: str, abi: Sequence[Mapping[str, Any]], payer: str, recipients: Sequence[str],
    *, tick: Callable[[int], None] | None = None,
) -> float:
    """The plain web3.py loop, exactly as the module docstring says (``tick`` after each receipt)."""
    contract = w3.eth.contract(address=token, abi=abi)  # type: ignore[call-overload]
    started = time.perf_counter()
    for done, to in enumerate(recipients, start=1):
        tx_hash = contract.functions.transferWithReference(to, AMOUNT, _ref(to)).transact({"from": payer})  # type: ignore[arg-type]
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise PilotError(f"naive transfer to {to} failed (tx {tx_hash.hex()})")
        if tick is not None:
            tick(done)
    return time.perf_counter() - started


def _all_received(w3: Web3, token: str, recipients: Sequence[str]) -> bool:
    """Every recipient holds exactly AMOUNT (batched balanceOf calls)."""
    from ..contracts import selector, static_words
    from ..transport import transport_for

    transport = transport_for(w3)
    balance_of = selector("balanceOf(address)")
    calls: list[tuple[str, Sequence[Any]]] = [
        ("eth_call", [{"to": token, "data": "0x" + (balance_of + static_words(to)).hex()}, "latest"]) for to in recipients
    ]
    try:
        replies = transport.batch(calls)
    finally:
        transport.close()
    return all(r.error is None and int(r.result, 16) == AMOUNT for r in replies)


def _recipients(count: int, *, salt: int) -> list[str]:
    """``count`` fresh addresses (no key behind them), distinct per way."""
    from eth_utils.address import to_checksum_address
    from eth_utils.crypto import keccak

    return [
        str(to_checksum_address(keccak(f"pkr-pilot bench {salt} {i}".encode())[12:]))
        for i in range(count)
    ]


def _ref(label: str) -> bytes:
    return label.encode()[:32].ljust(32, b"\0")
