"""Shared fixtures: the project, its compiled artifacts, a chain per backend, the deployed stack.

Backends
    ``--backend anvil`` (a managed anvil) or ``--backend memory`` (in-process py-evm) runs every
    chain test on that backend. Without the option, chain tests run on anvil, and the tests
    marked ``both_backends`` (the core token behaviour) run on anvil *and* py-evm, so
    ``make test`` has two independent EVM implementations agree.
    Under ``ape test`` (the Ape lane) every chain test runs on the node of Ape's provider
    (backend ``ape``; see tests/_provider.py): the same tests, Ape's network.

Isolation
    The stack is deployed once per session per backend (``deployed_stack``). The ``stack``
    fixture hands it to a test inside ``chain.snapshot()``: whatever the test does is reverted
    afterwards. ``snapshot`` does the same for tests that only need the chain.

Fixtures for other test folders: ``project``, ``compiled``, ``chain``, ``deployed_stack``,
``stack``, ``actors``, ``token``, ``snapshot``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _provider import ape_provider_url, under_ape
from _stack import PilotStack, build_stack, deploy_config_for_tests
from helpers import ContractClient
from pkr_pilot.chain import Chain, connect
from pkr_pilot.config import Project, load_project

BACKENDS = ("anvil", "memory")
# The session chain keeps every block's state in memory. With the managed node's default bound on
# spilled states (--max-persisted-states), hundreds of snapshot/revert cycles made anvil drop the state
# of blocks a few behind the head ("BlockOutOfRangeError: block height is 55 but requested was 48"),
# which a reconcile from an opening state needs. A test session's chain is small and short-lived.
KEEP_ALL_STATES = ("--prune-history", "1000000")
_NETWORK_OF = {"anvil": "local", "memory": "memory"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="run chain tests on this EVM only (default: anvil, plus py-evm for tests marked both_backends)",
    )
    parser.addoption(
        "--behaviour-anvil-in-ape-lane",
        action="store_true",
        help="deselect the behaviour suite's anvil runs (make test runs them in the Ape lane, on Ape's anvil)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if under_ape(config):
        # One node for the whole lane: the shared stack is deployed before the suites that deploy a
        # PilotRupee of their own from dev:0 (desk, pause policy), because the deploy asks the chain
        # what the deployer created before and would find theirs (stable sort: order kept otherwise).
        items.sort(key=lambda item: "deployed_stack" not in getattr(item, "fixturenames", ()))
    if not config.getoption("--behaviour-anvil-in-ape-lane"):
        return
    keep, moved = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_anvil = callspec is None or callspec.params.get("backend", "anvil") == "anvil"
        (moved if item.get_closest_marker("behaviour") and on_anvil else keep).append(item)
    if moved:
        config.hook.pytest_deselected(items=moved)
        items[:] = keep


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """tests/ape is the Ape lane: collected only when Ape's pytest plugin runs (tests/ape/pytest.ini)."""
    ape_lane = Path(__file__).resolve().parent / "ape"
    inside = collection_path == ape_lane or ape_lane in collection_path.parents
    if inside and not config.pluginmanager.has_plugin("ape_test"):
        return True
    return None


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start slither in the background when its test was collected (it overlaps the chain tests)."""
    if not any(item.nodeid.startswith("tests/contracts/test_slither.py") for item in session.items):
        return
    import _slither_bg

    from pkr_pilot.compile import compile_project

    project = load_project(Path(__file__).resolve().parents[1])
    _slither_bg.start(session.config, project.paths.root, compile_project(project).build_info)


def pytest_unconfigure(config: pytest.Config) -> None:
    if "_slither_bg" in sys.modules:
        sys.modules["_slither_bg"].stop(config)


def backends_for(config: pytest.Config, node: Any) -> list[str]:
    if under_ape(config):
        return ["ape"]
    chosen = config.getoption("--backend")
    if chosen:
        return [chosen]
    if node.get_closest_marker("both_backends") is not None:
        return list(BACKENDS)
    return ["anvil"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize(
            "backend", backends_for(metafunc.config, metafunc.definition), indirect=True, scope="session"
        )


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    """The EVM backend of this test (parametrized by ``pytest_generate_tests``)."""
    return str(getattr(request, "param", request.config.getoption("--backend") or "anvil"))


@pytest.fixture(scope="session")
def project() -> Project:
    return load_project(Path(__file__).resolve().parents[1])


@pytest.fixture(scope="session")
def compiled(project: Project) -> Any:
    """The project's compile result (solc runs at most once; later sessions hit the cache)."""
    from pkr_pilot.compile import compile_project

    return compile_project(project)


@pytest.fixture(scope="session")
def chain(project: Project, backend: str) -> Iterator[Chain]:
    """A fresh dev chain of ``backend`` for the whole session (anvil is stopped afterwards)."""
    network = ape_provider_url() if backend == "ape" else _NETWORK_OF[backend]
    with connect(project, network, log=False, node_args=KEEP_ALL_STATES) as connected:
        yield connected


@pytest.fixture(scope="session")
def deployed_stack(chain: Chain, project: Project, compiled: Any) -> PilotStack:
    """The stack deployed once on ``chain`` (see tests/_stack.py for roles and balances)."""
    from pkr_pilot.accounts import dev_account
    from pkr_pilot.deploy import deploy_stack

    deployment = deploy_stack(
        chain,
        dev_account(0, chain_id=chain.chain_id),
        project,
        deploy_config_for_tests(),
        compiled=compiled,
        deployments_dir=None,
    )
    return build_stack(chain, deployment, compiled.artifacts)


@pytest.fixture
def stack(deployed_stack: PilotStack) -> Iterator[PilotStack]:
    """The deployed stack, on a snapshot that is reverted after the test."""
    with deployed_stack.snapshot():
        yield deployed_stack


@pytest.fixture
def snapshot(chain: Chain) -> Iterator[Any]:
    """Revert whatever the test does to ``chain``."""
    with chain.snapshot() as snapshot_id:
        yield snapshot_id


@pytest.fixture
def actors(stack: PilotStack) -> Any:
    return stack.actors


@pytest.fixture
def token(stack: PilotStack) -> ContractClient:
    return stack.token
