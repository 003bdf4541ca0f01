"""Run slither on one Hardhat build-info, with a cache; used by tests/contracts/test_slither.py.

``python tests/contracts/_slither_run.py ROOT BUILD_INFO`` prints the folder holding
``slither.json`` and ``slither.stderr`` for this build.

The report is cached in ``build/test-cache/slither-<key>/`` where the key covers the build-info
(its id is a hash of every source, the settings and the compiler), ``slither.config.json`` and the
slither version: a second ``make test`` with unchanged contracts reuses it; any change re-runs
slither. A file lock makes concurrent callers (xdist workers, the background start) wait for one run.

A run exports the build-info with crytic-compile (the slither CLI only recognises a Hardhat project
by a hardhat.config file) and runs the ``slither`` executable next to this Python on the export
with ROOT/slither.config.json.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path


def report_folder(root: Path, build_info: Path) -> Path:
    key = hashlib.sha256()
    key.update(build_info.name.encode())
    key.update((root / "slither.config.json").read_bytes())
    key.update(version("slither-analyzer").encode())
    return root / "build" / "test-cache" / f"slither-{key.hexdigest()[:20]}"


def main(root: Path, build_info: Path) -> Path:
    folder = report_folder(root, build_info)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / "slither.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "slither.json").exists():
            work = Path(tempfile.mkdtemp(prefix="slither-", dir=folder.parent))
            try:
                _run(root, build_info, work)
                if folder.exists():
                    shutil.rmtree(folder)
                os.replace(work, folder)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return folder


def _run(root: Path, build_info: Path, work: Path) -> None:
    from crytic_compile import CryticCompile, save_to_zip

    build = work / "build" / "build-info"
    build.mkdir(parents=True)
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
    slither = Path(sys.executable).with_name("slither")
    proc = subprocess.run(
        [str(slither), str(export), "--config-file", str(root / "slither.config.json"), "--json", str(work / "slither.json")],
        cwd=root, capture_output=True, text=True, timeout=600, check=False,
    )
    (work / "slither.stderr").write_text(proc.stderr)
    shutil.rmtree(work / "build")
    export.unlink()
    if not (work / "slither.json").exists():
        raise SystemExit(f"slither wrote no report (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


if __name__ == "__main__":
    print(main(Path(sys.argv[1]), Path(sys.argv[2])))
