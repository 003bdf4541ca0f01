"""The managed anvil process: start, readiness, stop, start failures, restart from a state file."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pkr_pilot.accounts import DEV_MNEMONIC, dev_address
from pkr_pilot.chain import AnvilNode, AnvilOptions, anvil_package_name, find_anvil
from pkr_pilot.config import Project
from pkr_pilot.errors import NodeStartError, ToolchainError

DEV0_KEY_HEX = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # public anvil key 0


def _port_is_free(port: int) -> bool:
    """Nothing listens and a server could bind it again (SO_REUSEADDR, as anvil does)."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers kill(0); it is gone once its status says so.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" in status.read_text()


def _send_value(node: AnvilNode, value: int, *, mined: bool = True) -> None:
    """Send; wait until mined (anvil's automine mines just after eth_sendTransaction returns)."""
    tx_hash = node.rpc(
        "eth_sendTransaction",
        [{"from": dev_address(0), "to": dev_address(1), "value": hex(value)}],
    )
    deadline = time.monotonic() + 10
    while mined and node.rpc("eth_getTransactionReceipt", [tx_hash]) is None:
        assert time.monotonic() < deadline, "transaction not mined within 10 s"
        time.sleep(0.01)


def test_node_starts_on_a_free_port_with_chain_id_and_hardfork_then_stops_and_frees_the_port(
    project: Project,
) -> None:
    with AnvilNode.for_project(project) as node:
        pid, port = node.pid, node.port
        assert pid is not None and node.running
        assert int(node.rpc("eth_chainId"), 16) == 31337
        info = node.rpc("anvil_nodeInfo")
        assert info["hardFork"].lower() == project.compiler.hardfork == "cancun"
        assert node.rpc("eth_accounts")[0].lower() == dev_address(0).lower()
        assert node.last_start_seconds is not None and node.last_start_seconds < 5
    assert not node.running
    assert _process_gone(pid)
    assert _port_is_free(port)


def test_node_is_stopped_when_the_block_raises(project: Project) -> None:
    node = AnvilNode.for_project(project)
    with pytest.raises(RuntimeError, match="boom"), node:
        pid = node.pid
        raise RuntimeError("boom")
    assert pid is not None and _process_gone(pid)


def test_start_fails_with_anvil_stderr_when_the_port_is_taken(project: Project) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        node = AnvilNode.for_project(project, AnvilOptions(port=port))
        with pytest.raises(NodeStartError) as info:
            node.start()
    message = str(info.value)
    assert "Address already in use" in message
    assert f"port {port} is taken" in message
    assert "\n" not in message
    assert not node.running


def test_start_fails_with_anvil_stderr_on_a_bad_flag(project: Project) -> None:
    node = AnvilNode.for_project(project, AnvilOptions(extra_args=("--no-such-flag",)))
    with pytest.raises(NodeStartError, match="unexpected argument '--no-such-flag'"):
        node.start()
    assert not node.running


def test_restart_resumes_from_the_state_file(anvil: Callable[..., AnvilNode], tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    node = anvil(state_file=state)
    _send_value(node, 12345)
    balance = node.rpc("eth_getBalance", [dev_address(1), "latest"])
    port = node.port
    node.restart()
    assert node.port == port
    assert int(node.rpc("eth_blockNumber"), 16) == 1
    assert node.rpc("eth_getBalance", [dev_address(1), "latest"]) == balance
    assert state.is_file()


def test_state_interval_keeps_the_chain_across_a_hard_kill(
    anvil: Callable[..., AnvilNode], tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    node = anvil(state_file=state, state_interval=1)
    _send_value(node, 7)
    deadline = time.monotonic() + 5
    while b'"number":"0x1"' not in (state.read_bytes() if state.exists() else b""):
        assert time.monotonic() < deadline, "anvil did not dump its state within 5 s"
        time.sleep(0.1)
    node.kill()  # no graceful dump
    node.start()
    assert int(node.rpc("eth_blockNumber"), 16) == 1


def test_log_file_has_anvil_output_but_no_key_material(anvil: Callable[..., AnvilNode]) -> None:
    node = anvil()
    _send_value(node, 1)
    log_file = node.log_file
    node.stop()
    assert log_file is not None and log_file.parent.name == "logs"
    text = log_file.read_text()
    assert "Listening on" in text and "eth_sendTransaction" in text
    assert dev_address(0) in text  # addresses are fine
    assert DEV0_KEY_HEX not in text.lower()
    assert DEV_MNEMONIC not in text
    assert "Private Keys: left out by pkr-pilot" in text


def test_missing_anvil_is_a_toolchain_error_saying_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ToolchainError, match=r"anvil not found.*npm ci"):
        find_anvil(tmp_path / "node_modules", path_env=str(tmp_path))


def test_anvil_binary_is_found_in_the_platform_package(project: Project) -> None:
    found = find_anvil(project.paths.node_modules, path_env="")
    assert found.parent.parent.name == anvil_package_name()


@pytest.mark.parametrize(
    ("system", "machine", "package"),
    [
        ("linux", "x86_64", "anvil-linux-amd64"),
        ("linux", "aarch64", "anvil-linux-arm64"),
        ("darwin", "arm64", "anvil-darwin-arm64"),
        ("darwin", "x86_64", "anvil-darwin-amd64"),
        ("win32", "AMD64", "anvil-win32-amd64"),
    ],
)
def test_platform_package_name(system: str, machine: str, package: str) -> None:
    assert anvil_package_name(system, machine) == package


def test_no_mining_keeps_transactions_pending_until_mined(anvil: Callable[..., AnvilNode]) -> None:
    node = anvil(no_mining=True)
    _send_value(node, 1, mined=False)
    assert int(node.rpc("eth_blockNumber"), 16) == 0
    node.rpc("evm_mine")
    assert int(node.rpc("eth_blockNumber"), 16) == 1


def test_old_logs_are_pruned(project: Project) -> None:
    logs = project.paths.state / "logs"
    logs.mkdir(parents=True)
    for i in range(40):
        old = logs / f"anvil-{10_000 + i}.log"
        old.write_text("old\n")
        os.utime(old, (1_000_000 + i, 1_000_000 + i))
    with AnvilNode.for_project(project) as node:
        current = node.log_file
    kept = sorted(logs.glob("anvil-*.log"))
    assert current in kept and len(kept) <= 30
    assert not (logs / "anvil-10000.log").exists()  # the oldest went first
    assert (logs / "anvil-10039.log").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux") or not shutil.which("setpriv"), reason="Linux + setpriv")
def test_node_dies_with_a_hard_killed_parent(project: Project) -> None:
    """A deploy process killed with SIGKILL (crash drills) must not leave its anvil running."""
    script = (
        "import sys, time\n"
        "from pkr_pilot.chain import AnvilNode\n"
        "from pathlib import Path\n"
        "from pkr_pilot.config import load_project\n"
        f"node = AnvilNode.for_project(load_project(Path({str(project.paths.root)!r}), env={{}})).start()\n"
        "print(node.pid, node.port, flush=True)\n"
        "time.sleep(60)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    pid = None
    try:
        assert parent.stdout is not None
        pid, port = (int(x) for x in parent.stdout.readline().split())
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while not (_process_gone(pid) and _port_is_free(port)):
            assert time.monotonic() < deadline, f"anvil {pid} outlived its killed parent"
            time.sleep(0.05)
    finally:
        parent.kill()
        parent.wait()
        if pid is not None and not _process_gone(pid):
            os.kill(pid, signal.SIGKILL)  # do not leave the orphan behind when the test fails


def test_spilled_states_stay_in_the_project_bounded_and_are_removed_on_stop(tmp_path: Path, project: Project) -> None:
    """anvil would write ~/.foundry/anvil/tmp (gigabytes after a day); ours goes under .pkr-pilot and is removed."""
    cache_root = tmp_path / "anvil-cache"
    with AnvilNode.for_project(project, AnvilOptions(cache_root=cache_root, max_persisted_states=2)) as node:
        (folder,) = cache_root.iterdir()
        assert folder.name.startswith(f"anvil-{node.port}-")
        node.rpc("anvil_mine", ["0x300"])  # more blocks than anvil keeps in memory: some spill to disk
        spilled = [p for p in folder.rglob("*.json")]
        assert 0 < len(spilled) <= 2
    assert list(cache_root.iterdir()) == []
    assert AnvilNode.for_project(project).options.cache_root == project.paths.state / "anvil-cache"


def test_a_new_node_removes_the_spilled_states_of_nodes_whose_process_is_gone(tmp_path: Path, project: Project) -> None:
    """A process killed outright cannot remove its node's folder; the next node does, and only those."""
    cache_root = tmp_path / "anvil-cache"
    cache_root.mkdir()
    claim = "import fcntl, sys; f = open(sys.argv[1], 'wb'); fcntl.flock(f.fileno(), fcntl.LOCK_EX); print(flush=True)"
    # A live owner: another process holding its folder's lock (sleeps until the test ends).
    live = cache_root / "anvil-1111-live"
    live.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", claim + "; import time; time.sleep(60)", str(live / ".owner")], stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"\n"
        # A dead owner: its process took the lock and exited (the OS released it).
        dead = cache_root / "anvil-2222-dead"
        (dead / "states").mkdir(parents=True)
        (dead / "states" / "1.json").write_text("{}")
        subprocess.run([sys.executable, "-c", claim, str(dead / ".owner")], check=True, capture_output=True)
        # Folders without an owner file: an old one (older pkr-pilot) goes, a fresh one (being claimed) stays.
        old, fresh = cache_root / "anvil-3333-old", cache_root / "anvil-4444-fresh"
        old.mkdir()
        fresh.mkdir()
        os.utime(old, (time.time() - 3600, time.time() - 3600))
        unrelated = cache_root / "ape-lane-55"
        unrelated.mkdir()
        with AnvilNode.for_project(project, AnvilOptions(cache_root=cache_root)) as node:
            names = {p.name for p in cache_root.iterdir()}
            (own,) = [n for n in names if n.startswith(f"anvil-{node.port}-")]
            assert names == {own, live.name, fresh.name, unrelated.name}
    finally:
        holder.kill()
        holder.wait()
