"""Participants' gas: a funding the funding account cannot pay is refused before anything is sent."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_simulate import TINY

from pkr_pilot.cli import main
from pkr_pilot.errors import UserInputError
from pkr_pilot.sim import load_scenario, parse_scenario, simulate
from pkr_pilot.sim.runner import check_funding
from pkr_pilot.sim.sending import blocks_by_gas

ETH = 10**18
FUNDER = "0x" + "ab" * 20


def test_an_affordable_funding_passes() -> None:
    check_funding(10, ETH, 10**15, 10 * ETH + 10 * 10**15, funder=FUNDER, is_dev=True)


def test_an_unaffordable_funding_is_refused_with_the_arithmetic() -> None:
    with pytest.raises(UserInputError) as raised:
        check_funding(10_448, ETH, 63 * 10**12, 10_000 * ETH, funder=FUNDER, is_dev=True)
    message, hint = raised.value.message, raised.value.hint or ""
    assert "10,448 participants x (1 ETH gas_eth + 0.000063 ETH fee) = 10,448.658224 ETH" in message
    assert "holds 10,000 ETH (448.658224 ETH short)" in message and "nothing was sent" in message
    # 10,000 ETH / 10,448 = 0.957120980091883614 ETH each, less the fee.
    assert "gas_eth to at most 0.957057980091883614 ETH" in hint
    assert 'gas_funding = "set_balance"' in hint


def test_set_balance_is_only_offered_on_a_dev_chain() -> None:
    with pytest.raises(UserInputError) as raised:
        check_funding(3, ETH, 0, ETH, funder=FUNDER, is_dev=False)
    assert "set_balance" not in (raised.value.hint or "")


def test_gas_funding_must_be_a_known_mode() -> None:
    data = _tiny_with(gas_funding="airdrop")
    with pytest.raises(UserInputError, match="gas_funding: 'airdrop' must be one of 'transfer', 'set_balance'"):
        parse_scenario(data)


class _CountingSigner:
    """The dev funder, counting what it is asked to sign."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.address = inner.address
        self.signed = 0

    def sign_transaction(self, tx: Mapping[str, Any]) -> Any:
        self.signed += 1
        return self.inner.sign_transaction(tx)

    def sign_transactions(self, txs: Sequence[Mapping[str, Any]]) -> list[bytes]:
        self.signed += len(txs)
        return list(self.inner.sign_transactions(txs))


def test_a_scenario_the_funder_cannot_pay_signs_nothing(project: Any, compiled: Any, tmp_path: Path) -> None:
    from pkr_pilot.accounts import dev_account

    scenario = parse_scenario(_tiny_with(gas_eth="2000"))  # 10 wallets x 2,000 ETH > dev:0's 10,000 ETH
    seen: list[_CountingSigner] = []

    def funder(chain_id: int) -> _CountingSigner:
        seen.append(_CountingSigner(dev_account(0, chain_id=chain_id)))
        return seen[0]

    with pytest.raises(UserInputError, match=r"10 participants x \(2,000 ETH gas_eth"):
        simulate(project, scenario, out_dir=tmp_path / "out", funder=funder, compiled=compiled)
    assert seen and seen[0].signed == 0


def test_set_balance_funds_a_scenario_without_funding_transactions(
    project: Any, compiled: Any, tmp_path: Path
) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.replace('gas_eth = "0.1"', 'gas_eth = "2000"\ngas_funding = "set_balance"'))
    result = simulate(project, load_scenario(path), out_dir=tmp_path / "out", compiled=compiled)
    assert result.ok, result.summary["figures"]["failures"]
    assert "gas_funding" not in result.summary["figures"]["transactions_by_kind"]


def _tiny_with(**participants: str) -> dict[str, Any]:
    import tomllib

    data = tomllib.loads(TINY)
    data["participants"].update(participants)
    return data


def test_a_run_on_a_history_pruning_node_with_larger_blocks_still_reconciles(project: Any, compiled: Any,
                                                                            tmp_path: Path) -> None:
    """``--prune-history``: anvil keeps few states; the books still balance (old-block reads are skipped).
    ``--block-gas-limit``: the throw-away node's blocks take what a pilot network's genesis allows."""
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    runner = CliRunner(mix_stderr=False)
    with runner.isolation(env={"PKR_PILOT_ROOT": str(project.paths.root)}) as (out, err):
        code = main(["simulate", str(path), "--out", str(tmp_path / "out"), "--prune-history", "8",
                     "--block-gas-limit", "60000000", "--json"])
        summary = json.loads(out.getvalue().decode())
    assert code == 0, (err.getvalue().decode()[-2000:], summary["figures"]["failures"])
    assert summary["reconcile"]["ok"]
    assert summary["chain"]["block_gas_limit"] == 60_000_000
    assert summary["wall_clock"]["node_peak_rss_mib"] > 0


def test_a_block_takes_as_many_transactions_as_its_gas_limit_allows_with_a_tenth_to_spare() -> None:
    def sizes(gas: list[int], limit: int) -> list[int]:
        return [len(run) for run in blocks_by_gas(gas, limit)]

    assert sizes([120_000] * 500, 30_000_000) == [225, 225, 50]  # a step's payments on anvil's default blocks
    assert sizes([120_000] * 2_250, 300_000_000) == [2_250]
    assert sizes([21_000] * 1_285, 30_000_000) == [1_285]  # gas funding
    assert sizes([2_000_000, 2_000_000], 1_000_000) == [1, 1]  # never less than one a block
    # banks' calls (200,000) ahead of payments (120,000): the block is cut by the sum of the limits
    assert sizes([200_000] * 30 + [120_000] * 2_200, 300_000_000) == [30 + 2_200]
    assert sizes([200_000] * 30 + [120_000] * 2_300, 300_000_000) == [30 + 2_200, 100]
    assert sizes([], 30_000_000) == []


def test_the_operators_look_up_refs_through_an_event_cache(project: Any, compiled: Any, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """"Was this ref already used?" is asked of the chain at every operation: without a cache, each one
    scanned the whole history (a million logs by mid-run at national scale). The cache lives in the
    run's scratch folder and leaves nothing in the report folder."""
    from pkr_pilot.contracts import EventCache

    loads: list[Path] = []
    original = EventCache.load

    def counting(cache: EventCache, handle: Any, events: Any) -> Any:
        loads.append(cache.folder)
        return original(cache, handle, events)

    monkeypatch.setattr(EventCache, "load", counting)
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    result = simulate(project, load_scenario(path), out_dir=tmp_path / "out", compiled=compiled)
    assert result.ok
    assert len(loads) >= result.summary["figures"]["transactions_by_kind"].get("freeze", 1)
    assert all(not folder.is_relative_to(tmp_path) for folder in loads)
    assert not any(p.suffix == ".jsonl" and "cache" in str(p) for p in (tmp_path / "out").rglob("*"))
