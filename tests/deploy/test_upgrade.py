"""--upgrade: a changed implementation is deployed and the proxy upgraded only after the layout check."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from deploy_env import chain_for, dev, run_driver, stack_state

from pkr_pilot.contracts import Token
from pkr_pilot.deploy import DeployConfig, dev_default_config, run_deploy, verify_stack
from pkr_pilot.deploy.config import TokenConfig
from pkr_pilot.errors import StorageLayoutError
from pkr_pilot.tx import Sender, TxPolicy

POLICY = TxPolicy(timeout=20, poll_interval=0.02)


def _with_contract(name: str) -> DeployConfig:
    base = dev_default_config()
    return dataclasses.replace(base, token=TokenConfig(contract=name))


def _deploy(node: Any, project: Any, compiled: Any, folder: Path, config: DeployConfig, **kw: Any) -> Any:
    return run_deploy(chain_for(node, project), dev(0), project, config, deployments_dir=folder,
                      compiled=compiled, policy=POLICY, **kw)


@pytest.fixture
def minted(deployed: Any) -> Any:
    """The dev-default stack with 1,000.00 PKRP minted to dev:10."""
    node, folder, result = deployed
    token = Token(node.w3, result.deployment.token.address, result.deployment.token.abi)
    Sender(node.w3, dev(8), policy=POLICY).transact(token.mint(dev(10).address, 100_000, b"\x01" * 32).tx())
    return node, folder, token


def test_incompatible_layout_is_refused_with_the_clashing_slot(minted: Any, project: Any, compiled: Any) -> None:
    node, folder, token = minted
    nonce = node.w3.eth.get_transaction_count(dev(0).address)
    with pytest.raises(StorageLayoutError) as err:
        _deploy(node, project, compiled, folder, _with_contract("PilotRupeeBadLayout"), upgrade=True)
    message = str(err.value)
    assert "namespace erc7201:pkrpilot.storage.PilotRupee" in message
    assert "0x9fdfe9d5f4ed7ee0fde9aa4f4454b07cdbf4e77d7f78d69b61af7d30576e3504 (+4) offset 0 `accounts`" in message
    assert "now holds `feeBps`" in message
    assert node.w3.eth.get_transaction_count(dev(0).address) == nonce  # nothing sent
    assert token.view("version") == 1


def test_changed_implementation_is_not_upgraded_without_the_flag(minted: Any, project: Any, compiled: Any) -> None:
    node, folder, token = minted
    result = _deploy(node, project, compiled, folder, _with_contract("PilotRupeeV2"))
    assert result.transactions_sent == 0
    assert any("--upgrade" in n for n in result.notices)
    assert token.view("version") == 1


def test_compatible_upgrade_keeps_state_and_updates_the_records(minted: Any, project: Any, compiled: Any) -> None:
    node, folder, token = minted
    old_impl = json.loads((folder / "PilotRupee.json").read_text())["implementation"]
    config = _with_contract("PilotRupeeV2")
    result = _deploy(node, project, compiled, folder, config, upgrade=True)
    assert [o.step.split("@")[0] for o in result.outcomes if o.status == "sent"] == [
        "token.implementation", "token.upgradeToAndCall"
    ]
    assert token.view("version") == 2
    assert token.balance_of(dev(10).address) == 100_000
    assert token.minter_allowance(dev(8).address) == 100_000_000 * 100 - 100_000
    record = json.loads((folder / "PilotRupee.json").read_text())
    impl = json.loads((folder / "PilotRupee_Implementation.json").read_text())
    assert record["implementation"] == impl["address"] != old_impl
    assert record["history"][0]["implementation"] == old_impl
    assert impl["contractName"] == "PilotRupeeV2"
    assert "erc7201:pkrpilot.storage.PilotRupeeV2" in impl["storageLayout"]["namespaces"]
    assert any(item.get("name") == "upgradeMarker" for item in record["abi"])
    again = _deploy(node, project, compiled, folder, config, upgrade=True)
    assert again.up_to_date
    report = verify_stack(chain_for(node, project), project, config, deployments_dir=folder, compiled=compiled)
    mismatches = [c.describe() for c in report.mismatches if c.kind != "minters"]
    assert mismatches == []


def test_upgrade_interrupted_after_sending_resumes_without_a_second_implementation(
    minted: Any, project: Any, compiled: Any, tmp_path: Path
) -> None:
    node, folder, token = minted
    config_file = tmp_path / "v2.toml"
    config_file.write_text(_V2_TOML)
    steps = [s for s in _plan_steps_after_crash(node, project, folder, config_file)]
    assert steps  # the crash happened on the upgrade call
    nonce_before = node.w3.eth.get_transaction_count(dev(0).address)
    from pkr_pilot.deploy import load_deploy_config

    result = _deploy(node, project, compiled, folder, load_deploy_config(config_file))  # no --upgrade: in flight
    assert {o.step.split("@")[0]: o.status for o in result.outcomes}["token.upgradeToAndCall"] == "recovered"
    assert node.w3.eth.get_transaction_count(dev(0).address) == nonce_before
    assert token.view("version") == 2
    assert stack_state(node.w3, folder)["implementation"] == json.loads(
        (folder / "PilotRupee_Implementation.json").read_text()
    )["address"]


def _plan_steps_after_crash(node: Any, project: Any, folder: Path, config_file: Path) -> list[str]:
    from pkr_pilot.compile import compile_project
    from pkr_pilot.deploy._code import code_hash

    artifact = compile_project(project).artifacts["PilotRupeeV2"]
    tag = code_hash(artifact.deployed_bytecode, artifact.immutable_references)[2:14]
    crashed = run_driver(node, project, folder, crash_at=f"token.upgradeToAndCall@{tag}:after-send",
                         config=config_file, upgrade=True)
    assert crashed.returncode == -9, crashed.stderr[-1500:]
    return [f"token.upgradeToAndCall@{tag}"]


_V2_TOML = """
# the dev default, with the V2 implementation
exempt = ["dev:8"]
[token]
contract = "PilotRupeeV2"
[admin]
delay = 0
[roles]
minter_admin = ["dev:1"]
pauser = ["dev:2"]
unpauser = ["dev:2"]
freezer = ["dev:3"]
seizer = ["dev:4"]
attestor = ["dev:5"]
burner = ["dev:6"]
rescuer = ["deployer"]
upgrader = ["deployer"]
kyc = ["dev:7"]
[[minters]]
account = "dev:8"
allowance = "100,000,000"
[supply]
cap = "10,000,000,000"
max_attestation_age = 2592000
[attestation]
amount = "1,000,000,000"
report_hash = "0x{report_hash}"
[mint_desk]
enabled = true
admin_delay = 0
makers = ["dev:9"]
checkers = ["dev:7", "dev:8"]
allowance = "1,000,000,000"
threshold = "100,000"
approvals_required = 2
daily_direct_limit = "1,000,000"
request_ttl = 86400
[[tiers]]
tier = 1
max_balance = "200,000"
max_daily_outflow = "25,000"
[[tiers]]
tier = 2
max_balance = "500,000"
max_daily_outflow = "50,000"
[[tiers]]
tier = 3
max_balance = "10,000,000"
max_daily_outflow = "1,000,000"
""".replace("{report_hash}", dev_default_config().attestation.report_hash.hex())  # type: ignore[union-attr]


def test_upgrade_call_runs_the_new_initializer(minted: Any, project: Any, compiled: Any) -> None:
    node, folder, token = minted
    config = dataclasses.replace(
        _with_contract("PilotRupeeV2"), token=TokenConfig(contract="PilotRupeeV2", upgrade_call=("initializeV2", (42,)))
    )
    result = _deploy(node, project, compiled, folder, config, upgrade=True)
    assert result.transactions_sent == 2
    v2 = Token(node.w3, token.address, json.loads((folder / "PilotRupee.json").read_text())["abi"])
    assert v2.view("upgradeMarker") == 42


def test_governed_upgrade_deploys_the_implementation_and_waits_for_the_timelock(
    anvil: Any, project: Any, compiled: Any, tmp_path: Path
) -> None:
    from pkr_pilot.deploy.config import TimelockConfig

    node = anvil()
    folder = tmp_path / "dep"
    base = dev_default_config()
    governed = dataclasses.replace(
        base,
        roles={k: v for k, v in base.roles.items() if k not in ("upgrader", "unpauser")},
        timelock=TimelockConfig(enabled=True, min_delay=60, proposers=("dev:12",), executors=("anyone",)),
    )
    first = _deploy(node, project, compiled, folder, governed)
    token_address = first.deployment.token.address
    timelock_address = first.deployment.contracts["PilotTimelock"].address

    v2 = dataclasses.replace(governed, token=TokenConfig(contract="PilotRupeeV2"))
    waiting = _deploy(node, project, compiled, folder, v2, upgrade=True)
    assert [o.status for o in waiting.outcomes if "@" in o.step] == ["sent", "waiting"]
    notice = next(n for n in waiting.notices if "timelock" in n)
    nxt = json.loads((folder / "PilotRupee_NextImplementation.json").read_text())
    assert nxt["address"] in notice and "upgradeToAndCall" in notice
    token = Token(node.w3, token_address, json.loads((folder / "PilotRupee.json").read_text())["abi"])
    assert token.view("version") == 1  # nothing changed behind the timelock's back
    assert set(waiting.deployment.contracts) == {"PilotRupee", "MintDesk", "PilotTimelock"}

    # the timelock executes the upgrade (its operation is simulated by impersonating it)
    node.rpc("anvil_impersonateAccount", timelock_address)
    node.rpc("anvil_setBalance", timelock_address, hex(10**18))
    call = token.build("upgradeToAndCall", nxt["address"], b"")
    executed = node.w3.eth.send_transaction({"from": timelock_address, "to": token_address, "data": call.tx()["data"]})  # type: ignore[typeddict-item]
    assert node.w3.eth.wait_for_transaction_receipt(executed)["status"] == 1  # mined before it is read back
    assert token.view("version") == 2

    done = _deploy(node, project, compiled, folder, v2, upgrade=True)
    assert [o.status for o in done.outcomes if "@" in o.step] == ["up-to-date", "applied"]
    assert not (folder / "PilotRupee_NextImplementation.json").exists()
    record = json.loads((folder / "PilotRupee.json").read_text())
    assert record["implementation"] == nxt["address"]
    assert json.loads((folder / "PilotRupee_Implementation.json").read_text())["address"] == nxt["address"]
    assert _deploy(node, project, compiled, folder, v2, upgrade=True).up_to_date
