"""The simulator (``pkr-pilot simulate``, the tests' tiny scenario) through the proxy's faults, as a user runs it.

A run either completes with its reconciliation clean (no unexpected failure, the model matches the chain),
or stops with an error naming what is undecided, and no traceback. Marked ``slow``: ``make drills`` only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from drill_rig import Rig
from faultproxy import DropResponse, Fault, HttpError, NullReceipts
from test_simulate import TINY  # the scenario with every flow on the fewest wallets

pytestmark = pytest.mark.slow

FAULTS: dict[str, Callable[[], Fault]] = {
    "null-receipts-and-transactions": lambda: NullReceipts(skip=40, times=30, transactions=True),
    "dropped-response": lambda: DropResponse(skip=20),
    "http-503": lambda: HttpError(status=503, methods=("eth_sendRawTransaction", "eth_getTransactionReceipt"),
                                  skip=30, times=3),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_the_simulator_through_a_fault_reconciles_or_stops_cleanly(rig: Rig, tmp_path: Path, fault: str) -> None:
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY)
    rig.proxy.add(FAULTS[fault]())
    run = rig.pkr("simulate", str(scenario), "--network", rig.network, "--out", str(tmp_path / "out"), "--json")
    assert sum(rig.proxy.injected.values()) > 0, "the fault never fired"
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    if run.returncode != 0:  # stopped (--json: the error is the JSON on stdout): it must name what is undecided
        error = json.loads(run.stdout)["error"]
        assert "refused" not in error and ("undecided" in error or "not yet confirmed" in error), error
        return
    summary = json.loads(run.stdout)
    figures = summary["figures"]
    assert figures["failures"]["unexpected_total"] == 0, figures["failures"]
    assert summary["reconcile"]["ok"] and figures["model_matches_chain"]
