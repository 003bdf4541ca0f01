"""``pkr-pilot node``: a persistent node that keeps its chain across restarts (run as a real process)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from pkr_pilot.accounts import DEV_MNEMONIC, dev_address
from pkr_pilot.chain import free_port
from pkr_pilot.cli import main
from pkr_pilot.config import Project

ROOT = Path(__file__).resolve().parents[2]
DEV0_KEY_HEX = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


class NodeProcess:
    """``python -m pkr_pilot node ...`` with its output read line by line."""

    def __init__(self, project: Project, *args: str) -> None:
        env = {**os.environ, "PKR_PILOT_ROOT": str(project.paths.root), "PYTHONFAULTHANDLER": "1"}
        env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pkr_pilot", "node", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {text!r} within {timeout} s; got {self.lines}") from None
            if line is None:
                raise AssertionError(f"node exited before {text!r}; got {self.lines}")
            self.lines.append(line)
            if text in line:
                return line

    def interrupt(self, timeout: float = 30) -> int:
        """Ctrl-C, then the exit code. The node's stop is bounded at about 22 s (10 s for the head to be
        still, 10 s for anvil to dump its state, 2 s after SIGTERM); past ``timeout`` the node is made to
        print every thread's stack (faulthandler) and the test fails with its output."""
        self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGABRT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self._drain()
            raise AssertionError(f"pkr-pilot node did not exit within {timeout:g} s of SIGINT:\n"
                                 + "\n".join(self.lines[-80:])) from None
        self._drain()
        return code

    def _drain(self) -> None:
        while (line := self._queue.get(timeout=5)) is not None:
            self.lines.append(line)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _rpc(url: str, method: str, *params: Any) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})  # noqa: S310
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=5) as response:
        return json.loads(response.read())["result"]


def _wait_mined(url: str, tx_hash: str) -> None:
    deadline = time.monotonic() + 10
    while _rpc(url, "eth_getTransactionReceipt", tx_hash) is None:
        assert time.monotonic() < deadline, "transaction not mined within 10 s"
        time.sleep(0.01)


def _listening(url: str) -> bool:
    try:
        _rpc(url, "eth_chainId")
    except OSError:
        return False
    return True


def test_node_keeps_its_chain_across_restarts(project: Project, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    state = tmp_path / "node-state.json"
    first = NodeProcess(project, "--port", str(port), "--state", str(state))
    try:
        assert first.wait_for("pkr-pilot node:") == f"pkr-pilot node: {url}"
        first.wait_for("Ctrl-C to stop")
        tx_hash = _rpc(url, "eth_sendTransaction", {"from": dev_address(0), "to": dev_address(5), "value": hex(31337)})
        _wait_mined(url, tx_hash)
        block = _rpc(url, "eth_blockNumber")
        balance = _rpc(url, "eth_getBalance", dev_address(5), "latest")
        assert first.interrupt() == 0
    finally:
        first.kill()
    output = "\n".join(first.lines)
    assert "(new chain)" in output and "chain id  31337 (hardfork cancun)" in output
    assert f"dev:0  {dev_address(0)}" in output
    assert DEV0_KEY_HEX not in output.lower() and DEV_MNEMONIC not in output
    assert "state saved" in output and state.is_file()
    assert not _listening(url)  # anvil went away with it

    second = NodeProcess(project, "--port", str(port), "--state", str(state))
    try:
        assert "(resumed at block 1)" in second.wait_for("state ")
        second.wait_for("Ctrl-C to stop")
        assert _rpc(url, "eth_blockNumber") == block
        assert _rpc(url, "eth_getBalance", dev_address(5), "latest") == balance
        assert second.interrupt() == 0
    finally:
        second.kill()

    third = NodeProcess(project, "--port", str(port), "--state", str(state), "--fresh")
    try:
        third.wait_for("Ctrl-C to stop")
        assert _rpc(url, "eth_blockNumber") == "0x0"
        assert third.interrupt() == 0
    finally:
        third.kill()
    assert any("old state is kept in" in line for line in third.lines)
    assert state.with_name(state.name + ".prev").is_file()


def test_node_state_defaults_to_the_project_state_folder(project: Project) -> None:
    port = free_port()
    node = NodeProcess(project, "--port", str(port), "--no-mining")
    try:
        node.wait_for("Ctrl-C to stop")
        assert node.interrupt() == 0
    finally:
        node.kill()
    assert (project.paths.state / "node" / "state.json").is_file()
    assert any("on request only" in line for line in node.lines)
    assert (project.paths.state / "logs" / f"anvil-{port}.log").is_file()


def test_node_on_a_taken_port_fails_with_anvils_reason(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    monkeypatch.setenv("PKR_PILOT_ROOT", str(project.paths.root))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code = main(["node", "--port", str(taken.getsockname()[1])])
    err = capsys.readouterr().err
    assert code == 4
    assert err.startswith("error: anvil exited with code 1: Error: Address already in use")
