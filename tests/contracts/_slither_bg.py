"""Start slither in the background right after collection, so it overlaps with the chain tests.

Used by tests/conftest.py (``pytest_collection_finish``) and tests/contracts/test_slither.py. The
runner (``_slither_run.py``) caches its report per build and locks, so an up-to-date cache makes
this instant and concurrent starts never run slither twice.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().with_name("_slither_run.py")


@dataclass
class SlitherRun:
    process: subprocess.Popen[bytes]
    build_info: Path


SLITHER_RUN = pytest.StashKey[SlitherRun]()


def clean_env() -> dict[str, str]:
    """The environment without coverage's subprocess hooks (slither is not pkr_pilot code)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}


def start(config: pytest.Config, root: Path, build_info: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, str(RUNNER), str(root), str(build_info)],
        env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    config.stash[SLITHER_RUN] = SlitherRun(process, build_info)


def stop(config: pytest.Config) -> None:
    run = config.stash.get(SLITHER_RUN, None)
    if run is not None and run.process.poll() is None:
        run.process.kill()
        run.process.wait()
