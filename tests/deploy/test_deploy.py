"""deploy_stack / run_deploy on a private anvil: the dev-default stack, records, idempotency, verify."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from deploy_env import chain_for, dev, journal_lines, stack_state

from pkr_pilot.contracts import Token
from pkr_pilot.deploy import (
    RecordStore,
    deploy_stack,
    dev_default_config,
    load_deployment,
    run_deploy,
    verify_stack,
)
from pkr_pilot.deploy.plan import role_id
from pkr_pilot.errors import ChainIdMismatch, ConfigError, DeploymentError
from pkr_pilot.tx import Sender, TxPolicy

POLICY = TxPolicy(timeout=20, poll_interval=0.02)


def _deploy(node: Any, project: Any, compiled: Any, folder: Path, config: Any = None, **kw: Any) -> Any:
    return run_deploy(chain_for(node, project), dev(0), project, config, deployments_dir=folder,
                      compiled=compiled, policy=POLICY, **kw)


def test_dev_default_deploy_assigns_every_role_to_its_dev_account(deployed: Any) -> None:
    node, _folder, result = deployed
    token = Token(node.w3, result.deployment.token.address, result.deployment.token.abi)
    expected = {
        "MINTER_ADMIN_ROLE": 1, "PAUSER_ROLE": 2, "UNPAUSER_ROLE": 2, "FREEZER_ROLE": 3, "SEIZER_ROLE": 4,
        "ATTESTOR_ROLE": 5, "BURNER_ROLE": 6, "RESCUER_ROLE": 0, "UPGRADER_ROLE": 0, "KYC_ROLE": 7,
    }
    holders = token.role_holders()
    for role, index in expected.items():
        assert holders[role] == [dev(index).address], role
    assert token.default_admin() == dev(0).address
    desk = result.deployment.mint_desk
    assert desk is not None
    assert token.minter_allowance(dev(8).address) == 100_000_000 * 100
    assert token.minter_allowance(desk.address) == 1_000_000_000 * 100
    assert token.supply_cap() == 10_000_000_000 * 100
    assert token.reserves().amount == 1_000_000_000 * 100
    assert token.is_exempt(desk.address) and token.is_exempt(dev(8).address)
    assert result.transactions_sent == 26
    # the first attestation was signed by the attestor, the minters configured by the minter admin
    assert node.w3.eth.get_transaction_count(dev(5).address) == 1
    assert node.w3.eth.get_transaction_count(dev(1).address) == 2


def test_records_follow_the_hardhat_deploy_layout(deployed: Any) -> None:
    node, folder, result = deployed
    assert (folder / ".chainId").read_text().strip() == "31337"
    bound = json.loads((folder / ".chain.json").read_text())
    assert bound["chainId"] == 31337
    assert bound["genesisHash"] == "0x" + bytes(node.w3.eth.get_block(0)["hash"]).hex()
    names = sorted(p.name for p in folder.glob("*.json") if not p.name.startswith("."))
    assert names == ["MintDesk.json", "PilotRupee.json", "PilotRupee_Implementation.json", "PilotRupee_Proxy.json"]
    token = json.loads((folder / "PilotRupee.json").read_text())
    impl = json.loads((folder / "PilotRupee_Implementation.json").read_text())
    assert token["schemaVersion"] == 1
    assert token["address"] == result.deployment.token.address
    assert token["implementation"] == impl["address"]
    assert token["execute"]["methodName"] == "initialize"
    assert token["execute"]["args"][:3] == ["Pilot Pakistani Rupee", "PKRP", 2]
    assert token["args"][0] == impl["address"]  # proxy constructor: implementation, init data
    assert any(item.get("name") == "mint" for item in token["abi"])  # the implementation's ABI
    receipt = node.w3.eth.get_transaction_receipt(token["transactionHash"])
    assert receipt["blockNumber"] == token["receipt"]["blockNumber"]
    assert token["deployer"] == dev(0).address
    assert impl["solcLongVersion"].startswith("0.8.28+commit")
    assert "namespaces" in impl["storageLayout"]
    assert "erc7201:pkrpilot.storage.PilotRupee" in impl["storageLayout"]["namespaces"]
    assert (folder / "solcInputs" / f"{impl['buildInfoId']}.json").is_file()
    assert set(token["git"]) == {"commit", "dirty"}
    assert isinstance(token["timestamp"], int)


def test_rerun_after_success_sends_nothing_and_says_up_to_date(deployed: Any, project: Any, compiled: Any) -> None:
    node, folder, first = deployed
    before = stack_state(node.w3, folder)
    files = {p: p.read_bytes() for p in folder.glob("*.json")}
    second = _deploy(node, project, compiled, folder)
    assert second.up_to_date and second.transactions_sent == 0
    assert second.deployment == first.deployment
    assert stack_state(node.w3, folder) == before
    assert {p: p.read_bytes() for p in folder.glob("*.json")} == files  # records untouched


def test_deploy_stack_returns_the_frozen_deployment_and_load_deployment_reads_it(anvil: Any, project: Any, compiled: Any) -> None:
    node = anvil()
    folder = project.paths.network_deployments("loadtest")
    try:
        deployment = deploy_stack(chain_for(node, project), dev(0), project, compiled=compiled, deployments_dir=folder, policy=POLICY)
        assert deployment.chain_id == 31337
        assert set(deployment.contracts) == {"PilotRupee", "MintDesk"}
        with pytest.raises(dataclasses.FrozenInstanceError):
            deployment.network = "x"  # type: ignore[misc]
        # load_deployment reads deployments/<network>/ of a project
        net = dataclasses.replace(project.network(node.url), name="loadtest")
        loaded = load_deployment(dataclasses.replace(project, networks={"loadtest": net}), "loadtest")
        assert loaded.contracts == deployment.contracts and loaded.network == "loadtest"
        assert loaded.token.address == RecordStore(folder, "loadtest").read("PilotRupee").address  # type: ignore[union-attr]
        assert loaded.token.implementation is not None
    finally:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def test_a_changed_config_value_runs_only_that_step(deployed: Any, project: Any, compiled: Any) -> None:
    node, folder, _result = deployed
    config = dev_default_config()
    raised = dataclasses.replace(config, supply_cap=config.supply_cap * 2)
    result = _deploy(node, project, compiled, folder, raised)
    assert result.transactions_sent == 1
    assert [o.step for o in result.outcomes if o.status == "sent"] == ["token.setSupplyCap"]


def test_folder_of_another_chain_is_refused_before_sending(anvil: Any, project: Any, compiled: Any, tmp_path: Path) -> None:
    node = anvil()
    folder = tmp_path / "dep"
    folder.mkdir()
    (folder / ".chainId").write_text("2026\n")
    with pytest.raises(ChainIdMismatch) as err:
        _deploy(node, project, compiled, folder)
    assert "2026" in str(err.value) and "31337" in str(err.value)
    assert node.w3.eth.get_transaction_count(dev(0).address) == 0
    assert not (folder / ".journal.jsonl").exists()


def test_records_of_a_reset_dev_chain_are_moved_aside(deployed: Any, anvil: Any, project: Any, compiled: Any) -> None:
    _node, folder, _result = deployed
    fresh = anvil()  # same chain id, empty chain
    result = _deploy(fresh, project, compiled, folder)
    assert result.transactions_sent == 26
    assert any("reset" in n for n in result.notices)
    assert list(folder.glob(".stale-*/PilotRupee.json"))
    assert list(folder.glob(".stale-*/.journal.*.stale.jsonl"))


def test_records_for_a_missing_chain_are_refused_on_a_non_dev_chain(deployed: Any, anvil: Any, project: Any, compiled: Any) -> None:
    _node, folder, _result = deployed
    fresh = anvil()
    chain = dataclasses.replace(chain_for(fresh, project), is_dev=False)
    with pytest.raises(DeploymentError, match=r"is bound to chain 31337/0x.* another genesis block"):
        run_deploy(chain, dev(0), project, dev_default_config(), deployments_dir=folder, compiled=compiled, policy=POLICY)
    assert fresh.w3.eth.get_transaction_count(dev(0).address) == 0


def test_dev_accounts_in_a_config_are_refused_off_dev_chains(anvil: Any, project: Any, compiled: Any, tmp_path: Path) -> None:
    node = anvil()
    chain = dataclasses.replace(chain_for(node, project), chain_id=2026, is_dev=False)
    with pytest.raises(ConfigError, match="dev:1"):
        run_deploy(chain, dev(0), project, dev_default_config(), deployments_dir=tmp_path / "d", compiled=compiled, policy=POLICY)


def test_a_step_without_a_key_for_its_role_is_refused_before_anything_is_sent(anvil: Any, project: Any, compiled: Any, tmp_path: Path) -> None:
    node = anvil()
    config = dataclasses.replace(
        dev_default_config(), roles={**dev_default_config().roles, "attestor": (dev(5).address,)}
    )
    chain = chain_for(node, project)
    # dev:5 given as a plain address: no key is derived for it automatically
    with pytest.raises(ConfigError, match="ATTESTOR_ROLE"):
        run_deploy(chain, dev(0), project, config, deployments_dir=tmp_path / "d", compiled=compiled, policy=POLICY)
    assert node.w3.eth.get_transaction_count(dev(0).address) == 0
    # with the key passed explicitly it goes through
    result = run_deploy(chain, dev(0), project, config, deployments_dir=tmp_path / "d", compiled=compiled,
                        policy=POLICY, signers=[dev(5)])
    assert result.transactions_sent == 26


def test_verify_passes_on_a_fresh_deploy(deployed: Any, project: Any, compiled: Any) -> None:
    node, folder, _result = deployed
    report = verify_stack(chain_for(node, project), project, dev_default_config(), deployments_dir=folder, compiled=compiled)
    assert report.ok, [c.describe() for c in report.mismatches]
    codes = [c for c in report.checks if c.kind == "code" and "at 0x" in c.subject]
    assert len(codes) == 3 and all(c.note == "full match" for c in codes)


def test_verify_lists_every_mismatch(deployed: Any, project: Any, compiled: Any) -> None:
    node, folder, result = deployed
    token = Token(node.w3, result.deployment.token.address, result.deployment.token.abi)
    admin = Sender(node.w3, dev(0), policy=POLICY)
    minter_admin = Sender(node.w3, dev(1), policy=POLICY)
    stranger = dev(12).address
    admin.transact(token.grant_role("FREEZER_ROLE", stranger).tx())          # an extra holder
    admin.transact(token.revoke_role("SEIZER_ROLE", dev(4).address).tx())    # a missing holder
    minter_admin.transact(token.configure_minter(dev(8).address, 5, b"\0" * 32).tx())  # allowance changed
    report = verify_stack(chain_for(node, project), project, dev_default_config(), deployments_dir=folder, compiled=compiled)
    assert not report.ok
    subjects = {c.subject: c for c in report.mismatches}
    assert set(subjects) == {"token FREEZER_ROLE", "token SEIZER_ROLE", f"minterAllowance({dev(8).address})"}
    assert stranger in subjects["token FREEZER_ROLE"].actual
    assert subjects["token SEIZER_ROLE"].actual == []
    assert subjects[f"minterAllowance({dev(8).address})"].actual == 5


def test_verify_reports_a_desk_checker_who_became_an_attestor(deployed: Any, project: Any, compiled: Any) -> None:
    node, folder, result = deployed
    token = Token(node.w3, result.deployment.token.address, result.deployment.token.abi)
    checker = dev(7).address  # a desk checker in the dev default
    Sender(node.w3, dev(0), policy=POLICY).transact(token.grant_role("ATTESTOR_ROLE", checker).tx())
    report = verify_stack(chain_for(node, project), project, dev_default_config(), deployments_dir=folder, compiled=compiled)
    subjects = {c.subject: c for c in report.mismatches}
    assert set(subjects) == {"token ATTESTOR_ROLE", "desk makers and checkers holding the token's ATTESTOR_ROLE"}
    conflict = subjects["desk makers and checkers holding the token's ATTESTOR_ROLE"]
    assert conflict.expected == [] and conflict.actual == [checker]


def test_verify_flags_code_that_differs_from_the_local_build(deployed: Any, project: Any, compiled: Any) -> None:
    node, folder, result = deployed
    desk = result.deployment.mint_desk
    assert desk is not None
    node.rpc("anvil_setCode", desk.address, "0x6000")
    report = verify_stack(chain_for(node, project), project, dev_default_config(), deployments_dir=folder, compiled=compiled)
    bad = [c for c in report.mismatches if c.kind == "code"]
    assert len(bad) == 1 and bad[0].subject.startswith("MintDesk at")


def test_journal_lines_are_versioned_and_ordered_per_step(deployed: Any) -> None:
    _node, folder, _result = deployed
    lines = journal_lines(folder)
    assert all(line["v"] == 1 for line in lines)
    events = [line["event"] for line in lines if line.get("step") == "token.proxy"]
    assert events == ["planned", "sending", "sent", "confirmed"]
    sending = next(line for line in lines if line.get("step") == "token.proxy" and line["event"] == "sending")
    assert sending["nonce"] == 1 and sending["tx"].startswith("0x")
    assert role_id("PAUSER_ROLE") != bytes(32)
