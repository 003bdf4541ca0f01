"""compile_project: outputs, the content-hash cache and its invalidation."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from _compile_sandbox import OZ_CONTEXT, CountingRunner, Sandbox, make_sandbox

from pkr_pilot.compile import BUILD_INFO_FORMAT, CompileResult, compile_project, load_build_info
from pkr_pilot.errors import CompileError, ToolchainError

Built = tuple[Sandbox, CompileResult, CountingRunner]


def test_cold_compile_runs_solc_once_and_reports_why(built: Built) -> None:
    _, result, runner = built
    assert runner.compiles == 1
    assert runner.versions == 1
    assert not result.cached
    assert result.reason == "no previous build"
    assert result.solc.kind == "node"
    assert result.solc.version == "0.8.28"
    assert result.solc.long_version.startswith("0.8.28+commit.")


def test_build_info_has_hardhat_format(built: Built) -> None:
    box, result, _ = built
    data = json.loads(result.build_info.read_text())
    assert list(data) == ["id", "_format", "solcVersion", "solcLongVersion", "input", "output"]
    assert data["_format"] == BUILD_INFO_FORMAT == "hh-sol-build-info-1"
    assert data["id"] == result.build_info_id
    assert result.build_info == box.root / "build" / "build-info" / f"{data['id']}.json"
    assert data["solcVersion"] == "0.8.28"
    assert data["solcLongVersion"] == result.solc.long_version
    assert data["input"]["language"] == "Solidity"
    assert [p.name for p in (box.root / "build" / "build-info").iterdir()] == [
        result.build_info.name
    ]


def test_build_info_input_embeds_every_source_read_including_imports(built: Built) -> None:
    box, result, _ = built
    sources = load_build_info(box.project().paths, result.build_info_id)["input"]["sources"]
    assert sorted(sources) == [
        "contracts/Token.sol",
        "contracts/a/Dup.sol",
        "contracts/b/Dup.sol",
        "contracts/lib/Math.sol",
        f"node_modules/{OZ_CONTEXT}",
    ]
    for unit, entry in sources.items():
        assert entry["content"] == (box.root / unit).read_text()
        assert entry["keccak256"].startswith("0x") and len(entry["keccak256"]) == 66


def test_build_info_settings_are_explicit(built: Built) -> None:
    _, result, _ = built
    settings = json.loads(result.build_info.read_text())["input"]["settings"]
    assert settings["evmVersion"] == "cancun"
    assert settings["optimizer"] == {"enabled": True, "runs": 10000}
    assert settings["viaIR"] is False
    assert settings["metadata"] == {"bytecodeHash": "ipfs"}
    assert settings["remappings"] == ["@openzeppelin/=node_modules/@openzeppelin/"]
    selection = settings["outputSelection"]["*"]
    assert selection[""] == ["ast"]
    for wanted in ("abi", "storageLayout", "evm.deployedBytecode.immutableReferences", "metadata"):
        assert wanted in selection["*"]


def test_stored_input_reproduces_stored_output_exactly(built: Built) -> None:
    """What verifiers rely on: the build-info alone gives the same output, AST ids included."""
    box, result, _ = built
    data = json.loads(result.build_info.read_text())
    runner = CountingRunner()
    again = runner.compile_standard(
        result.solc.path, data["input"], base_path=box.root / "nowhere", allow_paths=[]
    )
    assert again == data["output"]


def test_warnings_are_returned_with_file_line_col_and_not_fatal(built: Built) -> None:
    _, result, _ = built
    assert result.warnings == ("contracts/Token.sol:18:9: warning: Unused local variable.",)


def test_second_compile_is_a_cache_hit_that_starts_no_process(built: Built) -> None:
    box, first, _ = built
    runner = CountingRunner()
    again = box.compile(runner)
    assert (runner.compiles, runner.versions) == (0, 0)
    assert again.cached and again.reason == "up to date"
    assert again.build_info_id == first.build_info_id
    assert again.solc == first.solc
    assert again.warnings == first.warnings
    assert again.artifacts["Token"].bytecode == first.artifacts["Token"].bytecode


def test_force_recompiles_even_when_nothing_changed(sandbox: Sandbox) -> None:
    runner = CountingRunner()
    result = sandbox.compile(runner, force=True)
    assert runner.compiles == 1
    assert not result.cached and result.reason == "forced"


def test_moved_checkout_is_still_a_cache_hit_without_any_process(sandbox: Sandbox) -> None:
    runner = CountingRunner()
    result = sandbox.compile(runner)  # a copy: bin/solc now lives at another path
    assert (runner.compiles, runner.versions) == (0, 0)
    assert result.cached
    assert result.solc.path == sandbox.root / "bin" / "solc"


def test_same_compiler_by_another_route_is_probed_once_and_not_recompiled(sandbox: Sandbox) -> None:
    explicit = sandbox.root / "my-solc"  # e.g. a site wrapper around the same solc-js
    explicit.write_text(f'#!/bin/sh\nexec "{sandbox.root}/bin/solc" "$@"\n')
    explicit.chmod(0o755)
    project = sandbox.project(solc_path=explicit)
    runner = CountingRunner()
    result = compile_project(project, runner=runner)
    assert (runner.compiles, runner.versions) == (0, 1)
    assert result.cached and result.solc.kind == "explicit"
    runner = CountingRunner()
    compile_project(project, runner=runner)  # the explicit binary's look was remembered
    assert (runner.compiles, runner.versions) == (0, 0)
    os.utime(explicit, (1_000_000_000, 1_000_000_000))  # "replaced": probe again, same compiler
    runner = CountingRunner()
    assert compile_project(project, runner=runner).cached
    assert (runner.compiles, runner.versions) == (0, 1)


def test_changing_a_locally_imported_file_recompiles(sandbox: Sandbox) -> None:
    before = sandbox.compile()
    old_code = before.artifacts["Token"].bytecode
    math = sandbox.root / "contracts/lib/Math.sol"
    sandbox.write("contracts/lib/Math.sol", math.read_text().replace("2 * x", "3 * x"))
    runner = CountingRunner()
    after = sandbox.compile(runner)
    assert runner.compiles == 1
    assert after.reason == "contracts/lib/Math.sol changed"
    assert after.build_info_id != before.build_info_id
    assert after.artifacts["Token"].bytecode != old_code
    runner = CountingRunner()
    assert sandbox.compile(runner).cached and runner.compiles == 0


def test_changing_an_imported_node_modules_file_recompiles(sandbox: Sandbox) -> None:
    sandbox.compile()
    dep = sandbox.root / "node_modules" / OZ_CONTEXT
    dep.write_text(dep.read_text() + "\n// edited\n")
    runner = CountingRunner()
    after = sandbox.compile(runner)
    assert runner.compiles == 1
    assert after.reason == f"node_modules/{OZ_CONTEXT} changed"


def test_compiler_settings_change_invalidates_the_cache(sandbox: Sandbox) -> None:
    sandbox.compile()
    runner = CountingRunner()
    project = sandbox.project(optimizer_runs=200)
    result = compile_project(project, runner=runner)
    assert runner.compiles == 1
    assert result.reason == "compiler or settings changed"
    settings = json.loads(result.build_info.read_text())["input"]["settings"]
    assert settings["optimizer"]["runs"] == 200


def test_removed_source_drops_its_artifacts_and_old_build_info(sandbox: Sandbox) -> None:
    before = sandbox.compile()
    (sandbox.root / "contracts/b/Dup.sol").unlink()
    after = sandbox.compile()
    assert after.reason == "contracts/b/Dup.sol changed"
    assert "contracts/b/Dup.sol:Dup" not in after.artifacts
    assert after.artifacts["Dup"].source_name == "contracts/a/Dup.sol"  # no longer ambiguous
    assert not (sandbox.root / "build/contracts/contracts/b/Dup.sol/Dup.json").exists()
    infos = list((sandbox.root / "build" / "build-info").iterdir())
    assert [p.name for p in infos] == [f"{after.build_info_id}.json"]
    assert after.build_info_id != before.build_info_id
    with pytest.raises(
        ToolchainError, match="build/ was rebuilt since these artifacts were listed"
    ):
        before.artifacts["Token"]  # an old result never reads the new build's files


def test_deleted_build_files_are_rebuilt(sandbox: Sandbox) -> None:
    (sandbox.root / "build" / "contracts" / "Token.json").unlink()
    runner = CountingRunner()
    result = sandbox.compile(runner)
    assert runner.compiles == 1
    assert result.reason == "build/ files missing"
    assert (sandbox.root / "build" / "contracts" / "Token.json").is_file()


def test_compile_error_lists_file_line_col_for_each_error(tmp_path: Path) -> None:
    box = make_sandbox(
        tmp_path / "p",
        {
            "contracts/Bad.sol": (
                "// SPDX-License-Identifier: MIT\n"
                "pragma solidity 0.8.28;\n"
                "contract Bad {\n"
                "    function f() external pure returns (uint256) {\n"
                "        /* ü */ return missing + 1;\n"
                "    }\n"
                "}\n"
            )
        },
    )
    with pytest.raises(CompileError) as info:
        box.compile()
    assert info.value.diagnostics == [
        # column in characters: the two-byte "ü" counts once
        "contracts/Bad.sol:5:24: error: DeclarationError: Undeclared identifier."
    ]
    assert info.value.exit_code != 0
    assert not (box.root / "build" / "contracts").exists()


def test_no_sources_is_a_compile_error_without_running_solc(tmp_path: Path) -> None:
    box = make_sandbox(tmp_path / "p", {})
    runner = CountingRunner()
    with pytest.raises(CompileError, match="no Solidity sources"):
        box.compile(runner)
    assert (runner.compiles, runner.versions) == (0, 0)
