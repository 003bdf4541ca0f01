"""Fixtures for the deploy tests; the helpers they use are in deploy_env.py."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from deploy_env import ROOT, Node

from pkr_pilot.chain import free_port
from pkr_pilot.config import Project, load_project


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The full crash matrix (marked ``slow``) runs only when asked: ``-m slow`` or PKR_PILOT_FULL_DRILLS=1."""
    if config.getoption("-m") or os.environ.get("PKR_PILOT_FULL_DRILLS"):
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="full crash matrix: run with -m slow or PKR_PILOT_FULL_DRILLS=1")
    for item in items:
        if "slow" in item.keywords and here in Path(str(item.path)).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A frozen copy of the project, compiled once for the whole session."""
    from pkr_pilot.compile import compile_project

    real = load_project(ROOT, env={})
    compile_project(real)  # fills the checkout's build/ (a no-op when fresh)
    root = tmp_path_factory.mktemp("deployroot")
    shutil.copy2(ROOT / "pkr-pilot.toml", root / "pkr-pilot.toml")
    shutil.copytree(ROOT / "contracts", root / "contracts")
    shutil.copytree(ROOT / "build", root / "build", ignore=shutil.ignore_patterns(".lock"))
    (root / "node_modules").symlink_to(ROOT / "node_modules")
    (root / "bin").symlink_to(ROOT / "bin")
    (root / "tools").symlink_to(ROOT / "tools")
    frozen = load_project(root, env={})
    compile_project(frozen)  # a cache hit unless contracts changed between the two copies
    return frozen


@pytest.fixture(scope="session")
def compiled(project: Project) -> Any:
    from pkr_pilot.compile import compile_project

    return compile_project(project)


@pytest.fixture
def anvil(tmp_path: Path) -> Iterator[Any]:
    """``anvil(state=False, extra=())`` starts a private node; all are stopped after the test."""
    nodes: list[Node] = []

    def make(*, state: bool = False, extra: tuple[str, ...] = ()) -> Node:
        state_file = tmp_path / f"anvil-{len(nodes)}.json" if state else None
        node = Node(free_port(), state_file, extra).start()
        nodes.append(node)
        return node

    try:
        yield make
    finally:
        for node in nodes:
            node.kill()




@dataclass
class Shared:
    """One anvil with the dev-default stack deployed once; each test gets it back as deployed."""

    node: Node
    template: Path
    result: Any
    snapshot: str

    def reset(self) -> None:
        assert self.node.rpc("evm_revert", self.snapshot) is True
        self.snapshot = str(self.node.rpc("evm_snapshot"))  # reverting used the snapshot up


@pytest.fixture(scope="session")
def shared(project: Project, compiled: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    from deploy_env import chain_for, dev

    from pkr_pilot.deploy import run_deploy
    from pkr_pilot.tx import TxPolicy

    node = Node(free_port(), None).start()
    try:
        template = tmp_path_factory.mktemp("shared") / "dep"
        result = run_deploy(chain_for(node, project), dev(0), project, deployments_dir=template, compiled=compiled,
                            policy=TxPolicy(timeout=20, poll_interval=0.02))
        yield Shared(node, template, result, str(node.rpc("evm_snapshot")))
    finally:
        node.kill()


@pytest.fixture
def deployed(shared: Shared, tmp_path: Path) -> Iterator[tuple[Node, Path, Any]]:
    """``(node, folder, result)``: the dev-default stack as just deployed, with its own records folder."""
    folder = tmp_path / "dep"
    shutil.copytree(shared.template, folder)
    try:
        yield shared.node, folder, shared.result
    finally:
        shared.reset()
