"""The word-by-word log decoder gives what the general (eth-abi) decoder gives, for every event of the token's ABI."""

from __future__ import annotations

import random
from typing import Any

from eth_abi import encode
from eth_utils.address import to_checksum_address

from pkr_pilot.contracts import decode_log
from pkr_pilot.contracts._abi import _event_topic
from pkr_pilot.contracts._events import _decode_log_abi, _decode_words


def _value(typ: str, rng: random.Random) -> Any:
    if typ == "address":
        return to_checksum_address(bytes(rng.randrange(256) for _ in range(20)))
    if typ.startswith("uint"):
        return rng.randrange(2 ** int(typ[4:]))
    if typ.startswith("int"):
        bits = int(typ[3:])
        return rng.randrange(-(2 ** (bits - 1)), 2 ** (bits - 1))
    if typ == "bool":
        return rng.random() < 0.5
    if typ.startswith("bytes") and typ[5:]:
        return bytes(rng.randrange(256) for _ in range(int(typ[5:])))
    if typ == "string":
        return "v" * rng.randrange(0, 70)
    if typ == "bytes":
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 70)))
    raise AssertionError(typ)


def _log(item: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    indexed = [i for i in item["inputs"] if i.get("indexed")]
    plain = [i for i in item["inputs"] if not i.get("indexed")]
    topics = ["0x" + _event_topic(item).hex()] + [
        "0x" + encode([i["type"]], [values[i["name"]]]).hex() for i in indexed
    ]
    data = encode([i["type"] for i in plain], [values[i["name"]] for i in plain])
    return {"address": "0x" + "ab" * 20, "topics": topics, "data": "0x" + data.hex(), "blockNumber": "0x10",
            "transactionHash": "0x" + "cd" * 32, "logIndex": "0x3", "blockHash": "0x" + "ef" * 32,
            "transactionIndex": "0x0"}


def test_every_token_event_decodes_alike(compiled: Any) -> None:
    abi = compiled.artifacts["PilotRupee"].abi
    events = [i for i in abi if i.get("type") == "event" and not i.get("anonymous")]
    fast_shapes = 0
    rng = random.Random(5)  # noqa: S311
    for item in events:
        for _ in range(5):
            values = {i["name"]: _value(i["type"], rng) for i in item["inputs"]}
            log = _log(item, values)
            ours = decode_log(item, log)
            theirs = _decode_log_abi(item, log)
            assert ours == theirs, item["name"]
        fast_shapes += _decode_words(item, [bytes(32)] * (1 + sum(1 for i in item["inputs"] if i.get("indexed"))),
                                     bytes(32 * sum(1 for i in item["inputs"] if not i.get("indexed")))) is not None
    assert fast_shapes >= len(events) - 3  # every one-word event takes the fast path


def test_a_log_that_does_not_fit_the_words_goes_to_the_general_decoder() -> None:
    item = {"type": "event", "name": "T", "inputs": [{"name": "a", "type": "address", "indexed": True}]}
    dirty = b"\x01" + bytes(31)  # high bytes set: not an address word
    assert _decode_words(item, [bytes(32), dirty], b"") is None
    assert _decode_words(item, [bytes(32)], b"") is None  # a topic missing
