"""Logs read straight from a JSON-RPC node and logs read through web3 (the in-process EVM) decode alike."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils.crypto import keccak
from ops_env import ALICE, MINTER, StackEnv, addr
from ops_helpers import YES
from web3 import Web3

from pkr_pilot import ops
from pkr_pilot.chain.memory import memory_web3
from pkr_pilot.contracts import LogStats, scan_events
from pkr_pilot.errors import ChainError

TOPIC = bytes(keccak(text="Answer(uint256)"))
# Init code that emits Answer(42) and deploys nothing:
# PUSH1 42, PUSH1 0, MSTORE, PUSH32 topic, PUSH1 32, PUSH1 0, LOG1, STOP
EMITTER = "0x602a6000527f" + TOPIC.hex() + "60206000a100"
EVENT = {"type": "event", "name": "Answer", "anonymous": False,
         "inputs": [{"name": "value", "type": "uint256", "indexed": False}]}


def _emit(w3: Web3, sender: str) -> dict[str, Any]:
    tx_hash = w3.eth.send_transaction({"from": sender, "data": EMITTER})  # type: ignore[typeddict-item]
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    return {"address": receipt["contractAddress"], "tx": "0x" + bytes(tx_hash).hex()}


@pytest.mark.parametrize("where", ["anvil", "memory"])
def test_logs_decode_the_same_from_the_node_and_through_web3(env: StackEnv, where: str) -> None:
    w3 = env.w3 if where == "anvil" else memory_web3()[0]
    sender = addr(ALICE) if where == "anvil" else w3.eth.accounts[0]
    emitted = _emit(w3, sender)
    stats = LogStats()

    found = scan_events(w3, [emitted["address"]], {TOPIC: EVENT}, from_block=0, stats=stats)
    refused = scan_events(w3, [emitted["address"]], {TOPIC: EVENT}, from_block=0,
                          accept=lambda data: data[:32] != (42).to_bytes(32, "big"))

    assert [(e.name, dict(e.args), e.address, e.tx_hash) for e in found] == [
        ("Answer", {"value": 42}, emitted["address"], emitted["tx"])
    ]
    assert (stats.requests, stats.received, stats.decoded) == (1, 1, 1)
    assert refused == []


def test_events_read_from_the_node_equal_those_decoded_from_the_receipt(env: StackEnv, operator_for) -> None:
    result = ops.mint(operator_for(MINTER), addr(ALICE), "3", ref="BANK-RCPT", options=YES)
    receipt = env.w3.eth.get_transaction_receipt(result.tx_hash)  # type: ignore[arg-type]

    from_receipt = [e for e in env.token.decode_receipt(receipt) if e.name == "Minted"]

    assert env.token.find_events("Minted", {"ref": b"BANK-RCPT".ljust(32, b"\0")}) == from_receipt


def test_a_node_error_reading_logs_is_a_chain_error(env: StackEnv, monkeypatch) -> None:
    from pkr_pilot.transport import HttpTransport, RpcError

    original = HttpTransport.call

    def refuse(self: HttpTransport, method: str, params: Any = (), **kw: Any) -> Any:
        if method != "eth_getLogs":
            return original(self, method, params, **kw)
        raise RpcError(self.url, method, {"code": -32000, "message": "backend unavailable"})

    monkeypatch.setattr(HttpTransport, "call", refuse)

    with pytest.raises(ChainError, match=r"reading logs 0\.\.9 failed: the node refused eth_getLogs: backend unavailable"):
        scan_events(env.w3, [env.token.address], {TOPIC: EVENT}, from_block=0, to_block=9)
