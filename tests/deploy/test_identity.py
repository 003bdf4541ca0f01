"""A deployments folder is bound to its chain (chain id + genesis hash); one chain, one stack unless asked.

The case from issue 10: `deploy --network http://127.0.0.1:8545` against the node already deployed as
`localhost` used to deploy a second stack silently. Now the URL is recognised as the same chain and
the recorded folder is used; a second *named* network reaching the same chain is refused with the
folder to use; `--new-stack` deploys a second stack on purpose.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from deploy_env import chain_for, dev
from test_cli import pkr

from pkr_pilot.chain.identity import ChainIdentity, read_identity
from pkr_pilot.deploy import RecordStore, run_deploy
from pkr_pilot.errors import DeploymentError
from pkr_pilot.tx import TxPolicy

POLICY = TxPolicy(timeout=20, poll_interval=0.02)


def _networks_file(tmp_path: Path, url: str, *names: str) -> Path:
    path = tmp_path / "networks.toml"
    path.write_text("".join(f'[networks.{n}]\nurl = "{url}"\nchain_id = 31337\n\n' for n in names))
    return path


def test_identity_is_chain_id_and_genesis_hash(anvil: Any) -> None:
    node = anvil()
    identity = read_identity(node.w3)
    assert identity.chain_id == 31337
    assert identity.genesis_hash == "0x" + bytes(node.w3.eth.get_block(0)["hash"]).hex()
    assert ChainIdentity.from_json(identity.to_json()) == identity
    time.sleep(1.1)  # anvil's genesis block carries its start second
    assert read_identity(anvil().w3) != identity  # a fresh dev chain: same id, another genesis


def test_a_url_reaching_a_chain_recorded_under_another_name_uses_that_folder(
    deployed: Any, project: Any, compiled: Any, tmp_path: Path
) -> None:
    node, folder, _result = deployed
    named = tmp_path / "localhost"
    folder.rename(named)
    sent_before = node.w3.eth.get_transaction_count(dev(0).address)
    # chain_for(): network = the node's URL, not a configured name
    result = run_deploy(chain_for(node, project), dev(0), project, deployments_dir=tmp_path / "127.0.0.1_8545",
                        compiled=compiled, policy=POLICY)
    assert result.transactions_sent == 0 and result.up_to_date
    assert result.deployment.network == "localhost"
    assert any("already deployed as deployments/localhost" in n for n in result.notices)
    assert node.w3.eth.get_transaction_count(dev(0).address) == sent_before
    assert not (tmp_path / "127.0.0.1_8545").exists()


def test_a_second_named_network_on_the_same_chain_is_refused_naming_the_folder(
    deployed: Any, project: Any, compiled: Any, tmp_path: Path
) -> None:
    node, _folder, _result = deployed
    import dataclasses

    chain = dataclasses.replace(chain_for(node, project), network=project.network("localhost"))
    with pytest.raises(DeploymentError, match=r"already holds a stack recorded in deployments/dep") as info:
        run_deploy(chain, dev(0), project, deployments_dir=tmp_path / "localhost", compiled=compiled, policy=POLICY)
    assert "--network dep" in (info.value.hint or "") and "--new-stack" in (info.value.hint or "")
    assert not RecordStore(tmp_path / "localhost", "localhost").has_contents()


def test_new_stack_deploys_a_second_stack_on_purpose(deployed: Any, project: Any, compiled: Any, tmp_path: Path) -> None:
    node, folder, first = deployed
    second = run_deploy(chain_for(node, project), dev(0), project, deployments_dir=tmp_path / "second",
                        compiled=compiled, policy=POLICY, new_stack=True)
    assert second.transactions_sent == 26
    assert set(second.deployment.addresses().values()).isdisjoint(first.deployment.addresses().values())
    bound = {json.loads((f / ".chain.json").read_text())["genesisHash"] for f in (folder, tmp_path / "second")}
    assert len(bound) == 1  # both folders bound to the same chain


def test_cli_url_after_named_deploy_uses_the_named_folder_and_sends_nothing(anvil: Any, project: Any, compiled: Any, tmp_path: Path) -> None:
    node = anvil()
    env = {"PKR_PILOT_NETWORKS": str(_networks_file(tmp_path, node.url, "pilotnode", "othername"))}
    first = pkr(project, "deploy", "--network", "pilotnode", "--account", "dev:0", "--yes", env=env)
    assert first.returncode == 0, first.stderr[-2000:]
    nonce = node.w3.eth.get_transaction_count(dev(0).address)

    by_url = pkr(project, "deploy", "--network", node.url, "--account", "dev:0", "--yes", env=env)
    assert by_url.returncode == 0, by_url.stderr[-2000:]
    assert "pilotnode: up to date (nothing sent)" not in by_url.stdout  # rendered under the network the user named
    assert "up to date (nothing sent)" in by_url.stdout
    assert "already deployed as deployments/pilotnode: using that folder" in by_url.stdout + by_url.stderr
    assert node.w3.eth.get_transaction_count(dev(0).address) == nonce
    _url_reads_and_operates_through_the_named_folder(project, node, env, named=project.paths.deployments / "pilotnode")
    nonce = node.w3.eth.get_transaction_count(dev(0).address)

    other = pkr(project, "deploy", "--network", "othername", "--account", "dev:0", "--yes", env=env)
    assert other.returncode != 0 and "Traceback" not in other.stderr
    assert "already holds a stack recorded in deployments/pilotnode" in other.stderr
    assert "--new-stack" in other.stderr
    assert node.w3.eth.get_transaction_count(dev(0).address) == nonce

    again = pkr(project, "deploy", "--network", "othername", "--account", "dev:0", "--yes", "--new-stack", "--json", env=env)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["transactions"] == 26

    # Two stacks on the chain now: a URL no longer says which one, and a reader refuses naming both.
    reads = pkr(project, "balance", dev(12).address, "--network", node.url, env=env)
    assert reads.returncode == 7 and "Traceback" not in reads.stderr
    assert "deployments/othername" in reads.stderr and "deployments/pilotnode" in reads.stderr


def _url_reads_and_operates_through_the_named_folder(project: Any, node: Any, env: dict[str, str], *, named: Path) -> None:
    """ops, verify, events export and reconcile given the node's URL find deployments/<name> by chain identity."""
    by_url = project.paths.deployments / project.network(node.url).deployments_name
    mint = pkr(project, "mint", "--to", dev(12).address, "--amount", "5.00", "--ref", "URL-1",
               "--network", node.url, "--account", "dev:8", "--yes", "--json", env=env)
    assert mint.returncode == 0, mint.stderr[-2000:]
    assert json.loads(mint.stdout)["status"] == "confirmed"
    assert f"already deployed as deployments/{named.name}: using that folder" in mint.stderr
    assert [json.loads(line)["status"] for line in (named / "operations.jsonl").read_text().splitlines()][-1] == "confirmed"
    again = pkr(project, "mint", "--to", dev(12).address, "--amount", "5.00", "--ref", "URL-1",
                "--network", named.name, "--account", "dev:8", "--yes", "--json", env=env)
    assert json.loads(again.stdout)["status"] == "already-done"  # the named network sees the URL's operation
    balance = pkr(project, "balance", dev(12).address, "--network", node.url, "--json", env=env)
    assert balance.returncode == 0, balance.stderr[-2000:]
    assert json.loads(balance.stdout)["balance"] == "500"  # 5.00 PKRP in base units, minted once
    for reader in (("verify",), ("reconcile",), ("events", "export", "--format", "json")):
        run = pkr(project, *reader, "--network", node.url, env=env)
        assert run.returncode == 0, (reader, run.stdout[-1500:], run.stderr[-1500:])
    assert not by_url.exists()  # nothing was recorded under the URL's own name
