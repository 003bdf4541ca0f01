"""A clean machine: the demo writes nothing outside the checkout (no ~/.foundry, ~/.cache, ~/.config).

The demo compiles (cache), runs a managed anvil (its spilled states go to .pkr-pilot/anvil-cache),
operates, reconciles and runs the small scenario with its matplotlib charts (MPLCONFIGDIR in
.pkr-pilot/matplotlib), all with an empty HOME that must stay empty.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_leaves_an_empty_home_empty(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PKR_PILOT_", "XDG_", "MPLCONFIGDIR", "COV_", "COVERAGE_"))}
    env.update({"HOME": str(home), "PYTHONPATH": str(ROOT / "src")})

    run = subprocess.run([sys.executable, "scripts/demo.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300, check=False)

    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "demo finished" in run.stdout
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*")) == []
