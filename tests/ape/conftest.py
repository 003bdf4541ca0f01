"""The Ape lane's own fixtures: tests/ape are written in Ape's idiom and use Ape's project and chain.

(tests/conftest.py, loaded too, defines ``project`` and ``chain`` as the toolkit's; the Ape-native
smoke tests here get Ape's objects back.) The lane also removes ``contracts/.cache``, the copy of
the dependencies ape-solidity may unpack there: a stale copy breaks the next ``ape compile``
(issue 14.0) and would show in ``git status``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pytest_sessionstart(session: pytest.Session) -> None:
    shutil.rmtree(ROOT / "contracts" / ".cache", ignore_errors=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(ROOT / "contracts" / ".cache", ignore_errors=True)


@pytest.fixture(scope="session")
def project() -> Any:
    import ape

    return ape.project


@pytest.fixture(scope="session")
def chain() -> Any:
    import ape

    return ape.chain


@pytest.fixture(autouse=True)
def _isolated(chain: Any) -> Any:
    """Each Ape-native test on a snapshot of Ape's chain (the lane runs with --disable-isolation,
    because the toolkit fixtures of the behaviour suite keep their own snapshots)."""
    with chain.isolate():
        yield
