"""Fixtures for the fault drills: a frozen project copy, anvil nodes (AnvilNode) behind a FaultProxy, the CLI.

The drills run the toolkit as a user does (``python -m pkr_pilot`` subprocesses) against a named network
``drill`` whose URL is the proxy's. The full matrix is marked ``slow`` (``make drills``); ``make test``
runs the cells that are not.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from drill_rig import Rig
from faultproxy import FaultProxy

from pkr_pilot.chain import AnvilNode, AnvilOptions
from pkr_pilot.config import Project, load_project

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The full matrix (marked ``slow``) runs only when asked: ``-m slow`` or PKR_PILOT_FULL_DRILLS=1."""
    if config.getoption("-m") or os.environ.get("PKR_PILOT_FULL_DRILLS"):
        return
    skip = pytest.mark.skip(reason="full fault matrix: run with `make drills`")
    for item in items:
        if "slow" in item.keywords and HERE in Path(str(item.path)).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def drill_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A throw-away project root (contracts and build copied, compiled once): the CLI writes deployments/ there."""
    from pkr_pilot.compile import compile_project

    compile_project(load_project(ROOT, env={}))
    root = tmp_path_factory.mktemp("drillroot")
    shutil.copy2(ROOT / "pkr-pilot.toml", root / "pkr-pilot.toml")
    shutil.copytree(ROOT / "contracts", root / "contracts")
    shutil.copytree(ROOT / "build", root / "build", ignore=shutil.ignore_patterns(".lock"))
    for link in ("node_modules", "bin", "tools"):
        if (ROOT / link).exists():
            (root / link).symlink_to(ROOT / link)
    project = load_project(root, env={})
    compile_project(project)
    return project


@pytest.fixture
def rig(drill_project: Project, tmp_path: Path) -> Iterator[Rig]:
    name = f"drill_{tmp_path.name[-12:].replace('-', '_')}"
    node = AnvilNode.for_project(drill_project, AnvilOptions(state_file=tmp_path / "anvil-state.json"), log=False).start()
    proxy = FaultProxy(node.url)
    networks = tmp_path / "networks.toml"
    networks.write_text(f'[networks.{name}]\nurl = "{proxy.url}"\nchain_id = 31337\ntimeout = 6\n')
    try:
        yield Rig(drill_project, node, proxy, networks, name)
    finally:
        proxy.close()
        node.stop()
        shutil.rmtree(drill_project.paths.deployments / name, ignore_errors=True)
