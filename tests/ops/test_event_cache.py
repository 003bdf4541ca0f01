"""The event cache: same answers as a full scan, only new blocks scanned, dropped when the chain changed."""

from __future__ import annotations

import json

from ops_env import ALICE, FREEZER, MINTER, StackEnv, addr
from ops_helpers import YES

from pkr_pilot import ops
from pkr_pilot.contracts import REORG_MARGIN, EventCache, Stack


def _cached_stack(env: StackEnv, folder) -> Stack:
    token = env.stack.token
    desk = env.stack.desk
    return Stack.build(
        env.w3,
        token=(token.address, token.abi, token.from_block),
        desk=(desk.address, desk.abi, desk.from_block),
        cache=EventCache(folder),
    )


def _mine(env: StackEnv, blocks: int) -> None:
    env.node.rpc("anvil_mine", hex(blocks))


class CountingLogs:
    """Counts the blocks asked for by eth_getLogs (at the transport: every log request goes through it)."""

    def __init__(self, env: StackEnv, monkeypatch) -> None:
        from pkr_pilot.transport import HttpTransport

        self.blocks = 0
        self.requests = 0
        original = HttpTransport.call

        def counting(transport, method, params=(), **kw):
            if method == "eth_getLogs":
                self.requests += 1
                self.blocks += _int(params[0]["toBlock"]) - _int(params[0]["fromBlock"]) + 1
            return original(transport, method, params, **kw)

        monkeypatch.setattr(HttpTransport, "call", counting)


def _int(value) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def test_cached_reads_equal_full_scans(env: StackEnv, operator_for, tmp_path):
    for i in range(3):
        ops.mint(operator_for(MINTER), addr(ALICE), "1", ref=f"BANK-EC-{i}", options=YES)
    ops.freeze_amount(operator_for(FREEZER), addr(ALICE), "1", ref="CASE-EC", options=YES)
    _mine(env, REORG_MARGIN + 5)
    ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-EC-late", options=YES)
    cached = _cached_stack(env, tmp_path / "cache")

    for _ in range(2):  # first run fills the cache, second reads it
        assert cached.token.events(("Minted", "AmountFrozen")) == env.stack.token.events(("Minted", "AmountFrozen"))
        assert cached.token.frozen_accounts() == env.stack.token.frozen_accounts()
    lines = [json.loads(line) for line in (tmp_path / "cache" / f"{cached.token.address}.jsonl").read_text().splitlines()]
    assert lines[0]["schema"] == "pkr-pilot.event-cache" and lines[0]["v"] == 2
    assert lines[-1]["scanned_to"] == int(env.w3.eth.block_number) - REORG_MARGIN


def test_a_second_read_scans_only_the_recent_blocks(env: StackEnv, operator_for, tmp_path, monkeypatch):
    ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-EC-1", options=YES)
    _mine(env, 500)
    cached = _cached_stack(env, tmp_path / "cache")
    cached.token.events(("Minted",))
    counter = CountingLogs(env, monkeypatch)

    cached.token.events(("Minted",))

    assert 1 <= counter.requests and counter.blocks <= REORG_MARGIN + 1


def test_a_cache_from_a_replaced_chain_is_dropped(env: StackEnv, operator_for, tmp_path):
    snap = env.node.rpc("evm_snapshot")
    ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-EC-GONE", options=YES)
    _mine(env, REORG_MARGIN + 2)
    cached = _cached_stack(env, tmp_path / "cache")
    assert any(e.args["ref"].startswith(b"BANK-EC-GONE") for e in cached.token.events(("Minted",)))

    env.node.rpc("evm_revert", snap)
    _mine(env, REORG_MARGIN + 3)  # same heights, other blocks

    assert not any(e.args["ref"].startswith(b"BANK-EC-GONE") for e in cached.token.events(("Minted",)))


def test_a_damaged_cache_file_is_rebuilt(env: StackEnv, operator_for, tmp_path):
    ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-EC-1", options=YES)
    _mine(env, REORG_MARGIN + 2)
    cached = _cached_stack(env, tmp_path / "cache")
    cached.token.events(("Minted",))
    (tmp_path / "cache" / f"{cached.token.address}.jsonl").write_text("{not json")

    assert cached.token.events(("Minted",)) == env.stack.token.events(("Minted",))


def test_a_scan_is_appended_and_a_torn_append_loses_only_itself(env: StackEnv, operator_for, tmp_path):
    """Keeping the cache current costs the new blocks, not the history: a scan appends its events and
    a checkpoint; a torn last append is dropped on reading, and the blocks it covered scanned again."""
    ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-EC-A", options=YES)
    _mine(env, REORG_MARGIN + 2)
    cached = _cached_stack(env, tmp_path / "cache")
    path = tmp_path / "cache" / f"{cached.token.address}.jsonl"
    cached.token.events(("Minted",))
    first = path.read_bytes()

    ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-EC-B", options=YES)
    _mine(env, REORG_MARGIN + 2)
    assert len(cached.token.events(("Minted",))) == len(env.stack.token.events(("Minted",)))
    grown = path.read_bytes()
    assert grown.startswith(first)  # appended, not rewritten
    added = [json.loads(line) for line in grown[len(first):].splitlines()]
    minted = [a["args"]["ref"] for a in added[:-1] if a.get("name") == "Minted"]
    assert len(minted) == 1 and minted[0].startswith("0x" + b"BANK-EC-B".hex())
    assert "scanned_to" in added[-1]

    path.write_bytes(grown[:-7])  # the last append torn: its checkpoint is lost
    fresh = _cached_stack(env, tmp_path / "cache")
    assert fresh.token.events(("Minted",)) == env.stack.token.events(("Minted",))
    # Rescanned and written whole: nothing is appended after the torn line, where no reader would see it.
    lines = path.read_text().splitlines()
    assert all(json.loads(line) for line in lines) and "scanned_to" in json.loads(lines[-1])
