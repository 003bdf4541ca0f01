"""Fixtures for the compiler tests; the sandbox helpers live in _compile_sandbox.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _compile_sandbox import BASE_SOURCES, CountingRunner, Sandbox, copy_sandbox, make_sandbox

from pkr_pilot.compile import CompileResult


@pytest.fixture(autouse=True)
def _isolated_solcx(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty py-solc-x folder, and no PKR_PILOT_* variables from the caller's shell."""
    monkeypatch.setenv("SOLCX_BINARY_PATH", str(tmp_path_factory.mktemp("solcx")))
    for name in ("PKR_PILOT_SOLC", "PKR_PILOT_ROOT", "PKR_PILOT_NETWORKS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Sandbox, CompileResult, CountingRunner]]:
    """One compiled project per test module; tests must not change it (copy it instead)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SOLCX_BINARY_PATH", str(tmp_path_factory.mktemp("solcx-module")))
    try:
        box = make_sandbox(tmp_path_factory.mktemp("built") / "proj", BASE_SOURCES)
        runner = CountingRunner()
        result = box.compile(runner)
        yield box, result, runner
    finally:
        mp.undo()


@pytest.fixture
def sandbox(built: tuple[Sandbox, CompileResult, CountingRunner], tmp_path: Path) -> Sandbox:
    """A private copy of the compiled module project (build/ included)."""
    return copy_sandbox(built[0], tmp_path / "proj")
