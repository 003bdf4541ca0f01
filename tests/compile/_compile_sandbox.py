"""Small throw-away projects for the compiler tests.

Each project is a folder with ``pkr-pilot.toml``, ``contracts/``, copies of
``bin/solc`` and ``tools/solc/solc.cjs``, and a ``node_modules`` holding a
link to the real solc-js plus a private copy of the one OpenZeppelin file the
sources import (so a test may edit it). solc runs through a counting wrapper
around the real runner: the cache tests count invocations, never time.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pkr_pilot.compile import CompileResult, SolcxRunner, compile_project
from pkr_pilot.config import Project, load_project

REPO = Path(__file__).resolve().parents[2]
OZ_CONTEXT = "@openzeppelin/contracts/utils/Context.sol"

TOML = """\
[compiler]
solc_version = "0.8.28"
evm_version = "cancun"
optimizer = true
optimizer_runs = 10000
via_ir = false
"""

MAIN_SOL = """\
// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {MathLib} from "./lib/Math.sol";

/// @notice A tiny token for the compiler tests.
contract Token is Context {
    uint256 public immutable cap;
    mapping(address => uint256) public balanceOf;
    uint256 public totalSupply;

    constructor(uint256 cap_) {
        cap = cap_;
    }

    function mint(address to, uint256 amount) external {
        uint256 unused;
        balanceOf[to] += MathLib.twice(amount);
        totalSupply += amount;
    }
}
"""

MATH_SOL = """\
// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

library MathLib {
    function twice(uint256 x) internal pure returns (uint256) {
        return 2 * x;
    }
}
"""

DUP_SOL = """\
// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

contract Dup {
    function which() external pure returns (uint256) {
        return {n};
    }
}
"""

BASE_SOURCES: dict[str, str] = {
    "contracts/Token.sol": MAIN_SOL,
    "contracts/lib/Math.sol": MATH_SOL,
    "contracts/a/Dup.sol": DUP_SOL.replace("{n}", "1"),
    "contracts/b/Dup.sol": DUP_SOL.replace("{n}", "2"),
}


class CountingRunner:
    """The real runner, counting how often solc is started."""

    def __init__(self) -> None:
        self.inner = SolcxRunner()
        self.versions = 0
        self.compiles = 0

    def version(self, solc: Path) -> str:
        self.versions += 1
        return self.inner.version(solc)

    def compile_standard(
        self,
        solc: Path,
        input_json: Mapping[str, Any],
        *,
        base_path: Path,
        allow_paths: Sequence[Path],
    ) -> dict[str, Any]:
        self.compiles += 1
        return self.inner.compile_standard(
            solc, input_json, base_path=base_path, allow_paths=allow_paths
        )


@dataclass
class Sandbox:
    root: Path

    def project(self, **compiler: Any) -> Project:
        project = load_project(self.root, env={})
        if compiler:
            from dataclasses import replace

            project = replace(project, compiler=replace(project.compiler, **compiler))
        return project

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def compile(self, runner: CountingRunner | None = None, **kwargs: Any) -> CompileResult:
        return compile_project(self.project(), runner=runner or CountingRunner(), **kwargs)


def make_sandbox(root: Path, sources: Mapping[str, str]) -> Sandbox:
    (root / "contracts").mkdir(parents=True)
    (root / "pkr-pilot.toml").write_text(TOML)
    for rel in ("bin/solc", "tools/solc/solc.cjs"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, root / rel)
    modules = root / "node_modules"
    modules.mkdir()
    (modules / "solc").symlink_to(REPO / "node_modules" / "solc")
    context = modules / OZ_CONTEXT
    context.parent.mkdir(parents=True)
    shutil.copy2(REPO / "node_modules" / OZ_CONTEXT, context)
    box = Sandbox(root)
    for rel, text in sources.items():
        box.write(rel, text)
    return box


def copy_sandbox(src: Sandbox, dest: Path) -> Sandbox:
    shutil.copytree(src.root, dest, symlinks=True)
    return Sandbox(dest)
