"""The drill rig: one anvil (AnvilNode, restartable from its state file) behind one FaultProxy, and the CLI.

Its own module (not conftest) so test modules can import it whatever other conftest is loaded.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faultproxy import FaultProxy

from pkr_pilot.chain import AnvilNode
from pkr_pilot.config import Project

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Rig:
    """One anvil (restartable from its state file) behind one fault proxy, and the CLI aimed at it."""

    project: Project
    node: AnvilNode
    proxy: FaultProxy
    networks: Path
    network: str

    @property
    def folder(self) -> Path:
        return self.project.paths.deployments / self.network

    def pkr(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*args), env=self.env(), capture_output=True, text=True, timeout=timeout, check=False)

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "pkr_pilot", *args]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PKR_PILOT_")}
        env.update({"PKR_PILOT_ROOT": str(self.project.paths.root), "PKR_PILOT_NETWORKS": str(self.networks),
                    "PYTHONPATH": str(ROOT / "src")})
        return env

    def w3(self) -> Any:
        from web3 import Web3

        return Web3(Web3.HTTPProvider(self.node.url, request_kwargs={"timeout": 30}))  # straight to the node
