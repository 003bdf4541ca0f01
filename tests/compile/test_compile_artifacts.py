"""Artifacts: fields, lookup by name, on-disk format, reading build/ back."""

from __future__ import annotations

import json

import pytest
from _compile_sandbox import CountingRunner, Sandbox

from pkr_pilot.compile import Artifact, CompileResult, load_artifacts
from pkr_pilot.errors import ConfigError, ToolchainError

Built = tuple[Sandbox, CompileResult, CountingRunner]


def test_artifact_carries_abi_code_layout_and_metadata(built: Built) -> None:
    _, result, _ = built
    token = result.artifacts["Token"]
    assert token.qualified_name == "contracts/Token.sol:Token"
    assert {e.get("name") for e in token.abi} >= {"mint", "cap", "balanceOf", "totalSupply"}
    assert token.bytecode[:2] == b"\x60\x80" or token.bytecode[:2] == b"\x60\xa0"
    assert token.deployed_bytecode and token.is_deployable
    assert token.method_identifiers["mint(address,uint256)"] == "40c10f19"
    assert token.selector("mint(address,uint256)") == bytes.fromhex("40c10f19")
    labels = [slot["label"] for slot in token.storage_layout["storage"]]
    assert labels == ["balanceOf", "totalSupply"]
    metadata = json.loads(token.metadata)
    assert metadata["settings"]["evmVersion"] == "cancun"
    assert metadata["compiler"]["version"] == "0.8.28+commit.7893614a"
    assert token.build_info_id == result.build_info_id
    assert token.immutable_references  # `cap`
    assert not token.needs_linking


def test_artifact_file_on_disk_has_the_documented_keys(built: Built) -> None:
    box, _, _ = built
    data = json.loads((box.root / "build" / "contracts" / "Token.json").read_text())
    assert set(data) == {
        "_format",
        "contractName",
        "sourceName",
        "abi",
        "bytecode",
        "deployedBytecode",
        "linkReferences",
        "deployedLinkReferences",
        "immutableReferences",
        "methodIdentifiers",
        "storageLayout",
        "metadata",
        "buildInfoId",
    }
    assert data["_format"] == "hh-sol-artifact-1"  # Hardhat's id: its fields are all there
    assert data["bytecode"].startswith("0x")


def test_imported_contracts_get_artifacts_too(built: Built) -> None:
    _, result, _ = built
    assert result.artifacts["Context"].source_name == (
        "node_modules/@openzeppelin/contracts/utils/Context.sol"
    )
    assert not result.artifacts["Context"].is_deployable  # abstract
    assert result.artifacts.names() == ["Context", "Dup", "MathLib", "Token"]


def test_ambiguous_name_is_refused_and_qualified_names_work(built: Built) -> None:
    box, result, _ = built
    with pytest.raises(ConfigError) as info:
        result.artifacts["Dup"]
    assert info.value.message == "contract name 'Dup' is ambiguous"
    assert info.value.hint == "use one of: contracts/a/Dup.sol:Dup, contracts/b/Dup.sol:Dup"
    a = result.artifacts["contracts/a/Dup.sol:Dup"]
    b = result.artifacts["contracts/b/Dup.sol:Dup"]
    assert a.deployed_bytecode != b.deployed_bytecode
    assert result.artifacts.path("contracts/b/Dup.sol:Dup") == (
        box.root / "build/contracts/contracts/b/Dup.sol/Dup.json"
    )


def test_unknown_name_is_refused_but_get_returns_none(built: Built) -> None:
    _, result, _ = built
    with pytest.raises(ConfigError, match="no compiled contract named 'PilotRupee'"):
        result.artifacts["PilotRupee"]
    assert result.artifacts.get("PilotRupee") is None
    assert "Token" in result.artifacts and "PilotRupee" not in result.artifacts


def test_matches_deployed_masks_only_the_immutables(built: Built) -> None:
    _, result, _ = built
    token = result.artifacts["Token"]
    onchain = bytearray(token.deployed_bytecode)
    for refs in token.immutable_references.values():
        for ref in refs:
            onchain[ref["start"] : ref["start"] + ref["length"]] = (10**24).to_bytes(32, "big")
    assert token.matches_deployed(bytes(onchain))
    onchain[1] ^= 0xFF
    assert not token.matches_deployed(bytes(onchain))
    assert not token.matches_deployed(token.deployed_bytecode[:-1])


def test_unlinked_library_placeholders_refuse_bytes() -> None:
    artifact = Artifact(
        name="UsesLib",
        source_name="contracts/U.sol",
        abi=[],
        bytecode_hex="0x60__$abc$__",
        deployed_bytecode_hex="0x60",
        link_references={"contracts/L.sol": {"L": [{"start": 1, "length": 20}]}},
        deployed_link_references={},
        immutable_references={},
        method_identifiers={},
        storage_layout={},
        metadata="{}",
        build_info_id="x",
    )
    assert artifact.needs_linking
    with pytest.raises(
        ToolchainError, match=r"needs library addresses linked in first: contracts/L\.sol:L"
    ):
        _ = artifact.bytecode


def test_load_artifacts_reads_build_without_solc(built: Built) -> None:
    box, result, _ = built
    artifacts = load_artifacts(box.project().paths)
    assert list(artifacts) == list(result.artifacts)
    assert artifacts["Token"] == result.artifacts["Token"]


def test_load_artifacts_refuses_a_stale_build(sandbox: Sandbox) -> None:
    math = sandbox.root / "contracts/lib/Math.sol"
    math.write_text(math.read_text() + "\n")
    with pytest.raises(ToolchainError) as info:
        load_artifacts(sandbox.project().paths)
    assert "stale: contracts/lib/Math.sol changed" in info.value.message
    assert info.value.hint == "run `pkr-pilot compile`"
    assert load_artifacts(sandbox.project().paths, check_fresh=False)["Token"]


def test_load_artifacts_without_a_build_says_run_compile(sandbox: Sandbox) -> None:
    import shutil

    shutil.rmtree(sandbox.root / "build")
    with pytest.raises(ToolchainError, match=r"no compiled contracts in .*run `pkr-pilot compile`"):
        load_artifacts(sandbox.project().paths)


def test_a_compile_result_reads_its_build_info_once_for_every_deploy_made_with_it(built: Built) -> None:
    _, result, _ = built
    first = result.read_build_info(result.build_info_id)
    assert first == json.loads(result.build_info.read_text())
    assert result.read_build_info(result.build_info_id) is first  # parsed once (7.8 MB for the pilot's build)
    with pytest.raises(ToolchainError, match="missing"):
        result.read_build_info("0" * 32)
