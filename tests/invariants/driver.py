"""A lean transaction and state-reading path for the stateful property test.

Thousands of steps per run make per-step overhead matter, so this bypasses web3's request
formatting where it can:

* on anvil, raw JSON-RPC over one HTTP session: ``eth_sendRawTransactionSync`` returns the
  receipt in the same round trip; a reverted transaction (status 0) is decoded by replaying it
  with ``eth_call`` at its own block;
* on the memory backend (in-process py-evm), the same through ``Web3``;
* the whole observable token state is read in **one** ``eth_call`` of the token's own
  ``multicall`` over its view functions (the views are the contract's public API, so the test does
  not depend on the packed storage layout).

Transaction nonces are tracked locally: each example starts from the same snapshot, so the base
nonces are read once per session and restored with every revert.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from helpers import Actor, revert_data
from pkr_pilot.decode import ErrorDecoder
from pkr_pilot.errors import ContractRevert

GAS = 1_000_000
MAX_FEE = 50 * 10**9


def selector(signature: str) -> bytes:
    return bytes(keccak(text=signature))[:4]


@dataclass
class Outcome:
    """What a transaction did: success, or the decoded revert."""

    ok: bool
    error: ContractRevert | None
    block_number: int


class FastChain:
    """Send signed transactions and make calls with as little overhead as the backend allows.

    On anvil the node is put in fixed-interval mode (every block one second after the previous one)
    for the duration of :meth:`session`, so the next block's timestamp is known without asking:
    ``latest_ts + 1``. The latest timestamp is tracked from the receipts.
    """

    def __init__(self, chain: Any, decoder: ErrorDecoder) -> None:
        self.chain = chain
        self.w3 = chain.w3
        self.decoder = decoder
        self.chain_id = int(chain.chain_id)
        self.raw = chain.kind == "anvil"
        self._ids = itertools.count(1)
        self._conn: Any = None
        if self.raw:
            import http.client
            from urllib.parse import urlsplit

            url = urlsplit(str(chain.url))
            self._conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 8545, timeout=30)
            self._path = url.path or "/"
        self.nonces: dict[str, int] = {}
        self.latest_ts = 0

    # -- JSON-RPC --------------------------------------------------------------------------------
    def rpc(self, method: str, params: Sequence[Any]) -> Mapping[str, Any]:
        """One raw JSON-RPC request (anvil only) over a kept-alive connection; the whole response."""
        import json

        body = json.dumps({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)})
        if self._conn.sock is None:
            import socket

            self._conn.connect()
            # Headers and body go out as separate writes: without TCP_NODELAY the second one waits.
            self._conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._conn.request("POST", self._path, body, {"Content-Type": "application/json"})
        data: Mapping[str, Any] = json.loads(self._conn.getresponse().read())
        return data

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    @contextmanager
    def session(self) -> Iterator[None]:
        """Fixed one-second block interval on anvil while the machine runs (removed afterwards)."""
        if self.raw:
            self.rpc("anvil_setBlockTimestampInterval", [1])
        try:
            yield
        finally:
            if self.raw:
                self.rpc("anvil_removeBlockTimestampInterval", [])
            self.close()

    # -- snapshots ------------------------------------------------------------------------------
    def take_snapshot(self) -> Any:
        if self.raw:
            return self.rpc("evm_snapshot", [])["result"]
        return self.chain.take_snapshot()

    def revert_to(self, snapshot: Any) -> None:
        if self.raw:
            if self.rpc("evm_revert", [snapshot]).get("result") is not True:
                raise AssertionError(f"anvil did not revert to snapshot {snapshot}")
            return
        self.chain.revert_to(snapshot)

    # -- time ----------------------------------------------------------------------------------------
    def refresh_time(self) -> int:
        if self.raw:
            self.latest_ts = int(self.rpc("eth_getBlockByNumber", ["latest", False])["result"]["timestamp"], 16)
        else:
            self.latest_ts = int(self.w3.eth.get_block("latest")["timestamp"])
        return self.latest_ts

    def next_block_time(self) -> int:
        """The timestamp the next block will carry (pinned on the memory backend)."""
        t = self.latest_ts + 1
        if not self.raw:
            self.chain.set_next_timestamp(t)
        return t

    def increase_time(self, seconds: int) -> None:
        """Mine one block ``seconds`` after the latest."""
        target = self.latest_ts + seconds
        if self.raw:
            self.rpc("evm_setNextBlockTimestamp", [hex(target)])
            self.rpc("evm_mine", [])
        else:
            self.chain.set_next_timestamp(target)
            self.chain.mine(1)
        self.latest_ts = target

    # -- transactions ---------------------------------------------------------------------------
    def load_nonces(self, actors: Sequence[Actor]) -> dict[str, int]:
        return {a.address: int(self.w3.eth.get_transaction_count(a.address)) for a in actors}

    def send(self, sender: Actor, to: str, data: bytes) -> Outcome:
        """Mine a transaction; a failure is decoded by replaying it at its block."""
        nonce = self.nonces[sender.address]
        tx = {
            "chainId": self.chain_id, "nonce": nonce, "gas": GAS, "maxFeePerGas": MAX_FEE,
            "maxPriorityFeePerGas": 1, "to": to, "value": 0, "data": data,
        }
        raw = bytes(sender.account.sign_transaction(tx).raw_transaction)
        self.nonces[sender.address] = nonce + 1
        if self.raw:
            answer = self.rpc("eth_sendRawTransactionSync", ["0x" + raw.hex()])
            if "error" in answer:
                raise RuntimeError(f"the node refused the transaction: {answer['error']}")
            receipt = answer["result"]
            status, block = int(receipt["status"], 16), int(receipt["blockNumber"], 16)
            stamp = receipt["blockTimestamp"]
            self.latest_ts = int(stamp, 16) if isinstance(stamp, str) else int(stamp)
        else:
            tx_hash = self.w3.eth.send_raw_transaction(raw)
            receipt = self.w3.eth.get_transaction_receipt(tx_hash)
            status, block = int(receipt["status"]), int(receipt["blockNumber"])
            self.latest_ts = int(self.w3.eth.get_block(block)["timestamp"])
        if status == 1:
            return Outcome(True, None, block)
        return Outcome(False, self._call_error(sender, to, data, hex(block) if self.raw else block), block)

    def simulate(self, sender: Actor, to: str, data: bytes) -> ContractRevert | None:
        """``eth_call`` against the pending block: the decoded revert, or None when it would succeed."""
        return self._call_error(sender, to, data, "pending", replay=False)

    def _call_error(self, sender: Actor, to: str, data: bytes, block: Any, *, replay: bool = True) -> Any:
        if self.raw:
            params = {"from": sender.address, "to": to, "data": "0x" + data.hex(), "gas": hex(GAS)}
            answer = self.rpc("eth_call", [params, block])
            error = answer.get("error")
            if error:
                return self.decoder.decode(bytes.fromhex(str(error.get("data") or "0x")[2:]))
        else:
            try:
                self.w3.eth.call({"from": sender.address, "to": to, "data": data, "gas": GAS}, block)  # type: ignore[typeddict-item]
            except Exception as exc:
                found = revert_data(exc)
                if found is None:
                    raise
                return self.decoder.decode(found)
        if replay:
            raise AssertionError(f"a transaction failed at block {block} but its replay succeeded")
        return None

    def call(self, to: str, data: bytes) -> bytes:
        if self.raw:
            answer = self.rpc("eth_call", [{"to": to, "data": "0x" + data.hex()}, "latest"])
            if "error" in answer:
                raise AssertionError(f"state read reverted: {answer['error']}")
            return bytes.fromhex(str(answer["result"])[2:])
        return bytes(self.w3.eth.call({"to": to, "data": data}))  # type: ignore[typeddict-item]


# ------------------------------------------------------------------------------- state reads


def decode_bytes_array(raw: bytes) -> list[bytes]:
    """ABI-decode a single ``bytes[]`` return value (eth_abi's generic decoder is ~10x slower).

    Layout: offset of the array, its length n, n offsets (relative to the start of the offsets),
    then each element as length + data.
    """
    base = int.from_bytes(raw[0:32], "big")
    count = int.from_bytes(raw[base:base + 32], "big")
    heads = base + 32
    out = []
    for i in range(count):
        start = heads + int.from_bytes(raw[heads + 32 * i:heads + 32 * i + 32], "big")
        length = int.from_bytes(raw[start:start + 32], "big")
        out.append(raw[start + 32:start + 32 + length])
    return out


@dataclass(frozen=True)
class ChainState:
    """The token's observable state, as read in one multicall."""

    total_supply: int
    paused: bool
    supply_cap: int
    reserves_amount: int
    reserves_as_of: int
    max_age: int
    balances: dict[str, int]
    frozen_amounts: dict[str, int]
    frozen_flags: dict[str, bool]
    allowances: dict[tuple[str, str], int]
    nonces: dict[str, int]
    minter_allowances: dict[str, int]
    is_minter: dict[str, bool]


class StateReader:
    """Builds the multicall once; decodes one answer into a :class:`ChainState`."""

    def __init__(self, token: str, accounts: Sequence[str], owners: Sequence[str], spenders: Sequence[str],
                 minters: Sequence[str]) -> None:
        self.token = token
        self.accounts, self.owners, self.spenders, self.minters = list(accounts), list(owners), list(spenders), list(minters)
        calls: list[bytes] = [
            selector("totalSupply()"), selector("paused()"), selector("supplyCap()"), selector("reserves()"),
            selector("maxAttestationAge()"),
        ]
        for who in self.accounts:
            arg = abi_encode(["address"], [who])
            calls += [selector("balanceOf(address)") + arg, selector("frozenBalanceOf(address)") + arg,
                      selector("isFrozen(address)") + arg, selector("nonces(address)") + arg]
        for owner in self.owners:
            for spender in self.spenders:
                calls.append(selector("allowance(address,address)") + abi_encode(["address", "address"], [owner, spender]))
        for minter in self.minters:
            arg = abi_encode(["address"], [minter])
            calls += [selector("minterAllowance(address)") + arg, selector("isMinter(address)") + arg]
        self.data = selector("multicall(bytes[])") + abi_encode(["bytes[]"], [calls])

    def decode(self, raw: bytes) -> ChainState:
        words = iter(decode_bytes_array(raw))

        def word() -> int:
            return int.from_bytes(next(words)[:32], "big")

        total_supply, paused, cap = word(), bool(word()), word()
        reserves = next(words)
        amount, as_of = int.from_bytes(reserves[:32], "big"), int.from_bytes(reserves[32:64], "big")
        max_age = word()
        balances, frozen, flags, nonces = {}, {}, {}, {}
        for who in self.accounts:
            balances[who], frozen[who], flags[who], nonces[who] = word(), word(), bool(word()), word()
        allowances = {(o, s): word() for o in self.owners for s in self.spenders}
        minter_allowances, is_minter = {}, {}
        for minter in self.minters:
            minter_allowances[minter], is_minter[minter] = word(), bool(word())
        return ChainState(total_supply, paused, cap, amount, as_of, max_age, balances, frozen, flags, allowances,
                          nonces, minter_allowances, is_minter)

    def read(self, fast: FastChain) -> ChainState:
        return self.decode(fast.call(self.token, self.data))
