"""The deploy config switches each regulator control on or off: MintDesk, timelock, limits, allowlist."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from deploy_env import chain_for, dev

from pkr_pilot.contracts import Timelock, Token
from pkr_pilot.deploy import dev_default_config, run_deploy, verify_stack
from pkr_pilot.deploy.config import MintDeskConfig, TimelockConfig
from pkr_pilot.tx import TxPolicy

POLICY = TxPolicy(timeout=20, poll_interval=0.02)


def test_governed_stack_puts_admin_upgrader_and_unpause_behind_the_timelock(
    anvil: Any, project: Any, compiled: Any, tmp_path: Path
) -> None:
    node = anvil()
    folder = tmp_path / "dep"
    base = dev_default_config()
    config = dataclasses.replace(
        base,
        roles={k: v for k, v in base.roles.items() if k not in ("upgrader", "unpauser")},
        mint_desk=MintDeskConfig(enabled=False),
        timelock=TimelockConfig(enabled=True, min_delay=3600, proposers=("dev:12",), executors=("anyone",)),
        limits_enabled=True,
        allowlist_enabled=True,
        exempt=("dev:8",),
    )
    result = run_deploy(chain_for(node, project), dev(0), project, config, deployments_dir=folder,
                        compiled=compiled, policy=POLICY)
    assert set(result.deployment.contracts) == {"PilotRupee", "PilotTimelock"}
    timelock_address = result.deployment.contracts["PilotTimelock"].address
    token = Token(node.w3, result.deployment.token.address, result.deployment.token.abi)
    holders = token.role_holders()
    assert holders["UPGRADER_ROLE"] == [timelock_address]
    assert holders["UNPAUSER_ROLE"] == [timelock_address]
    assert holders["PAUSER_ROLE"] == [dev(2).address]  # pausing stays immediate
    assert token.limits_enabled() and token.allowlist_enabled()
    # the admin handover is begun; the timelock must accept it through a scheduled operation
    assert token.default_admin() == dev(0).address
    pending, _when = token.view("pendingDefaultAdmin")
    assert pending == timelock_address
    timelock = Timelock(node.w3, timelock_address, result.deployment.contracts["PilotTimelock"].abi)
    assert timelock.min_delay() == 3600
    assert timelock.has_role("PROPOSER_ROLE", dev(12).address)
    assert timelock.has_role("EXECUTOR_ROLE", "0x0000000000000000000000000000000000000000")

    report = verify_stack(chain_for(node, project), project, config, deployments_dir=folder, compiled=compiled)
    (admin_check,) = report.mismatches
    assert admin_check.subject == "token DEFAULT_ADMIN_ROLE (defaultAdmin)"
    assert admin_check.note is not None and "acceptDefaultAdminTransfer" in admin_check.note

    again = run_deploy(chain_for(node, project), dev(0), project, config, deployments_dir=folder,
                       compiled=compiled, policy=POLICY)
    assert again.up_to_date


def test_everything_off_deploys_only_the_token(anvil: Any, project: Any, compiled: Any, tmp_path: Path) -> None:
    node = anvil()
    base = dev_default_config()
    config = dataclasses.replace(base, mint_desk=MintDeskConfig(enabled=False), tiers=(), exempt=(), attestation=None)
    result = run_deploy(chain_for(node, project), dev(0), project, config, deployments_dir=tmp_path / "d",
                        compiled=compiled, policy=POLICY)
    assert set(result.deployment.contracts) == {"PilotRupee"}
    token = Token(node.w3, result.deployment.token.address, result.deployment.token.abi)
    assert not token.limits_enabled() and not token.allowlist_enabled()
    assert token.reserves().amount == 0
    assert result.transactions_sent == 2 + 2 + 10 + 1  # contracts, cap + age, grants, one minter


def test_desk_admin_handover_is_begun_when_the_desk_admin_is_not_the_deployer(
    anvil: Any, project: Any, compiled: Any, tmp_path: Path
) -> None:
    node = anvil()
    base = dev_default_config()
    config = dataclasses.replace(base, mint_desk=dataclasses.replace(base.mint_desk, admin="dev:11"))
    result = run_deploy(chain_for(node, project), dev(0), project, config, deployments_dir=tmp_path / "d",
                        compiled=compiled, policy=POLICY)
    desk = result.deployment.mint_desk
    assert desk is not None
    from pkr_pilot.contracts import Desk

    handle = Desk(node.w3, desk.address, desk.abi)
    pending, _when = handle.view("pendingDefaultAdmin")
    assert pending == dev(11).address
    assert handle.has_role("MAKER_ROLE", dev(9).address)
