"""``ape run deploy|simulate`` from scripts/, on Ape's network selection, sharing the toolkit's records.

A stack deployed with ``ape run deploy`` is the toolkit's too (verify, an operation, reconcile),
and a stack deployed with ``pkr-pilot deploy`` is "up to date" for ``ape run deploy``: the
records are the same ``deployments/<network>/`` files whichever way deployed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pkr_pilot.accounts import dev_address
from pkr_pilot.chain import AnvilNode, AnvilOptions
from pkr_pilot.config import load_project

pytestmark = pytest.mark.ape_native

ROOT = Path(__file__).resolve().parents[2]
APE = Path(sys.executable).parent / "ape"


def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    return subprocess.run(
        [str(c) for c in command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def ape_run(*args: str) -> subprocess.CompletedProcess[str]:
    return run(APE, "run", *args)


def pkr(*args: str) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "pkr_pilot", *args)


@pytest.fixture
def node_url() -> Iterator[str]:
    """A fresh anvil reached by URL (what both `--network URL` spellings name); its records removed after."""
    project = load_project(ROOT)
    with AnvilNode.for_project(project, AnvilOptions(), log=False) as node:
        records = project.paths.network_deployments(project.network(node.url).deployments_name)
        try:
            yield node.url
        finally:
            shutil.rmtree(records, ignore_errors=True)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_ape_run_deploy_is_the_toolkits_stack(node_url: str) -> None:
    out = _ok(ape_run("deploy", "--network", node_url, "--account", "TEST::0"))
    assert "26 transactions" in out and "PilotRupee: 0x" in out
    assert "verified" in _ok(pkr("verify", "--network", node_url)).lower()
    _ok(pkr("mint", "--network", node_url, "--account", "dev:8", "--to", dev_address(12),
            "--amount", "1,000.00", "--ref", "APE-RUN-1", "--yes"))  # fmt: skip
    _ok(pkr("reconcile", "--network", node_url))
    assert _ok(pkr("deploy", "--network", node_url, "--account", "dev:0", "--yes")).count("up to date") == 1


def test_a_toolkit_deploy_is_up_to_date_for_ape_run(node_url: str) -> None:
    _ok(run(sys.executable, "scripts/deploy.py", "--network", node_url, "--account", "dev:0"))
    out = _ok(ape_run("deploy", "--network", node_url, "--account", "TEST::0"))
    assert "up to date" in out.splitlines()


def test_ape_run_simulate_runs_a_scenario_on_apes_network(node_url: str, tmp_path: Path) -> None:
    small = (ROOT / "scripts/scenarios/small.toml").read_text()
    tiny = small.replace("citizens = 20", "citizens = 4").replace("p2p = 7.0", "p2p = 1.0")
    assert tiny != small
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(tiny)
    out = tmp_path / "report"
    result = _ok(ape_run("simulate", str(scenario), "--network", node_url, "--out", str(out)))
    assert (out / "index.html").is_file(), result
    assert (out / "summary.json").is_file()


def test_ape_run_demo_runs_on_apes_network(node_url: str) -> None:
    out = _ok(ape_run("demo", "--network", node_url))
    assert f"local node: rpc at {node_url}" in out
    assert "reconcile: the books balance" in out and "demo finished" in out


def test_ape_run_reports_a_user_error_without_a_traceback(node_url: str) -> None:
    result = ape_run("deploy", "--network", node_url, "--account", "TEST::0", "--config", "deploy/missing.toml")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "missing.toml" in result.stderr
