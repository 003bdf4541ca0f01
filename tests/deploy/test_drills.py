"""Crash-and-resume drills: kill the deploy process at each step, restart the node from its state file.

The deploy runs in a child process (``_drill_driver.py``, which calls what ``pkr-pilot deploy``
calls) that talks to the node through the fault proxy, which SIGKILLs it at ``<step>:<point>``
(``deploy_env.CRASH_POINTS``: read from what its journal says it is doing; no cleanup, no flush beyond
what the journal already fsynced; production code carries no crash hook). The same deploy is then run again and
the result must equal a clean deploy: the same addresses, role holders, allowances and settings,
the same nonce for every signing account (no second copy of any contract, no extra transaction) and
the same number of ``RoleGranted``/``MinterConfigured`` events (no repeated grant).

``make test`` runs a representative subset; the full matrix (every step at every point) is marked
``slow`` (``pytest -m slow tests/deploy/test_drills.py``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deploy_env import (
    DRIVER,
    ROOT,
    Node,
    chain_for,
    dev,
    journal_lines,
    run_driver,
    stack_state,
)

from pkr_pilot.chain import free_port
from pkr_pilot.config import Project
from pkr_pilot.deploy import dev_default_config, run_deploy
from pkr_pilot.deploy._signers import resolve_accounts
from pkr_pilot.deploy.plan import build_plan
from pkr_pilot.tx import TxPolicy

POLICY = TxPolicy(timeout=20, poll_interval=0.02)


def _plan_ids() -> list[str]:
    config = dev_default_config()
    from pkr_pilot.deploy._signers import refs_of

    accounts = resolve_accounts(
        refs_of(config), deployer=dev(0).address, chain_id=31337, dev_chain_ids={31337}, keystores=Path("/nonexistent")
    )
    return [s.id for s in build_plan(config, accounts, dev(0).address)]


STEPS = _plan_ids()
#: Crash after the node accepted the transaction, and after it was confirmed and recorded, at every step.
MAIN_POINTS = ("after-send", "after-confirm")
#: Before signing, and signed + journaled but not yet submitted.
EARLY_POINTS = ("before-send", "after-sign")
#: The representative subset run by default: creations (the implementation, the proxy), a companion (the desk).
REPRESENTATIVE = {  # each crash point once in make test; every step at every point in make drills
    ("token.implementation", "after-send"),
    ("token.proxy", "after-confirm"),
    ("token.proxy", "after-sign"),
    ("desk", "before-send"),
}
#: After the last step is confirmed the deploy makes no call the proxy could stop: that point is the end of
#: a finished deploy (a re-run is up to date: every case below checks it), not a crash.
UNREACHABLE = {(STEPS[-1], "after-confirm")}


def _cases() -> list[Any]:
    cases = []
    for step in STEPS:
        for point in MAIN_POINTS + EARLY_POINTS:
            if (step, point) in UNREACHABLE:
                continue
            marks = () if (step, point) in REPRESENTATIVE else (pytest.mark.slow,)
            cases.append(pytest.param(step, point, id=f"{step}:{point}", marks=marks))
    return cases


class Genesis:
    """A module-wide anvil and a way back to its empty chain (evm_snapshot at block 0)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.snapshot = str(node.rpc("evm_snapshot"))

    def reset(self) -> None:
        assert self.node.rpc("evm_revert", self.snapshot) is True
        self.snapshot = str(self.node.rpc("evm_snapshot"))  # reverting used the snapshot up


@pytest.fixture(scope="module")
def genesis() -> Iterator[Genesis]:
    node = Node(free_port(), None).start()
    try:
        yield Genesis(node)
    finally:
        node.kill()


@pytest.fixture(scope="module")
def clean(genesis: Genesis, project: Project, compiled: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The on-chain state after an uninterrupted deploy from genesis."""
    folder = tmp_path_factory.mktemp("clean") / "dep"
    run_deploy(chain_for(genesis.node, project), dev(0), project, deployments_dir=folder, compiled=compiled, policy=POLICY)
    state = stack_state(genesis.node.w3, folder)
    genesis.reset()
    return state


@pytest.fixture
def fresh_chain(genesis: Genesis, clean: dict[str, Any]) -> Iterator[Node]:
    assert genesis.node.w3.eth.get_transaction_count(dev(0).address) == 0
    try:
        yield genesis.node
    finally:
        genesis.reset()


@pytest.mark.parametrize(("step", "point"), _cases())
def test_deploy_killed_at_a_step_resumes_to_the_clean_result(
    fresh_chain: Node, project: Project, compiled: Any, clean: dict[str, Any], tmp_path: Path, step: str, point: str
) -> None:
    folder = tmp_path / "dep"
    crashed = run_driver(fresh_chain, project, folder, crash_at=f"{step}:{point}")
    assert crashed.returncode == -9, crashed.stderr[-2000:]  # SIGKILL at the seam, not an error

    last = [line for line in journal_lines(folder) if line.get("step") == step][-1]
    assert last["event"] == {"before-send": "planned", "after-sign": "sending", "after-send": "sending", "after-confirm": "confirmed"}[point]

    resumed = run_deploy(chain_for(fresh_chain, project), dev(0), project, deployments_dir=folder, compiled=compiled, policy=POLICY)
    status = {o.step: o.status for o in resumed.outcomes}
    expected = {"before-send": "sent", "after-sign": "sent", "after-send": "recovered", "after-confirm": "up-to-date"}[point]
    assert status[step] == expected
    before = STEPS[: STEPS.index(step)]
    assert all(status[s] == "up-to-date" for s in before)
    assert stack_state(fresh_chain.w3, folder) == clean

    again = run_deploy(chain_for(fresh_chain, project), dev(0), project, deployments_dir=folder, compiled=compiled, policy=POLICY)
    assert again.up_to_date and again.transactions_sent == 0


def test_node_restarted_from_its_state_file_mid_deploy(
    anvil: Any, project: Any, compiled: Any, clean: dict[str, Any], tmp_path: Path
) -> None:
    """anvil is stopped (it writes its state file) while a transaction is pending, then restarted."""
    node = anvil(state=True, extra=("--no-mining",))
    folder = tmp_path / "dep"
    env_cmd = [sys.executable, str(DRIVER), "--root", str(project.paths.root), "--url", node.url, "--dir", str(folder)]
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src")
    child = subprocess.Popen(env_cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Mine one block per sent transaction until the 8th step is in flight, then stop the node.
        mined = 0
        deadline = time.monotonic() + 60
        while True:
            assert time.monotonic() < deadline, "the deploy did not progress"
            lines = journal_lines(folder) if (folder / ".journal.jsonl").exists() else []
            sent = [ln for ln in lines if ln["event"] == "sent"]
            if len(sent) > mined:
                if len(sent) == 8:
                    break
                node.rpc("evm_mine")
                mined += 1
            time.sleep(0.02)
        pending_step = sent[-1]["step"]
        node.stop()  # SIGINT: anvil dumps its state; the pending transaction is in flight
        assert node.state_file is not None and node.state_file.exists()
        _out, err = child.communicate(timeout=60)
        assert child.returncode == 4, err[-1500:]  # ChainError: the deploy lost its node
        # One line that says the node went away and how to resume (from the runner or tx.Sender).
        assert err.startswith(("error: lost the node during step", "error: lost the connection to the node"))
        assert "Traceback" not in err
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    node.extra = ()  # back with automine
    node.start()
    assert node.w3.eth.get_transaction_count(dev(0).address) == 7  # the first seven were kept
    resumed = run_deploy(chain_for(node, project), dev(0), project, deployments_dir=folder, compiled=compiled, policy=POLICY)
    status = {o.step: o.status for o in resumed.outcomes}
    assert status[pending_step] in ("sent", "recovered")
    assert stack_state(node.w3, folder) == clean


def test_node_restart_after_a_crash_between_steps(anvil: Any, project: Any, compiled: Any, clean: dict[str, Any], tmp_path: Path) -> None:
    """The deploy is killed after a step confirmed, the node is restarted from its state file, the deploy resumes."""
    node = anvil(state=True)
    folder = tmp_path / "dep"
    crashed = run_driver(node, project, folder, crash_at="desk:after-confirm")
    assert crashed.returncode == -9
    node.restart()
    resumed = run_deploy(chain_for(node, project), dev(0), project, deployments_dir=folder, compiled=compiled, policy=POLICY)
    assert {o.step: o.status for o in resumed.outcomes}["desk"] == "up-to-date"
    assert stack_state(node.w3, folder) == clean


def test_crash_matrix_size() -> None:
    """Documents the matrix: every step of the dev-default plan at four crash points (but after the last one)."""
    assert len(STEPS) == 26
    assert len(_cases()) == 26 * 4 - 1


# --------------------------------------------------------------------------- the journal is not the evidence


def test_journal_lost_after_a_creation_was_sent_does_not_deploy_it_twice(
    fresh_chain: Node, project: Project, compiled: Any, clean: dict[str, Any], tmp_path: Path
) -> None:
    """Killed after the desk's creation was sent (no record yet), then the journal is lost: the chain decides."""
    folder = tmp_path / "dep"
    crashed = run_driver(fresh_chain, project, folder, crash_at="desk:after-send")
    assert crashed.returncode == -9, crashed.stderr[-2000:]
    assert not (folder / "MintDesk.json").exists()
    (folder / ".journal.jsonl").unlink()

    resumed = run_deploy(chain_for(fresh_chain, project), dev(0), project, deployments_dir=folder, compiled=compiled, policy=POLICY)
    status = {o.step: o.status for o in resumed.outcomes}
    assert status["desk"] == "applied"  # found at the deployer's CREATE address, not deployed again
    assert any("found on chain at" in n for n in resumed.notices)
    assert stack_state(fresh_chain.w3, folder) == clean


def test_journal_and_records_lost_or_an_old_journal_restored_send_nothing(
    fresh_chain: Node, project: Project, compiled: Any, clean: dict[str, Any], tmp_path: Path
) -> None:
    folder = tmp_path / "dep"
    crashed = run_driver(fresh_chain, project, folder, crash_at="token.proxy:after-confirm")
    assert crashed.returncode == -9
    old_journal = (folder / ".journal.jsonl").read_bytes()
    run_deploy(chain_for(fresh_chain, project), dev(0), project, deployments_dir=folder, compiled=compiled, policy=POLICY)
    assert stack_state(fresh_chain.w3, folder) == clean

    (folder / ".journal.jsonl").write_bytes(old_journal)  # an old copy restored from a backup
    restored = run_deploy(chain_for(fresh_chain, project), dev(0), project, deployments_dir=folder, compiled=compiled, policy=POLICY)
    assert restored.transactions_sent == 0
    assert stack_state(fresh_chain.w3, folder) == clean

    for path in folder.glob("*.json"):  # every record and the journal gone: only the chain is left
        if not path.name.startswith("."):
            path.unlink()
    (folder / ".journal.jsonl").unlink()
    rebuilt = run_deploy(chain_for(fresh_chain, project), dev(0), project, deployments_dir=folder, compiled=compiled, policy=POLICY)
    assert rebuilt.transactions_sent == 0
    assert {o.status for o in rebuilt.outcomes} == {"applied"}
    assert stack_state(fresh_chain.w3, folder) == clean  # the records are rebuilt from the chain, same addresses


def test_a_chain_reverted_past_confirmed_steps_redoes_them_once(
    fresh_chain: Node, project: Project, compiled: Any, clean: dict[str, Any], tmp_path: Path
) -> None:
    """The journal says confirmed, the chain no longer has them (evm_revert): the steps run again, once."""
    folder = tmp_path / "dep"
    crashed = run_driver(fresh_chain, project, folder, crash_at=f"{STEPS[5]}:after-confirm")
    assert crashed.returncode == -9
    mid = fresh_chain.rpc("evm_snapshot")
    first = run_deploy(chain_for(fresh_chain, project), dev(0), project, deployments_dir=folder, compiled=compiled, policy=POLICY)
    assert first.transactions_sent == len(STEPS) - 6
    assert fresh_chain.rpc("evm_revert", mid) is True  # everything after step 6 is gone from the chain
    again = run_deploy(chain_for(fresh_chain, project), dev(0), project, deployments_dir=folder, compiled=compiled, policy=POLICY)
    assert again.transactions_sent == len(STEPS) - 6
    assert any("does not show it" in n for n in again.notices)
    assert stack_state(fresh_chain.w3, folder) == clean
