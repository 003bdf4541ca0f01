"""The pilot scenario simulator: many participants, a seeded run, a report folder with charts.

::

    from pkr_pilot.config import load_project
    from pkr_pilot.sim import load_scenario, simulate

    project = load_project()
    result = simulate(project, load_scenario(Path("scripts/scenarios/small.toml")), seed=7)
    result.out_dir                      # reports/small-7/ : summary.json, events.csv, charts, index.html
    result.summary["figures"]["final_supply"]
    result.ok                           # books reconcile, no unexpected failure, model == chain

* :func:`simulate` connects (a throw-away anvil by default; ``state_in`` starts it from a saved
  state), runs the scenario (:class:`~.runner.Runner`), writes the report (:mod:`.report`) and can
  save the final chain state (``state_out``) to re-run experiments from it.
* :mod:`.scenario` documents the scenario TOML schema; :mod:`.participants` derives every wallet's
  key from the seed in memory (nothing is written or printed).

Errors: :class:`~pkr_pilot.errors.UserInputError` for a bad scenario or option, the chain and
deploy errors of the layers below for anything else. Planned reverts are not errors: they are counted
as expected failures in the summary.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserInputError
from .runner import Failure, Progress, Runner, RunOutcome
from .scenario import SCENARIO_SCHEMA_VERSION, Scenario, load_scenario, parse_scenario

if TYPE_CHECKING:
    from ..config import Project
    from ..reports.reconcile import ReconcileReport
    from ..tx import TxSigner
    from .report import ReportFiles

__all__ = [
    "SCENARIO_SCHEMA_VERSION",
    "Failure",
    "Progress",
    "RunOutcome",
    "Runner",
    "Scenario",
    "SimResult",
    "default_out_dir",
    "load_scenario",
    "parse_scenario",
    "run_scenario_file",
    "simulate",
]


@dataclass(frozen=True)
class SimResult:
    """A finished run: where its report is and what it says."""

    out_dir: Path
    summary: Mapping[str, Any]
    reconcile: ReconcileReport
    files: ReportFiles
    state_out: Path | None = None

    @property
    def unexpected_failures(self) -> int:
        return int(self.summary["figures"]["failures"]["unexpected_total"])

    @property
    def ok(self) -> bool:
        """The books reconcile, nothing failed that the scenario did not plan, and model == chain."""
        return self.reconcile.ok and self.unexpected_failures == 0 and bool(self.summary["figures"]["model_matches_chain"])


def default_out_dir(project: Project, scenario: Scenario, seed: int) -> Path:
    """``reports/<scenario>-<seed>/`` under the project root."""
    return project.paths.root / "reports" / f"{scenario.name}-{seed}"


def simulate(
    project: Project,
    scenario: Scenario,
    *,
    network: str = "local",
    seed: int | None = None,
    out_dir: Path | None = None,
    state_in: Path | None = None,
    state_out: Path | None = None,
    funder: Callable[[int], TxSigner] | None = None,
    progress: Callable[[Progress], None] | None = None,
    compiled: Any = None,
    node_args: tuple[str, ...] = (),
) -> SimResult:
    """Run ``scenario`` and write its report folder (see the module docstring).

    ``network``: ``local`` (a managed, throw-away anvil) or any configured name or URL. ``state_in``
    starts the managed anvil from a state saved by ``state_out`` (or ``pkr-pilot node --state``); the
    file itself is not modified. ``funder(chain_id)`` gives the account that pays participants' gas
    (default: ``dev:0`` on a dev chain). ``node_args`` go to the managed anvil's command line:
    ``("--prune-history", "8")`` keeps its memory bounded on long runs (the reconcile check that
    reads balances at old blocks then reports *skipped*).
    """
    from ..chain import connect
    from ..reports.charts import require_charts, use_config_dir
    from .report import write_report, write_summary_and_index

    use_config_dir(project.paths.state / "matplotlib")
    require_charts()  # before the run, not after it
    run_seed = scenario.seed if seed is None else seed
    if run_seed < 0:
        raise UserInputError(f"seed {run_seed} is negative")
    folder = out_dir if out_dir is not None else default_out_dir(project, scenario, run_seed)
    folder.mkdir(parents=True, exist_ok=True)
    net = project.network(network)
    started_wall = _dt.datetime.now(_dt.UTC)
    started = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="pkr-sim-") as scratch:
        state_file = None
        state_sha = None
        if state_in is not None:
            if net.backend != "anvil":
                raise UserInputError(
                    f"--state-in needs the managed node; network {net.name!r} is {net.backend}",
                    hint="use --network local, or start the node yourself: pkr-pilot node --state FILE",
                )
            try:
                data = state_in.read_bytes()
            except OSError as exc:
                raise UserInputError(f"cannot read state file {state_in}: {exc.strerror or exc}") from None
            state_sha = hashlib.sha256(data).hexdigest()
            state_file = Path(scratch) / "state.json"  # anvil dumps into it on exit: keep the input intact
            shutil.copyfile(state_in, state_file)
        if node_args and net.backend != "anvil":
            raise UserInputError(f"node arguments need the managed node; network {net.name!r} is {net.backend}")
        with connect(project, net, state_file=state_file, log=False, node_args=node_args) as chain:
            signer = funder(chain.chain_id) if funder is not None else _dev_funder(chain.chain_id, chain.is_dev)
            runner = Runner(chain, project, scenario, seed=run_seed, out_dir=folder, funder=signer,
                            compiled=compiled, progress=progress, event_cache=Path(scratch) / "event-cache")
            outcome = runner.run()
            if progress is not None:
                progress(Progress(scenario.steps, scenario.steps, "report", "writing the report"))
            report_started = time.perf_counter()
            wall: dict[str, Any] = {
                "started_at": started_wall.isoformat(timespec="seconds").replace("+00:00", "Z"),
                **{k: round(v, 3) for k, v in outcome.timings.items()},
            }
            summary, reconciled, files = write_report(
                outcome, scenario, seed=run_seed, out_dir=folder, network=net.name, chain_id=chain.chain_id,
                wall_clock=wall, state_in_sha256=state_sha,
            )
            if state_out is not None:
                chain.save_state(state_out)
            node_peak = node_peak_rss_mib(chain.node.pid if chain.node is not None else None)
            elapsed = time.perf_counter() - started
            wall.update(
                report_seconds=round(time.perf_counter() - report_started, 3),
                finished_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                wall_seconds=round(elapsed, 3),
                transactions_per_second=round(summary["chain"]["transactions"] / elapsed, 1) if elapsed else None,
                peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                node_peak_rss_mib=node_peak,
                load_average=[round(x, 2) for x in os.getloadavg()],
                state_out=str(state_out) if state_out is not None else None,
            )
            summary["wall_clock"] = wall
            write_summary_and_index(files, summary, reconciled)
    return SimResult(folder, summary, reconciled, files, state_out)


def run_scenario_file(project: Project, path: Path, **options: Any) -> SimResult:
    """:func:`simulate` the scenario in the TOML file ``path`` (same keyword options)."""
    return simulate(project, load_scenario(path), **options)


def node_peak_rss_mib(pid: int | None) -> float | None:
    """The peak resident memory of process ``pid`` (the managed anvil) in MiB, from Linux's
    ``/proc/<pid>/status`` (``VmHWM``); None elsewhere or for a node we did not start."""
    if pid is None:
        return None
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def _dev_funder(chain_id: int, is_dev: bool) -> TxSigner:
    from ..accounts import dev_account

    if not is_dev:
        raise UserInputError(
            f"chain {chain_id} is not a local dev chain: name an account to pay participants' gas",
            hint="pass --funder keystore:NAME",
        )
    return dev_account(0, chain_id=chain_id)
