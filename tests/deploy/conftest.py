"""Fixtures for the deploy tests; the helpers they use are in deploy_env.py."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deploy_env import ROOT, Node, free_port

from pkr_pilot.config import Project, load_project


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
            if node.proc is not None and node.proc.poll() is None:
                node.proc.kill()
                node.proc.wait()


@pytest.fixture(autouse=True)
def _no_crash_seam(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PKR_PILOT_CRASH_AT", raising=False)


