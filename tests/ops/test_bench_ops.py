"""``pkr-pilot bench ops``: N operations through one Operator and journal, timed per tenth."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pkr_pilot.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_bench_ops_runs_every_operation_and_reports_each_tenth() -> None:
    runner = CliRunner(mix_stderr=False)
    with runner.isolation(env={"PKR_PILOT_ROOT": str(ROOT)}) as (out, err):
        code = main(["bench", "ops", "--action", "mint", "--count", "10", "--cache", "--json"])
        assert code == 0, err.getvalue().decode()
        report = json.loads(out.getvalue().decode())
    assert (report["action"], report["count"], report["cache"], report["chunk"]) == ("mint", 10, True, 1)
    assert len(report["chunks_s"]) == 10
    assert sum(report["chunks_s"]) <= report["total_s"] + 0.1
    assert report["ops_per_s"] > 0
    assert report["journal_lines"] >= 10  # at least one line per operation
    assert report["blocks"] >= 10  # one transaction each, after the deployment's
