"""Evidence scans (is this operation already on chain?) decode only the logs that can match, whatever the
history holds, and answer exactly what filtering the full history would."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from ops_env import ALICE, BOB, FREEZER, KYC, MAKER, MINTER, StackEnv, addr
from ops_helpers import YES

from pkr_pilot import ops
from pkr_pilot.contracts import REORG_MARGIN, ContractHandle, EventCache, Stack
from pkr_pilot.errors import UserInputError

OTHERS = 120


def _stranger(i: int) -> str:
    return str(to_checksum_address(keccak(text=f"stranger-{i}")[:20]))


def _ref(text: str) -> bytes:
    return text.encode().ljust(32, b"\0")


def _batch(env: StackEnv, sender: int, calls: list[Any]) -> None:
    """Many calls in one transaction through the token's multicall (one block of events)."""
    token = env.token
    tx = token.build("multicall", [c.data for c in calls]).tx()
    tx_hash = env.w3.eth.send_transaction({**tx, "from": addr(sender), "gas": 25_000_000})
    assert env.w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1


def _other_tiers(env: StackEnv) -> None:
    _batch(env, KYC, [env.token.set_tier(_stranger(i), 1, _ref(f"KYC-O{i}")) for i in range(OTHERS)])


def _other_mints(env: StackEnv) -> None:
    _batch(env, MINTER, [env.token.mint(_stranger(i), 1, _ref(f"BANK-O{i}")) for i in range(OTHERS)])


class Delta:
    """What a block of code cost in ``eth_getLogs`` requests and logs received and decoded."""

    def __init__(self, handle: ContractHandle) -> None:
        self.handle = handle

    def __enter__(self) -> Delta:
        s = self.handle.stats
        self.start = (s.requests, s.received, s.decoded)
        return self

    def __exit__(self, *exc: object) -> None:
        s = self.handle.stats
        self.requests, self.received, self.decoded = (
            now - then for now, then in zip((s.requests, s.received, s.decoded), self.start, strict=True)
        )


def test_tier_evidence_is_filtered_by_account_at_the_node(env: StackEnv, operator_for, tmp_path):
    _other_tiers(env)

    with Delta(env.token) as first:
        result = ops.set_tier(operator_for(KYC), addr(ALICE), 2, ref="KYC-ALICE", options=YES)
    (tmp_path / "operations.jsonl").unlink()  # lost journal: only the chain can tell
    with Delta(env.token) as again:
        rerun = ops.set_tier(operator_for(KYC), addr(ALICE), 2, ref="KYC-ALICE", options=YES)

    assert result.status == "confirmed" and (first.received, first.decoded) == (0, 0)
    assert rerun.status == "already-done" and rerun.tx_hash == result.tx_hash
    assert (again.received, again.decoded) == (1, 1)


def test_mint_evidence_decodes_only_the_logs_carrying_the_ref(env: StackEnv, operator_for, tmp_path):
    _other_mints(env)

    with Delta(env.token) as first:
        result = ops.mint(operator_for(MINTER), addr(ALICE), "5", ref="BANK-NEW", options=YES)
    (tmp_path / "operations.jsonl").unlink()
    with Delta(env.token) as again:
        rerun = ops.mint(operator_for(MINTER), addr(ALICE), "5", ref="BANK-NEW", options=YES)

    # The ref is an indexed topic of Minted: the node returns no other mint's log (a ref mints once,
    # whoever received it, so the query is never narrowed to the recipient) ...
    assert result.status == "confirmed" and (first.received, first.decoded) == (0, 0)
    # ... and only the one carrying the ref on the rerun.
    assert rerun.status == "already-done" and rerun.tx_hash == result.tx_hash
    assert (again.received, again.decoded) == (1, 1)


def test_a_ref_minted_to_another_recipient_is_refused_without_the_journal(env: StackEnv, operator_for, tmp_path):
    ops.mint(operator_for(MINTER), addr(ALICE), "5", ref="BANK-TWICE", options=YES)
    (tmp_path / "operations.jsonl").unlink()
    before = env.nonce(MINTER)

    with pytest.raises(UserInputError, match=rf"already minted: 5\.00 PKRP minted to {addr(ALICE)}"):
        ops.mint(operator_for(MINTER), addr(BOB), "5", ref="BANK-TWICE", options=YES)

    assert env.nonce(MINTER) == before


def test_freeze_amount_evidence_narrows_on_account_amount_and_ref(env: StackEnv, operator_for, tmp_path):
    freezer = operator_for(FREEZER)
    for i in range(3):  # same account, other refs and amounts: filtered out at the node
        ops.freeze_amount(freezer, addr(ALICE), str(i + 1), ref=f"CASE-{i}", options=YES)
    (tmp_path / "operations.jsonl").unlink()

    with Delta(env.token) as scan:
        rerun = ops.freeze_amount(operator_for(FREEZER), addr(ALICE), "2", ref="CASE-1", options=YES)

    assert rerun.status == "already-done"
    # account and ref are topics: the node returns only the matching log.
    assert (scan.received, scan.decoded) == (1, 1)


def _queries(env: StackEnv) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("TierSet", {"account": addr(ALICE)}),
        ("TierSet", {"account": _stranger(3), "ref": _ref("KYC-O3")}),
        ("TierSet", {"account": _stranger(3), "ref": _ref("KYC-O4")}),
        ("TierSet", {"tier": 1}),
        ("Minted", {"ref": _ref("BANK-O7")}),
        ("Minted", {"to": addr(ALICE)}),
        ("Minted", {"minter": addr(MINTER), "amount": 1}),
        ("Minted", {"amount": 2**300}),  # cannot be a uint256: narrowed on nothing, matches nothing
        ("AmountFrozen", {"account": addr(ALICE), "amount": 200}),
        ("LimitsModeSet", {"enabled": 1}),  # 1 == True in Python: left to the decoded comparison
        ("Minted", {}),
    ]


def _cached_stack(env: StackEnv, folder) -> Stack:
    token, desk = env.stack.token, env.stack.desk
    assert desk is not None
    return Stack.build(env.w3, token=(token.address, token.abi, token.from_block),
                       desk=(desk.address, desk.abi, desk.from_block), cache=EventCache(folder))


def _expected(handle: ContractHandle, name: str, match: dict[str, Any]) -> list[Any]:
    return [e for e in handle.events((name,)) if all(e.args.get(k) == v for k, v in match.items())]


def test_find_events_answers_what_filtering_the_full_history_answers(env: StackEnv, operator_for, tmp_path):
    _other_tiers(env)
    _other_mints(env)
    ops.set_tier(operator_for(KYC), addr(ALICE), 2, ref="KYC-ALICE", options=YES)
    ops.mint(operator_for(MINTER), addr(ALICE), "5", ref="BANK-A", options=YES)
    ops.freeze_amount(operator_for(FREEZER), addr(ALICE), "2", ref="CASE-A", options=YES)
    ops.limits(operator_for(0), True, ref="LIMITS-ON", options=YES)
    env.node.rpc("anvil_mine", hex(REORG_MARGIN + 2))  # so the cache holds some, the chain the rest
    ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-B", options=YES)
    cached = _cached_stack(env, tmp_path / "cache")

    for _ in range(2):  # the first fills the cache, the second answers from its index
        for name, match in _queries(env):
            expected = _expected(env.token, name, match)
            assert env.token.find_events(name, match) == expected, (name, match)
            assert cached.token.find_events(name, match) == expected, (name, match)
    assert len(env.token.find_events("Minted", {"to": addr(ALICE)})) == 2


def test_cached_lookups_decode_only_the_recent_blocks(env: StackEnv, operator_for, tmp_path):
    _other_tiers(env)
    env.node.rpc("anvil_mine", hex(REORG_MARGIN + 2))
    cached = _cached_stack(env, tmp_path / "cache")
    cached.token.find_events("TierSet", {"account": _stranger(1)})  # fills the cache

    with Delta(cached.token) as lookup:
        found = cached.token.find_events("TierSet", {"account": _stranger(5)})

    assert [e.args["ref"] for e in found] == [_ref("KYC-O5")]
    assert lookup.decoded == 0 and lookup.received == 0


def test_desk_evidence_finds_the_request_by_its_indexed_id(env: StackEnv, operator_for, tmp_path):
    first = ops.mint_request(operator_for(MAKER), addr(ALICE), "50,000", ref="BANK-DESK", options=YES)
    (tmp_path / "operations.jsonl").unlink()
    desk = env.stack.desk
    assert desk is not None

    with Delta(desk) as scan:
        again = ops.mint_request(operator_for(MAKER), addr(ALICE), "50,000", ref="BANK-DESK", options=YES)

    assert again.status == "already-done" and again.tx_hash == first.tx_hash
    assert scan.decoded == 1


def test_an_unknown_event_or_argument_is_a_key_error(env: StackEnv):
    with pytest.raises(KeyError, match="no event 'Mintd'"):
        env.token.find_events("Mintd", {})
    with pytest.raises(KeyError, match=r"no argument\(s\) \['recipient'\]"):
        env.token.find_events("Minted", {"recipient": addr(ALICE)})


def test_a_new_process_answers_from_the_cache_file_converting_only_what_it_returns(env: StackEnv, tmp_path):
    _other_tiers(env)
    env.node.rpc("anvil_mine", hex(REORG_MARGIN + 2))
    _cached_stack(env, tmp_path / "cache").token.find_events("TierSet", {"account": _stranger(1)})
    fresh = _cached_stack(env, tmp_path / "cache")  # a new EventCache: reads the file

    found = fresh.token.find_events("TierSet", {"account": _stranger(9), "ref": _ref("KYC-O9")})
    assert fresh.token.cache is not None
    loaded = fresh.token.cache.load(fresh.token, {})  # the same snapshot (the file did not change)

    assert found == _expected(env.token, "TierSet", {"account": _stranger(9)})
    assert len(loaded) > OTHERS and loaded.converted == 1  # only the one returned was converted


def test_a_cache_file_with_a_malformed_event_is_rebuilt(env: StackEnv, tmp_path):
    _other_tiers(env)
    env.node.rpc("anvil_mine", hex(REORG_MARGIN + 2))
    cached = _cached_stack(env, tmp_path / "cache")
    cached.token.find_events("TierSet", {"account": _stranger(1)})
    path = tmp_path / "cache" / f"{cached.token.address}.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    event = next(item for item in reversed(lines) if item.get("name") == "TierSet")
    event["args"]["acount"] = event["args"].pop("account")
    path.write_text("".join(json.dumps(item) + "\n" for item in lines))

    fresh = _cached_stack(env, tmp_path / "cache")

    assert fresh.token.find_events("TierSet", {"tier": 1}) == _expected(env.token, "TierSet", {"tier": 1})
