"""The deploy config: deploy/example.toml, the built-in dev default, and every refusal naming its field."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from deploy_env import ROOT

from pkr_pilot.deploy.config import (
    UNLIMITED,
    DeployConfig,
    dev_default_config,
    load_deploy_config,
    parse_deploy_config,
)
from pkr_pilot.errors import ConfigError

EXAMPLE = ROOT / "deploy" / "example.toml"


def _example() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text())


def test_example_file_parses_with_exact_base_units() -> None:
    config = load_deploy_config(EXAMPLE)
    assert config.token.decimals == 2
    assert config.supply_cap == 10_000_000_000 * 100
    assert config.minters[0].allowance == 50_000_000 * 100
    assert config.mint_desk.enabled and config.mint_desk.approvals_required == 2
    assert config.mint_desk.threshold == 100_000 * 100
    assert config.tiers[2].max_daily_outflow == UNLIMITED
    assert config.ref == b"pilot-deploy-2026-01".ljust(32, b"\0")
    assert config.admin == "keystore:pilot-admin" and config.admin_delay == 86_400
    assert config.exempt == ("0x1111111111111111111111111111111111111111",)
    assert config.attestation is not None and config.attestation.as_of is None


def test_empty_file_gives_the_documented_defaults() -> None:
    config = parse_deploy_config({})
    assert config.token.name == "Pilot Pakistani Rupee" and config.token.symbol == "PKRP"
    assert config.admin == "deployer" and config.admin_delay == 86_400
    assert config.supply_cap == 0 and config.max_attestation_age == 86_400
    assert config.attestation is None
    assert not config.mint_desk.enabled and not config.timelock.enabled
    assert config.roles == {} and config.minters == ()
    assert config.ref == b"pkr-pilot deploy".ljust(32, b"\0")


def test_dev_default_gives_every_role_to_a_dev_account() -> None:
    config = dev_default_config()
    assert set(config.roles) == {
        "minter_admin", "pauser", "unpauser", "freezer", "seizer", "attestor", "burner", "rescuer", "upgrader", "kyc"
    }
    refs = [r for holders in config.roles.values() for r in holders]
    assert all(r.startswith("dev:") or r == "deployer" for r in refs)
    assert config.attestation is not None and config.mint_desk.enabled


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"token": {"decimals": 2.0}}, "token.decimals must be an integer"),
        ({"supply": {"cap": 1.5}}, "supply.cap must be an integer or a quoted decimal string"),
        ({"supply": {"cap": "1.005"}}, "more than 2 decimal places"),
        ({"supply": {"cap": "-5"}}, "negative"),
        ({"supply": {"cap": "lots"}}, "not a number"),
        ({"supply": {"cap": 2**96}}, "supply.cap is too large"),
        ({"token": {"name": "x" * 32}}, "the EIP-712 name allows 31"),
        ({"roles": {"minter": ["dev:1"]}}, "unknown key(s) minter"),
        ({"roles": {"pauser": ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD".replace("a", "A", 1)]}}, "bad checksum"),
        ({"roles": {"pauser": ["dev:x"]}}, "is not dev:N"),
        ({"roles": {"pauser": ["dev:1", "dev:1"]}}, "lists an account twice"),
        ({"colour": "blue"}, "unknown key(s) colour"),
        ({"schema_version": 2}, "schema_version 2 is not supported"),
        ({"attestation": {"amount": "1"}}, "report_hash is required"),
        ({"mint_desk": {"approvals_required": 0}}, "approvals_required must be between 1 and 255"),
        ({"tiers": [{"tier": 1}, {"tier": 1}]}, "tier 1 is defined twice"),
        ({"ref": "x" * 33}, "longer than 32 bytes"),
    ],
)
def test_bad_values_are_refused_naming_the_field(patch: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_deploy_config(patch, source="f.toml")
    assert message in str(err.value)


def test_a_minter_cannot_be_the_attestor() -> None:
    data = {"roles": {"attestor": ["dev:3"]}, "minters": [{"account": "dev:3", "allowance": 1}]}
    with pytest.raises(ConfigError, match="both a minter and an attestor"):
        parse_deploy_config(data)


@pytest.mark.parametrize("group", ["makers", "checkers"])
def test_a_desk_maker_or_checker_cannot_be_the_attestor(group: str) -> None:
    data = {"roles": {"attestor": ["dev:3"]}, "mint_desk": {"enabled": True, group: ["dev:3"]}}
    with pytest.raises(ConfigError, match="dev:3 is both a desk maker or checker and an attestor"):
        parse_deploy_config(data)


def test_timelock_takes_upgrader_unpauser_and_admin() -> None:
    config = parse_deploy_config({"timelock": {"enabled": True, "proposers": ["dev:1"], "executors": ["anyone"]}})
    assert config.role_holders("upgrader") == ("timelock",)
    assert config.role_holders("unpauser") == ("timelock",)
    assert config.final_admin == "timelock"
    with pytest.raises(ConfigError, match=r"roles\.upgrader lists dev:2 but \[timelock\] is enabled"):
        parse_deploy_config({"timelock": {"proposers": ["dev:1"]}, "roles": {"upgrader": ["dev:2"]}})
    with pytest.raises(ConfigError, match="needs at least one proposer"):
        parse_deploy_config({"timelock": {"enabled": True}})


def test_contract_references_need_their_contract_enabled() -> None:
    with pytest.raises(ConfigError, match="'mint_desk' is used but \\[mint_desk\\] is not enabled"):
        parse_deploy_config({"exempt": ["mint_desk"]})
    with pytest.raises(ConfigError, match="'timelock' is used"):
        parse_deploy_config({"roles": {"pauser": ["timelock"]}})


def test_fingerprint_ignores_the_source_and_tracks_values(tmp_path: Path) -> None:
    a = parse_deploy_config(_example(), source="a")
    b = parse_deploy_config(_example(), source="b")
    assert a.fingerprint() == b.fingerprint()
    data = _example()
    data["supply"]["cap"] = "1"
    assert parse_deploy_config(data).fingerprint() != a.fingerprint()
    assert isinstance(a.to_json()["ref"], str)


def test_example_documents_every_config_field() -> None:
    text = EXAMPLE.read_text()
    import dataclasses

    from pkr_pilot.deploy.config import MintDeskConfig, TimelockConfig, TokenConfig

    for cls in (TokenConfig, MintDeskConfig, TimelockConfig):
        for f in dataclasses.fields(cls):
            assert f"\n{f.name} =" in text or f"\n# {f.name} =" in text, f"{cls.__name__}.{f.name}"
    for key in ("cap", "max_attestation_age", "limits", "allowlist", "exempt", "ref", "delay", "as_of"):
        assert f"{key} =" in text, key
    assert isinstance(parse_deploy_config({}), DeployConfig)
