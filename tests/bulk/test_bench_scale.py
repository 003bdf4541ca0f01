"""``pkr-pilot bench scale`` smoke test at a tiny size: one child run per point, figures consistent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pkr_pilot.bench.scale import ScaleBench, ScalePoint, scale_scenario
from pkr_pilot.cli import main
from pkr_pilot.errors import UserInputError

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"wallets", "transactions", "seconds", "seconds_per_tx", "peak_rss_mib", "node_rss_mib", "payments",
        "load_average", "prune_history"}


def test_one_tiny_point_runs_in_a_fresh_node_and_reports_its_figures(tmp_path: Path) -> None:
    runner = CliRunner(mix_stderr=False)
    with runner.isolation(env={"PKR_PILOT_ROOT": str(ROOT)}) as (out, err):
        code = main(["bench", "scale", "--wallets", "24", "--out", str(tmp_path), "--prune-history", "2", "--json"])
        assert code == 0, err.getvalue().decode()
        report = json.loads(out.getvalue().decode())
    assert report["schema"] == "pkr-pilot.bench-scale" and report["ratio"] is None  # one point: no ratio
    (point,) = report["points"]
    assert set(point) == KEYS and point["wallets"] == 24
    # 24 opening payouts, 24 KYC calls in a multicall, the deployment, the steps' payments …
    assert point["transactions"] > point["payments"] >= 24
    assert point["seconds_per_tx"] == pytest.approx(point["seconds"] / point["transactions"], rel=1e-3)
    assert point["peak_rss_mib"] > 0 and point["node_rss_mib"] > 0
    assert (tmp_path / "24" / "summary.json").exists()
    # The node kept two states in memory: the seizure's block is gone, so reconcile skips the one check
    # that reads balances there (and still passes).
    assert point["prune_history"] == 2
    reconcile = json.loads((tmp_path / "24" / "reconcile.json").read_text())
    assert reconcile["ok"] and [c["name"] for c in reconcile["checks"] if c["skipped"]] == ["frozen_balances_match_seizures"]


def test_the_ratio_compares_the_largest_point_with_the_smallest() -> None:
    def point(wallets: int, spt: float) -> ScalePoint:
        return ScalePoint(wallets, 100, spt * 100, spt, 1.0, 1.0, 50, (0.0, 0.0, 0.0), prune_history=8)

    bench = ScaleBench((point(1_000, 0.004), point(100_000, 0.009)))
    assert bench.ratio == pytest.approx(2.25) and bench.goal_met is False
    assert ScaleBench((point(1_000, 0.004), point(100_000, 0.007))).goal_met is True


def test_the_national_size_point_has_the_national_shape() -> None:
    s = scale_scenario(100_000)
    p = s.participants
    assert s.wallets == 100_000 and p.banks == 20 and p.merchants == 2_000 and p.gas_funding == "set_balance"
    with pytest.raises(UserInputError, match="at least 7 wallets"):
        scale_scenario(6)
