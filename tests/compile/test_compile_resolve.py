"""Which solc is used: explicit > native installed for py-solc-x > Node-backed bin/solc."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from _compile_sandbox import CountingRunner, Sandbox, make_sandbox

from pkr_pilot.compile import SHIM_MARKER, SolcResolver
from pkr_pilot.config import load_project
from pkr_pilot.errors import ToolchainError


def fake_solc(path: Path, long_version: str) -> Path:
    """A script that answers ``--version`` like a native solc would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "#!/bin/sh\n"
        "echo 'solc, the solidity compiler commandline interface'\n"
        f"echo 'Version: {long_version}'\n"
    )
    path.chmod(0o755)
    return path


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    return make_sandbox(tmp_path / "proj", {})


@pytest.fixture
def solcx_dir() -> Path:
    return Path(os.environ["SOLCX_BINARY_PATH"])  # an empty folder per test (conftest)


def resolver(
    box: Sandbox, runner: CountingRunner | None = None, **compiler: object
) -> SolcResolver:
    project = box.project(**compiler)
    return SolcResolver(project.compiler, project.paths, runner=runner or CountingRunner())


def test_explicit_path_wins_over_native_and_node(box: Sandbox, solcx_dir: Path) -> None:
    fake_solc(solcx_dir / "solc-v0.8.28", "0.8.28+commit.7893614a.Linux.g++")
    explicit = fake_solc(box.root / "site" / "solc", "0.8.28+commit.7893614a.Darwin.appleclang")
    identity = resolver(box, solc_path=explicit).resolve()
    assert (identity.kind, identity.path) == ("explicit", explicit)
    assert identity.long_version == "0.8.28+commit.7893614a.Darwin.appleclang"


def test_native_installed_for_solcx_wins_over_node(box: Sandbox, solcx_dir: Path) -> None:
    native = fake_solc(solcx_dir / "solc-v0.8.28", "0.8.28+commit.7893614a.Linux.g++")
    identity = resolver(box).resolve()
    assert (identity.kind, identity.path) == ("native", native)
    assert identity.version == "0.8.28"
    assert identity.long_version == "0.8.28+commit.7893614a.Linux.g++"


def test_native_of_another_version_is_ignored(box: Sandbox, solcx_dir: Path) -> None:
    fake_solc(solcx_dir / "solc-v0.8.26", "0.8.26+commit.8a97fa7a.Linux.g++")
    assert resolver(box).candidate().kind == "node"


def test_node_backed_solc_is_the_fallback(box: Sandbox) -> None:
    identity = resolver(box).resolve()
    assert (identity.kind, identity.path) == ("node", box.root / "bin" / "solc")
    assert identity.long_version == "0.8.28+commit.7893614a.Emscripten.clang"


def test_pkr_pilot_solc_environment_variable_is_an_explicit_path(box: Sandbox) -> None:
    explicit = fake_solc(box.root / "site" / "solc", "0.8.28+commit.7893614a.Linux.g++")
    project = load_project(box.root, env={"PKR_PILOT_SOLC": str(explicit)})
    identity = SolcResolver(project.compiler, project.paths, runner=CountingRunner()).resolve()
    assert (identity.kind, identity.path) == ("explicit", explicit)


def test_missing_explicit_path_is_refused(box: Sandbox) -> None:
    with pytest.raises(ToolchainError, match=r"solc not found at .*/nope.*PKR_PILOT_SOLC"):
        resolver(box, solc_path=box.root / "nope").candidate()


def test_explicit_path_that_is_not_executable_is_refused(box: Sandbox) -> None:
    explicit = fake_solc(box.root / "site" / "solc", "0.8.28+commit.7893614a.Linux.g++")
    explicit.chmod(0o644)
    with pytest.raises(ToolchainError, match="not executable"):
        resolver(box, solc_path=explicit).candidate()


def test_explicit_solc_of_another_version_is_refused(box: Sandbox) -> None:
    explicit = fake_solc(box.root / "site" / "solc", "0.8.26+commit.8a97fa7a.Linux.g++")
    with pytest.raises(ToolchainError) as info:
        resolver(box, solc_path=explicit).resolve()
    assert info.value.message == (
        f"{explicit} is solc 0.8.26+commit.8a97fa7a.Linux.g++, but pkr-pilot.toml pins 0.8.28"
    )
    assert "--solc / PKR_PILOT_SOLC" in str(info.value)


def test_native_answering_another_version_than_its_name_is_refused(
    box: Sandbox, solcx_dir: Path
) -> None:
    fake_solc(solcx_dir / "solc-v0.8.28", "0.8.27+commit.40a35a09.Linux.g++")
    with pytest.raises(ToolchainError, match=r"is solc 0\.8\.27.*pins 0\.8\.28"):
        resolver(box).resolve()


def test_unreadable_version_answer_is_refused(box: Sandbox) -> None:
    explicit = box.root / "site" / "solc"
    explicit.parent.mkdir()
    explicit.write_text("#!/bin/sh\necho hello\n")
    explicit.chmod(0o755)
    with pytest.raises(ToolchainError, match="cannot read a solc version from 'hello'"):
        resolver(box, solc_path=explicit).resolve()


def test_our_wrapper_in_the_solcx_folder_counts_as_node(box: Sandbox, solcx_dir: Path) -> None:
    entry = box.root / "tools" / "solc" / "solc.cjs"
    wrapper = solcx_dir / "solc-v0.8.28"
    wrapper.write_text(f"#!/bin/sh\n{SHIM_MARKER} target={entry}\nexec node '{entry}' \"$@\"\n")
    wrapper.chmod(0o755)
    identity = resolver(box).resolve()
    assert (identity.kind, identity.path) == ("node", wrapper)


def test_stale_wrapper_of_a_moved_checkout_falls_back_to_bin_solc(
    box: Sandbox, solcx_dir: Path
) -> None:
    wrapper = solcx_dir / "solc-v0.8.28"
    wrapper.write_text(f"#!/bin/sh\n{SHIM_MARKER} target=/gone/tools/solc/solc.cjs\nexit 1\n")
    wrapper.chmod(0o755)
    candidate = resolver(box).candidate()
    assert (candidate.kind, candidate.path) == ("node", box.root / "bin" / "solc")


def test_missing_node_is_refused_with_setup_hint(
    box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = tmp_path / "bare-bin"  # a PATH with a shell but no node
    bare.mkdir()
    for tool in ("sh", "dirname"):
        found = shutil.which(tool)
        assert found is not None
        (bare / tool).symlink_to(found)
    monkeypatch.setenv("PATH", str(bare))
    with pytest.raises(ToolchainError) as info:
        resolver(box).candidate()
    assert info.value.message.startswith("Node.js (`node`) is not on PATH")
    assert "run `make setup` (or `npm ci`)" in str(info.value)


def test_missing_solc_js_is_refused_with_npm_ci_hint(box: Sandbox) -> None:
    (box.root / "node_modules" / "solc").unlink()
    with pytest.raises(ToolchainError, match=r"solc-js is not installed .*npm ci"):
        resolver(box).candidate()


def test_version_probe_runs_once_per_resolver(box: Sandbox) -> None:
    runner = CountingRunner()
    solc = resolver(box, runner)
    assert solc.resolve() == solc.resolve()
    assert runner.versions == 1
