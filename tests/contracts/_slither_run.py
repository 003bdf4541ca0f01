"""Run slither on one Hardhat build-info; used by tests/contracts/test_slither.py.

``python tests/contracts/_slither_run.py ROOT BUILD_INFO WORKDIR`` exports the build-info with
crytic-compile (the slither CLI only recognises a Hardhat project by a hardhat.config file) and
runs the ``slither`` executable next to this Python on the export with ROOT/slither.config.json.
Writes WORKDIR/slither.json and WORKDIR/slither.stderr; exits with slither's code. The test suite
starts it in the background as soon as collection ends, so it overlaps with the chain tests.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def main(root: Path, build_info: Path, work: Path) -> int:
    from crytic_compile import CryticCompile, save_to_zip

    build = work / "build" / "build-info"
    build.mkdir(parents=True, exist_ok=True)
    shutil.copy(build_info, build / build_info.name)  # only the current build, never a stale one
    unit = CryticCompile(
        str(root),
        compile_force_framework="hardhat",
        hardhat_ignore_compile=True,
        hardhat_artifacts_directory=str(work / "build"),
        npx_disable=True,
    )
    export = work / "pkr-pilot.zip"
    save_to_zip([unit], str(export))
    out = work / "slither.json"
    out.unlink(missing_ok=True)  # slither never overwrites its JSON output
    slither = Path(sys.executable).with_name("slither")
    proc = subprocess.run(
        [str(slither), str(export), "--config-file", str(root / "slither.config.json"), "--json", str(out)],
        cwd=root, capture_output=True, text=True, timeout=600, check=False,
    )
    (work / "slither.stderr").write_text(proc.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
