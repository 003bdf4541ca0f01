#!/usr/bin/env python3
"""Run a pilot scenario and print where its report is: a thin wrapper over ``pkr-pilot simulate``.

    .venv/bin/python scripts/simulate.py scripts/scenarios/small.toml [--seed 7] [--out DIR] [--json]
    ape run simulate small --network ethereum:local:foundry     # a scenario name or file, Ape's node

Every option of ``pkr-pilot simulate`` is accepted (``--help`` lists them). To script a run in
Python instead, copy this::

    from pkr_pilot.config import load_project
    from pkr_pilot.sim import load_scenario, simulate

    result = simulate(load_project(), load_scenario(Path("scripts/scenarios/small.toml")), seed=7)
    print(result.files.index, result.ok)
"""

from __future__ import annotations

import sys
from pathlib import Path

from pkr_pilot.cli import main

SCENARIOS = Path(__file__).resolve().parent / "scenarios"

if "ape" in sys.modules:  # `ape run simulate SCENARIO`: on the node of Ape's --network
    import click
    from ape.cli import ConnectedProviderCommand

    from pkr_pilot.ape_bridge import network_for, run_script
    from pkr_pilot.config import load_project

    @click.command(cls=ConnectedProviderCommand, short_help="Run a pilot scenario")
    @click.argument("scenario")
    @click.option("--seed", type=int, help="seed of the run (default: the scenario's)")
    @click.option("--out", type=click.Path(path_type=Path), help="report folder (default: reports/<scenario>-<seed>/)")
    def cli(provider: object, scenario: str, seed: int | None, out: Path | None) -> None:
        path = SCENARIOS / f"{scenario}.toml" if (SCENARIOS / f"{scenario}.toml").is_file() else Path(scenario)
        extra = [*(["--seed", str(seed)] if seed is not None else []), *(["--out", str(out)] if out else [])]
        run_script(lambda: main(["simulate", str(path), "--network", network_for(load_project(), provider), *extra]))


if __name__ == "__main__":
    sys.exit(main(["simulate", *sys.argv[1:]]))
