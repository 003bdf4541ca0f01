"""Fixtures for the chain tests: a throw-away project (logs and state under tmp), node factories."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pkr_pilot.chain import AnvilNode, AnvilOptions
from pkr_pilot.config import Project, load_project

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """The checkout's settings in a temporary root, so logs and state files land under tmp."""
    root = tmp_path / "proj"
    (root / "contracts").mkdir(parents=True)
    shutil.copy2(ROOT / "pkr-pilot.toml", root / "pkr-pilot.toml")
    (root / "node_modules").symlink_to(ROOT / "node_modules")
    return load_project(root, env={})


@pytest.fixture
def anvil(project: Project) -> Iterator[Callable[..., AnvilNode]]:
    """``anvil(**AnvilOptions fields)`` starts a node for the project; every one is stopped after."""
    nodes: list[AnvilNode] = []

    def make(**options: object) -> AnvilNode:
        node = AnvilNode.for_project(project, AnvilOptions(**options))  # type: ignore[arg-type]
        nodes.append(node)
        return node.start()

    yield make
    for node in nodes:
        node.kill()
