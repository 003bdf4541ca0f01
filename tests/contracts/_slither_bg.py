"""Start slither in the background right after collection, so it overlaps with the chain tests.

Used by tests/conftest.py (``pytest_collection_finish``) and tests/contracts/test_slither.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().with_name("_slither_run.py")


@dataclass
class SlitherRun:
    process: subprocess.Popen[bytes]
    build_info: Path
    work: Path


SLITHER_RUN = pytest.StashKey[SlitherRun]()


def clean_env() -> dict[str, str]:
    """The environment without coverage's subprocess hooks (slither is not pkr_pilot code)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}


def start(config: pytest.Config, root: Path, build_info: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="pkr-slither-"))
    process = subprocess.Popen(
        [sys.executable, str(RUNNER), str(root), str(build_info), str(work)],
        env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    config.stash[SLITHER_RUN] = SlitherRun(process, build_info, work)


def stop(config: pytest.Config) -> None:
    run = config.stash.get(SLITHER_RUN, None)
    if run is not None and run.process.poll() is None:
        run.process.kill()
        run.process.wait()
