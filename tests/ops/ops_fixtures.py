"""The operations fixtures as a plugin module, shared by ``tests/ops`` (through its conftest) and
``tests/cli/test_ops_cli.py`` (by import). The anvil node and the deployed stacks are cached per
process, so both places use one node and one deployment.

A private anvil, the stack deployed once, a fresh chain per test:

* ``node`` (session): anvil on a free port, automine, 16 funded dev accounts.
* ``ops_root`` (session): a throw-away project root (``pkr-pilot.toml`` with networks ``opsnet`` and
  ``opsgov`` pointing at the node, ``contracts`` linked to the checkout), so CLI tests write records
  and journals there, never into the checkout's ``deployments/``.
* ``stack_env`` (session): the dev-default stack (token + desk) deployed by ``pkr_pilot.deploy`` into
  ``deployments/opsnet``, and the same with the timelock on in ``deployments/opsgov``.
* ``env`` (per test): ``evm_snapshot`` before, ``evm_revert`` after, empty operations journals.
* ``operator_for(index, ...)``: an :class:`~pkr_pilot.ops.Operator` signing as dev account ``index``
  with a journal in the test's ``tmp_path``.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ops_env import (
    EXECUTOR,
    NETWORK_TOML,
    PROPOSER,
    ROOT,
    TIMELOCK_DELAY,
    Node,
    StackEnv,
    acct,
    deploy,
    start_anvil,
)
from web3 import Web3

from pkr_pilot.config import Project, load_project
from pkr_pilot.contracts import Stack
from pkr_pilot.ops import OperationsJournal, Operator
from pkr_pilot.tx import Sender, TxPolicy

_CACHE: dict[str, Any] = {}


@pytest.fixture(scope="session")
def node() -> Iterator[Node]:
    n = _CACHE.get("node")
    if n is None:
        n = _CACHE["node"] = start_anvil()
    try:
        yield n
    finally:
        if n.anvil.running:
            n.stop()


@pytest.fixture(scope="session")
def real_project() -> Project:
    return load_project(ROOT, env={})


@pytest.fixture(scope="session")
def compiled(real_project: Project) -> Any:
    from pkr_pilot.compile import compile_project

    return compile_project(real_project)


@pytest.fixture(scope="session")
def ops_root(tmp_path_factory: pytest.TempPathFactory, node: Node, real_project: Project) -> Path:
    if "ops_root" in _CACHE:
        return _CACHE["ops_root"]  # type: ignore[no-any-return]
    root = _CACHE["ops_root"] = tmp_path_factory.mktemp("opsroot")
    runs = real_project.compiler.optimizer_runs
    (root / "pkr-pilot.toml").write_text(NETWORK_TOML.format(url=node.url, runs=runs))
    (root / "contracts").symlink_to(ROOT / "contracts")
    (root / "node_modules").symlink_to(ROOT / "node_modules")
    for name in ("bin", "tools", "package.json"):  # the Node-backed solc, for commands that compile (verify)
        (root / name).symlink_to(ROOT / name)
    return root


@pytest.fixture(scope="session")
def stack_env(node: Node, ops_root: Path, real_project: Project, compiled: Any) -> StackEnv:
    cached = _CACHE.get("stack_env")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    from pkr_pilot.deploy import dev_default_config
    from pkr_pilot.deploy.config import TimelockConfig

    # The project's build, so commands that compile (verify) hit the cache instead of running solc.
    shutil.copytree(real_project.paths.build, ops_root / "build", dirs_exist_ok=True)
    base = dev_default_config()
    stack = deploy(node, ops_root, real_project, compiled, "opsnet", base)
    governed = dataclasses.replace(
        base,
        timelock=TimelockConfig(
            enabled=True, min_delay=TIMELOCK_DELAY, proposers=(f"dev:{PROPOSER}",), executors=(f"dev:{EXECUTOR}",)
        ),
    )
    gov = deploy(node, ops_root, real_project, compiled, "opsgov", governed)
    env = _CACHE["stack_env"] = StackEnv(node, ops_root, load_project(ops_root, env={}), stack, gov)
    return env


@pytest.fixture
def env(stack_env: StackEnv) -> Iterator[StackEnv]:
    """A fresh chain (snapshot/revert) and empty journals for each test."""
    snap = stack_env.node.rpc("evm_snapshot")
    for network in ("opsnet", "opsgov"):
        stack_env.journal_path(network).unlink(missing_ok=True)
    try:
        yield stack_env
    finally:
        # Back to automine (interval 0 first: on anvil it switches mining off). The pool is emptied
        # before automine comes back and again after the revert: a transaction a test left pending
        # (manual mining) must not be mined into the next test (evm_revert keeps the pool).
        stack_env.node.rpc("evm_setIntervalMining", 0)
        stack_env.node.rpc("anvil_dropAllTransactions")
        stack_env.node.rpc("evm_setAutomine", True)
        assert stack_env.node.rpc("evm_revert", snap) is True
        stack_env.node.rpc("anvil_dropAllTransactions")
        for network in ("opsnet", "opsgov"):
            stack_env.journal_path(network).unlink(missing_ok=True)


OperatorFactory = Callable[..., Operator]


@pytest.fixture
def operator_for(env: StackEnv, tmp_path: Path) -> OperatorFactory:
    """``operator_for(dev_index, stack=, journal=, policy=, w3=, **Operator kwargs)``."""

    def make(
        index: int,
        *,
        stack: Stack | None = None,
        journal: OperationsJournal | None = None,
        policy: TxPolicy | None = None,
        w3: Web3 | None = None,
        **kwargs: Any,
    ) -> Operator:
        the_stack = stack or env.stack
        sender = Sender(w3 or env.w3, acct(index), decoder=the_stack.decoder,
                        policy=policy or TxPolicy(timeout=20, poll_interval=0.02))
        return Operator(the_stack, sender, journal or OperationsJournal(tmp_path / "operations.jsonl"),
                        network="opsnet", **kwargs)

    return make


@pytest.fixture(autouse=True)
def _no_password_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PKR_PILOT_PASSWORD", raising=False)
