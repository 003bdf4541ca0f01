#!/usr/bin/env python3
"""Run a pilot scenario and print where its report is: a thin wrapper over ``pkr-pilot simulate``.

    .venv/bin/python scripts/simulate.py scripts/scenarios/small.toml [--seed 7] [--out DIR] [--json]

Every option of ``pkr-pilot simulate`` is accepted (``--help`` lists them). To script a run in
Python instead, copy this::

    from pkr_pilot.config import load_project
    from pkr_pilot.sim import load_scenario, simulate

    result = simulate(load_project(), load_scenario(Path("scripts/scenarios/small.toml")), seed=7)
    print(result.files.index, result.ok)
"""

from __future__ import annotations

import sys

from pkr_pilot.cli import main

if __name__ == "__main__":
    sys.exit(main(["simulate", *sys.argv[1:]]))
