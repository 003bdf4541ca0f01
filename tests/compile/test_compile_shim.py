"""install_solcx_shim: the Node-backed solc where py-solc-x and ape-solidity look for it."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from _compile_sandbox import MATH_SOL, Sandbox, make_sandbox

from pkr_pilot.compile import SHIM_MARKER, SolcResolver, install_solcx_shim
from pkr_pilot.errors import ToolchainError


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    return make_sandbox(
        tmp_path / "proj",
        {
            "contracts/lib/Math.sol": MATH_SOL,
            "contracts/Uses.sol": (
                "// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\n"
                'import {MathLib} from "./lib/Math.sol";\n'
                "contract Uses { function f(uint256 x) external pure returns (uint256) "
                "{ return MathLib.twice(x); } }\n"
            ),
        },
    )


@pytest.fixture
def solcx_dir() -> Path:
    return Path(os.environ["SOLCX_BINARY_PATH"])


def test_shim_is_a_marked_executable_wrapper_answering_the_pinned_version(
    box: Sandbox, solcx_dir: Path
) -> None:
    result = install_solcx_shim(box.project())
    shim = solcx_dir / "solc-v0.8.28"
    assert (result.path, result.status) == (shim, "installed")
    assert result.long_version == "0.8.28+commit.7893614a.Emscripten.clang"
    text = shim.read_text()
    assert text.splitlines()[1].startswith(SHIM_MARKER)
    assert str((box.root / "tools/solc/solc.cjs").resolve()) in text
    assert shim.stat().st_mode & stat.S_IXUSR
    assert install_solcx_shim(box.project()).status == "unchanged"
    project = box.project()
    identity = SolcResolver(project.compiler, project.paths).resolve()
    assert (identity.kind, identity.path) == ("node", shim)


def test_shim_never_replaces_a_native_solc(box: Sandbox, solcx_dir: Path) -> None:
    native = solcx_dir / "solc-v0.8.28"
    native.write_bytes(b"\x7fELF native solc")
    native.chmod(0o755)
    result = install_solcx_shim(box.project())
    assert result.status == "native-present"
    assert native.read_bytes() == b"\x7fELF native solc"


def test_shim_refuses_without_node(box: Sandbox, solcx_dir: Path) -> None:
    with pytest.raises(ToolchainError, match=r"Node\.js \(`node`\) is not on PATH"):
        install_solcx_shim(box.project(), which=lambda _name: None)
    assert not (solcx_dir / "solc-v0.8.28").exists()


def test_py_solc_x_and_ape_style_calls_work_through_the_shim(box: Sandbox) -> None:
    """What ape-solidity does: get_executable, version with commit, compile_standard
    with --base-path (imports read from disk), and compile_source (--help, stdin)."""
    import solcx
    from solcx.install import get_executable
    from solcx.wrapper import get_solc_version

    install_solcx_shim(box.project())
    shim = get_executable("0.8.28")
    assert shim == Path(os.environ["SOLCX_BINARY_PATH"]) / "solc-v0.8.28"
    assert str(get_solc_version(shim, with_commit_hash=True)) == "0.8.28+commit.7893614a"

    uses = (box.root / "contracts/Uses.sol").read_text()
    output = solcx.compile_standard(
        {
            "language": "Solidity",
            "sources": {"contracts/Uses.sol": {"content": uses}},
            "settings": {"outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}}},
        },
        solc_binary=shim,
        base_path=box.root,
    )
    assert sorted(output["sources"]) == ["contracts/Uses.sol", "contracts/lib/Math.sol"]
    assert output["contracts"]["contracts/Uses.sol"]["Uses"]["evm"]["bytecode"]["object"]

    compiled = solcx.compile_source(
        "pragma solidity 0.8.28; contract Inline { uint256 public x = 1; }",
        solc_binary=shim,
        output_values=["abi", "bin", "ast"],
    )
    inline = compiled["<stdin>:Inline"]
    assert inline["bin"] and inline["ast"]["absolutePath"] == "<stdin>"
    assert [e["name"] for e in inline["abi"]] == ["x"]
    assert json.loads(json.dumps(inline["abi"]))  # plain JSON, not a string


def test_shim_defaults_to_the_project_folder_never_the_user_wide_one(
    box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without SOLCX_BINARY_PATH the wrapper goes to .pkr-pilot/solcx, not ~/.solcx (issue 12)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SOLCX_BINARY_PATH")
    result = install_solcx_shim(box.project())
    assert result.path == box.root / ".pkr-pilot" / "solcx" / "solc-v0.8.28"
    assert result.status == "installed"
    assert list(home.iterdir()) == []
