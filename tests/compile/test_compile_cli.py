"""`pkr-pilot compile`: output, --json, errors and exit codes, --install-for-solcx."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from _compile_sandbox import Sandbox

from pkr_pilot.cli import main


@pytest.fixture
def in_project(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("PKR_PILOT_ROOT", str(sandbox.root))
    monkeypatch.chdir(sandbox.root)
    return sandbox


def test_up_to_date_build_says_so(in_project: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile"]) == 0
    out = capsys.readouterr().out
    assert re.fullmatch(
        r"Nothing to compile: build/ is up to date \(5 contracts, \d+\.\d\d s\)\n", out
    )


def test_json_output_lists_contracts_and_solc(
    in_project: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compile", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schemaVersion"] == 1
    assert doc["cached"] is True
    assert doc["solc"]["kind"] == "node"
    assert doc["contracts"]["contracts/Token.sol:Token"] == str(
        in_project.root / "build/contracts/Token.json"
    )
    assert doc["warnings"] == ["contracts/Token.sol:18:9: warning: Unused local variable."]


def test_compile_error_prints_file_line_col_and_exits_non_zero(
    in_project: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    in_project.write(
        "contracts/Broken.sol",
        "pragma solidity 0.8.28;\ncontract Broken {\n    uint256 x = ;\n}\n",
    )
    code = main(["compile"])
    err = capsys.readouterr().err
    assert code == 3
    assert err.splitlines()[0] == (
        "contracts/Broken.sol:3:17: error: ParserError: Expected primary expression."
    )
    assert err.splitlines()[-1].startswith("error: compilation failed: contracts/Broken.sol:3:17")


def test_missing_explicit_solc_exits_with_toolchain_code(
    in_project: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compile", "--solc", "no/such/solc"]) == 3
    err = capsys.readouterr().err
    assert "solc not found at" in err and "no/such/solc" in err


def test_missing_node_exits_with_setup_hint(
    in_project: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bare = tmp_path / "bare-bin"
    bare.mkdir()
    sh = shutil.which("sh")
    assert sh is not None
    (bare / "sh").symlink_to(sh)
    monkeypatch.setenv("PATH", str(bare))
    assert main(["compile", "--force"]) == 3
    err = capsys.readouterr().err
    assert "Node.js (`node`) is not on PATH" in err
    assert "`make setup` (or `npm ci`)" in err


def test_install_for_solcx_writes_the_wrapper(
    in_project: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compile", "--install-for-solcx"]) == 0
    shim = Path(os.environ["SOLCX_BINARY_PATH"]) / "solc-v0.8.28"
    assert capsys.readouterr().out == (
        f"installed: {shim} -> solc 0.8.28+commit.7893614a.Emscripten.clang (Node.js)\n"
        f"For Ape: export SOLCX_BINARY_PATH={shim.parent}\n"
    )
    assert os.access(shim, os.X_OK)
