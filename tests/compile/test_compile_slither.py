"""Slither (crytic-compile) reads our build output offline.

Two routes: the Hardhat platform over build/build-info (no solc run at all),
and the solc platform driving bin/solc with --combined-json.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _compile_sandbox import CountingRunner, Sandbox, copy_sandbox

from pkr_pilot.compile import CompileResult

pytest.importorskip("slither")

Built = tuple[Sandbox, CompileResult, CountingRunner]
SLITHER = Path(sys.executable).parent / "slither"

#: crytic-compile options that read build/ as a Hardhat artifacts folder without running npx.
HARDHAT_KWARGS = {
    "compile_force_framework": "hardhat",
    "hardhat_ignore_compile": True,
    "hardhat_artifacts_directory": "build",
    "npx_disable": True,
}


def test_slither_api_analyses_the_build_info(built: Built, monkeypatch: pytest.MonkeyPatch) -> None:
    from slither import Slither

    box, _, _ = built
    monkeypatch.chdir(box.root)
    slither = Slither(str(box.root), **HARDHAT_KWARGS)
    names = sorted(c.name for c in slither.contracts)
    assert names == ["Context", "Dup", "Dup", "MathLib", "Token"]
    token = next(c for c in slither.contracts if c.name == "Token")
    assert token.source_mapping.filename.relative == "contracts/Token.sol"
    assert [v.name for v in token.state_variables_ordered] == ["cap", "balanceOf", "totalSupply"]
    assert isinstance(slither.run_detectors(), list)


@pytest.mark.skipif(not SLITHER.exists(), reason="slither CLI not installed in this venv")
def test_slither_cli_reads_build_dir_offline(built: Built, tmp_path: Path) -> None:
    """`slither .` needs a hardhat.config.* marker to accept the folder as a project."""
    box = copy_sandbox(built[0], tmp_path / "proj")
    (box.root / "hardhat.config.cjs").write_text("// marker for crytic-compile; never run\n")
    proc = subprocess.run(
        [
            SLITHER,
            ".",
            "--compile-force-framework",
            "hardhat",
            "--hardhat-ignore-compile",
            "--hardhat-artifacts-directory",
            "build",
            "--npx-disable",
            "--exclude-dependencies",
            "--fail-none",
        ],
        cwd=box.root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert ". analyzed (5 contracts with" in proc.stderr


@pytest.mark.skipif(not SLITHER.exists(), reason="slither CLI not installed in this venv")
def test_slither_cli_drives_bin_solc_with_combined_json(built: Built, tmp_path: Path) -> None:
    box = copy_sandbox(built[0], tmp_path / "proj")
    shutil.rmtree(box.root / "build")
    proc = subprocess.run(
        [
            SLITHER,
            "contracts/Token.sol",
            "--solc",
            "bin/solc",
            "--solc-remaps",
            "@openzeppelin/=node_modules/@openzeppelin/",
            "--solc-args",
            "--optimize --evm-version cancun",
            "--fail-none",
        ],
        cwd=box.root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "contracts/Token.sol analyzed (3 contracts with" in proc.stderr
