"""`pkr-pilot deploy` / `pkr-pilot verify` as a user runs them (a child process, the frozen project root)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from deploy_env import ROOT, dev

from pkr_pilot.contracts import Token
from pkr_pilot.tx import Sender, TxPolicy


def pkr(project: Any, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PKR_PILOT_")}
    full_env.update({"PKR_PILOT_ROOT": str(project.paths.root), "PYTHONPATH": str(ROOT / "src")})
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pkr_pilot", *args], env=full_env, capture_output=True, text=True, timeout=180, check=False
    )


def test_deploy_on_a_fresh_node_just_works_and_prints_json(anvil: Any, project: Any, compiled: Any) -> None:
    node = anvil()
    run = pkr(project, "deploy", "--network", node.url, "--account", "dev:0", "--yes", "--json")
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout)  # stdout is JSON only
    assert out["chainId"] == 31337
    token = out["contracts"]["PilotRupee"]
    assert token["address"] == "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
    assert token["implementation"] == "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    assert "MintDesk" in out["contracts"]
    assert out["transactions"] == 26
    assert "[ 1/26] deploy PilotRupee implementation: sent 0x" in run.stderr  # progress on stderr
    assert "deploying: steps" not in run.stderr  # with --json the step lines only, no count line
    folder = project.paths.deployments / out["network"]
    assert (folder / "PilotRupee.json").is_file() and (folder / ".chainId").read_text().strip() == "31337"

    again = pkr(project, "deploy", "--network", node.url, "--account", "dev:0", "--yes")
    assert again.returncode == 0
    assert "up to date (nothing sent)" in again.stdout
    assert "deploying: steps 26/26 (100 %)" in again.stderr and "done in" in again.stderr  # the one progress facility
    assert "[ 1/26]" not in again.stderr  # steps done by the earlier run are not listed again
    assert node.w3.eth.get_transaction_count(dev(0).address) == 23  # the deployer's share of the 26 (dev:1 signs 2, dev:5 one), once

    verified = pkr(project, "verify", "--network", node.url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "verified" in verified.stdout

    # a role granted behind the deploy config's back is a listed mismatch and a non-zero exit
    t = Token(node.w3, token["address"], json.loads((folder / "PilotRupee.json").read_text())["abi"])
    Sender(node.w3, dev(0), policy=TxPolicy(timeout=20)).transact(t.grant_role("SEIZER_ROLE", dev(11).address).tx())
    bad = pkr(project, "verify", "--network", node.url, "--json")
    assert bad.returncode == 7
    report = json.loads(bad.stdout)
    assert report["ok"] is False
    assert [m["subject"] for m in report["mismatches"]] == ["token SEIZER_ROLE"]
    assert dev(11).address in report["mismatches"][0]["actual"]


def test_dev_keys_are_refused_on_a_chain_that_is_not_local(anvil: Any, project: Any, tmp_path: Path) -> None:
    node = anvil(extra=("--chain-id", "2026"))
    config = tmp_path / "plain.toml"
    config.write_text('[supply]\ncap = "1000"\n')
    run = pkr(project, "deploy", "--network", node.url, "--account", "dev:0", "--yes", "--config", str(config))
    assert run.returncode == 5
    assert "dev:0" in run.stderr and "2026" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1  # one clean line, no traceback
    assert node.w3.eth.get_transaction_count(dev(0).address) == 0


def test_a_non_dev_chain_needs_a_deploy_config(anvil: Any, project: Any) -> None:
    node = anvil(extra=("--chain-id", "2026"))
    run = pkr(project, "deploy", "--network", node.url, "--account", "dev:0", "--yes")
    assert run.returncode == 2
    assert "no deploy config" in run.stderr


def test_role_keys_come_from_the_network_accounts_table(anvil: Any, project: Any, tmp_path: Path) -> None:
    """The attestor is named by address in the deploy config; its key comes from [networks.X.accounts]."""
    node = anvil()
    networks = tmp_path / "networks.toml"
    networks.write_text(
        f'[networks.drillnet]\nurl = "{node.url}"\nchain_id = 31337\n'
        '[networks.drillnet.accounts]\ndeployer = "dev:0"\nattestor = "dev:5"\n'
    )
    config = tmp_path / "deploy.toml"
    config.write_text(
        f'[admin]\ndelay = 0\n[roles]\nattestor = ["{dev(5).address}"]\n'
        '[supply]\ncap = "1,000,000"\n[attestation]\namount = "500,000"\n'
        f'report_hash = "0x{"ab" * 32}"\n'
    )
    try:
        run = pkr(project, "deploy", "--network", "drillnet", "--config", str(config), "--yes", "--json",
                  env={"PKR_PILOT_NETWORKS": str(networks)})
        assert run.returncode == 0, run.stderr[-1500:]
        assert node.w3.eth.get_transaction_count(dev(5).address) == 1  # the attestor signed the attestation
        # without the table entry the deploy stops before sending anything
        networks.write_text(f'[networks.other]\nurl = "{node.url}"\nchain_id = 31337\n')
        fresh = anvil()
        networks.write_text(f'[networks.other]\nurl = "{fresh.url}"\nchain_id = 31337\n')
        refused = pkr(project, "deploy", "--network", "other", "--account", "dev:0", "--config", str(config), "--yes",
                      env={"PKR_PILOT_NETWORKS": str(networks)})
        assert refused.returncode == 2
        assert "accounts.attestor" in refused.stderr
        assert fresh.w3.eth.get_transaction_count(dev(0).address) == 0
    finally:
        import shutil

        for name in ("drillnet", "other"):
            shutil.rmtree(project.paths.deployments / name, ignore_errors=True)
