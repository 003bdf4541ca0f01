"""``pkr-pilot bench bulk`` smoke test: the figures are measured and consistent (never the goals)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pkr_pilot.cli import main

ROOT = Path(__file__).resolve().parents[2]
KEYS = ("naive_tps", "bulk_tps", "multicall_pps", "bulk_vs_naive", "multicall_vs_naive", "count")


@pytest.fixture(scope="module")
def report() -> dict[str, object]:
    runner = CliRunner(mix_stderr=False)
    with runner.isolation(env={"PKR_PILOT_ROOT": str(ROOT)}) as (out, err):
        code = main(["bench", "bulk", "--count", "12", "--batch-size", "5", "--window", "10", "--json"])
        assert code == 0, err.getvalue().decode()
        return json.loads(out.getvalue().decode())  # type: ignore[no-any-return]


def test_json_has_the_rates_and_ratios(report: dict[str, object]) -> None:
    assert all(key in report for key in KEYS)
    assert report["count"] == 12
    assert report["all_landed"] is True  # every recipient holds exactly what was sent
    assert report["goals"] == {"bulk_vs_naive": 15.0, "multicall_vs_naive": 50.0}


def test_rates_are_count_over_measured_seconds(report: dict[str, object]) -> None:
    for rate, seconds in (("naive_tps", "naive_seconds"), ("bulk_tps", "bulk_seconds"), ("multicall_pps", "multicall_seconds")):
        elapsed = float(report[seconds])  # type: ignore[arg-type]
        assert elapsed > 0
        assert float(report[rate]) == pytest.approx(12 / elapsed, rel=0.01)  # type: ignore[arg-type]
    naive = float(report["naive_tps"])  # type: ignore[arg-type]
    assert float(report["bulk_vs_naive"]) == pytest.approx(float(report["bulk_tps"]) / naive, rel=0.01)  # type: ignore[arg-type]
    assert float(report["multicall_vs_naive"]) == pytest.approx(float(report["multicall_pps"]) / naive, rel=0.01)  # type: ignore[arg-type]


def test_each_way_sent_what_it_says(report: dict[str, object]) -> None:
    assert report["bulk_transactions"] == 12  # one transaction per transfer
    assert 1 <= int(report["multicall_transactions"]) < 12  # type: ignore[call-overload]
    assert report["signing_backend"] == "coincurve"
    assert report["eth_keys_backend"] == "CoinCurveECCBackend"
    blocks = report["blocks"]
    assert isinstance(blocks, dict) and blocks["naive"] >= 12  # one block per naive transaction


def test_the_long_naive_phase_shows_its_progress_and_json_stays_quiet() -> None:
    runner = CliRunner(mix_stderr=False)
    with runner.isolation(env={"PKR_PILOT_ROOT": str(ROOT)}) as (_out, err):
        code = main(["bench", "bulk", "--count", "6", "--batch-size", "3", "--window", "6"])
        shown = err.getvalue().decode()
    assert code == 0, shown
    assert "naive: transfers 6/6 (100 %)" in shown and "done in" in shown
    assert shown.index("... naive:") < shown.index("naive: transfers 6/6") < shown.index("... bulk:")
