"""The scale benchmark: the same mix of work at several wallet counts, each on a fresh node.

::

    bench = run_scale_bench(project, [1_000, 10_000, 100_000])
    bench.points[0].seconds_per_tx          # wall seconds per mined transaction
    bench.ratio                             # largest point's seconds_per_tx / the smallest's
    bench.to_json()                         # {"points": [{wallets, transactions, seconds, ...}]}

Each point is one run of the simulator (:func:`pkr_pilot.sim.simulate`) in a child Python process
(so its peak memory is its own) on a fresh throw-away anvil, of the scenario :func:`scale_scenario`
builds for that many wallets: 2 % merchants, a bank per 5,000 wallets (2..50), the rest citizens in
three tiers with limits on; setup (gas by ``anvil_setBalance``, deployment, KYC multicalls, every
wallet's opening payout), then four one-hour steps of person-to-person and merchant payments
(5 % of the wallets per step), deposits, redemptions and a court-ordered freeze and seizure, then
the report (events export, reconcile, charts). ``seconds`` is that whole run's wall time and
``transactions`` every transaction it mined, so ``seconds_per_tx`` is flat when every part of the
run costs the same per transaction at every size (the goal: the largest point within 2x of the
smallest). ``peak_rss_mib`` is the Python process's peak resident memory, ``node_rss_mib`` anvil's
(``VmHWM``); ``load_average`` is the machine's when the point finished (others' load slows it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ChainError, UserInputError

if TYPE_CHECKING:
    from ..config import Project
    from ..sim.scenario import Scenario

__all__ = ["GOAL_RATIO", "SCALE_SCHEMA", "ScaleBench", "ScalePoint", "run_point", "run_scale_bench", "scale_scenario"]

SCALE_SCHEMA = "pkr-pilot.bench-scale"
#: seconds_per_tx of the largest point may be at most this multiple of the smallest point's.
GOAL_RATIO = 2.0
#: Fewest wallets a point can have (a central bank, a court, two banks, a merchant, two citizens).
MIN_WALLETS = 7
#: States each point's anvil keeps in memory (``--prune-history``). anvil keeps a copy of the whole
#: state per recent block, by default over a hundred of them: 711 MiB at 10,000 wallets, and more than
#: 13 GiB two minutes into the 100,000-wallet setup; with 8 the 10,000-wallet point peaks at 258 MiB.
#: Reconcile's check of balances at old blocks is then reported as skipped.
PRUNE_HISTORY = 8


@dataclass(frozen=True)
class ScalePoint:
    wallets: int
    transactions: int
    seconds: float
    seconds_per_tx: float
    peak_rss_mib: float
    node_rss_mib: float | None
    payments: int
    load_average: tuple[float, float, float]
    #: anvil's ``--prune-history`` for this point (None: anvil's default history).
    prune_history: int | None = None


@dataclass(frozen=True)
class ScaleBench:
    points: tuple[ScalePoint, ...]

    @property
    def ratio(self) -> float | None:
        """seconds_per_tx of the largest point over the smallest's (None with one point)."""
        if len(self.points) < 2 or self.points[0].seconds_per_tx == 0:
            return None
        return self.points[-1].seconds_per_tx / self.points[0].seconds_per_tx

    @property
    def goal_met(self) -> bool | None:
        ratio = self.ratio
        return None if ratio is None else ratio <= GOAL_RATIO

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCALE_SCHEMA,
            "version": 1,
            "goal_ratio": GOAL_RATIO,
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "goal_met": self.goal_met,
            "points": [asdict(p) for p in self.points],
        }


def scale_scenario(wallets: int) -> Scenario:
    """The benchmark's scenario for ``wallets`` wallets (see the module docstring)."""
    from ..sim.scenario import parse_scenario

    if wallets < MIN_WALLETS:
        raise UserInputError(f"a scale point needs at least {MIN_WALLETS} wallets, not {wallets}")
    banks = max(2, min(50, wallets // 5_000))
    merchants = max(1, wallets // 50)
    citizens = wallets - 2 - banks - merchants
    per_step = max(4.0, wallets * 0.05)
    data = {
        "schema": 1,
        "name": f"scale-{wallets}",
        "description": f"Scale benchmark point: {wallets:,} wallets.",
        "seed": 1,
        "steps": 4,
        "step_seconds": 3_600,
        "token": {"decimals": 2, "limits": True, "supply_cap": "100,000,000,000.00"},
        "participants": {
            "banks": banks, "merchants": merchants, "citizens": citizens, "bank_allowance": "1,000,000,000.00",
            "gas_eth": "0.05", "gas_funding": "set_balance",
            "tiers": [
                {"tier": 1, "share": 60, "max_balance": "200,000.00", "max_daily_outflow": "20,000.00"},
                {"tier": 2, "share": 30, "max_balance": "500,000.00", "max_daily_outflow": "100,000.00"},
                {"tier": 3, "share": 10, "max_balance": "10,000,000.00", "max_daily_outflow": "1,000,000.00"},
            ],
        },
        "opening": {"citizen_deposit": ["1,000.00", "40,000.00"], "merchant_deposit": ["0.00", "20,000.00"],
                    "reserve_buffer": "500,000.00"},
        "flows": {"attestation_every": 2, "deposits": 2.0, "p2p": round(per_step * 0.6, 2),
                  "merchant_payments": round(per_step * 0.4, 2), "redemptions": 2.0},
        "compliance": {"suspicious_freezes": 0.5, "court_order_step": 1, "seize_after": 1, "frozen_attempts": 2},
    }
    return parse_scenario(data, source=f"<scale {wallets}>")


def run_point(project: Project, wallets: int, out_dir: Path, *, prune_history: int | None = PRUNE_HISTORY) -> ScalePoint:
    """One point, in this process (:func:`run_scale_bench` runs each in a child process)."""
    from ..sim import simulate

    node_args = ("--prune-history", str(prune_history)) if prune_history is not None else ()
    started = time.perf_counter()
    result = simulate(project, scale_scenario(wallets), out_dir=out_dir, node_args=node_args)
    seconds = time.perf_counter() - started
    if not result.ok:
        raise ChainError(f"the {wallets:,}-wallet scale run did not reconcile or had unexpected failures",
                         hint=f"see {out_dir / 'index.html'}")
    wall = result.summary["wall_clock"]
    transactions = int(result.summary["chain"]["transactions"])
    kinds = result.summary["figures"]["transactions_by_kind"]
    load = os.getloadavg()
    return ScalePoint(
        wallets=wallets,
        transactions=transactions,
        seconds=round(seconds, 3),
        seconds_per_tx=round(seconds / transactions, 6) if transactions else 0.0,
        peak_rss_mib=float(wall["peak_rss_mib"]),
        node_rss_mib=wall.get("node_peak_rss_mib"),
        payments=sum(int(kinds.get(k, 0)) for k in ("p2p", "merchant_payment", "redemption", "opening_payout")),
        load_average=(round(load[0], 2), round(load[1], 2), round(load[2], 2)),
        prune_history=prune_history,
    )


def run_scale_bench(
    project: Project, wallets: Sequence[int], *, progress: Callable[[str], None] | None = None,
    out_root: Path | None = None, prune_history: int | None = PRUNE_HISTORY,
) -> ScaleBench:
    """Every point of ``wallets`` (smallest first), each in its own child process and fresh node.

    Each point's report folder is ``<out_root>/<wallets>/`` (default ``reports/bench-scale/``); each
    node keeps ``prune_history`` states in memory (None: anvil's default).
    """
    say = progress or (lambda _m: None)
    sizes = sorted(set(wallets))
    for size in sizes:
        scale_scenario(size)  # refuse a bad size before the first run
    points = []
    for size in sizes:
        say(f"{size:,} wallets: running (fresh anvil, child process)")
        out_dir = (out_root or project.paths.root / "reports" / "bench-scale") / str(size)
        points.append(_child_point(project, size, out_dir, prune_history))
        p = points[-1]
        say(f"{size:,} wallets: {p.transactions:,} tx in {p.seconds:.1f} s ({p.seconds_per_tx * 1000:.2f} ms/tx)")
    return ScaleBench(tuple(points))


def _child_point(project: Project, wallets: int, out_dir: Path, prune_history: int | None) -> ScalePoint:
    command = [sys.executable, "-m", "pkr_pilot.bench.scale", str(project.paths.root), str(wallets), str(out_dir),
               "" if prune_history is None else str(prune_history)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise ChainError(f"the {wallets:,}-wallet scale point failed (exit {done.returncode})",
                         hint=" | ".join(tail) or None)
    return _point_from(json.loads(done.stdout.strip().splitlines()[-1]))


def _point_from(data: Mapping[str, Any]) -> ScalePoint:
    return ScalePoint(**{**data, "load_average": tuple(data["load_average"])})


def _main(argv: Sequence[str]) -> int:
    from ..config import load_project

    root, wallets, out_dir, prune = argv
    point = run_point(load_project(Path(root)), int(wallets), Path(out_dir), prune_history=int(prune) if prune else None)
    print(json.dumps(asdict(point)))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
