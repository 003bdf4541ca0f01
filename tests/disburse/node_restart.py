"""Issue 10's node-restart case as a reusable drill: a disbursement against ``pkr-pilot node`` (a real
process with its state file), the node stopped with Ctrl-C (SIGINT) mid-run and started again from its
state, the same file run again until it ends; then the chain is asked what was paid.

    PYTHONPATH=tests/ops .venv/bin/python tests/disburse/node_restart.py --rows 6000 --restarts 2 [--multicall]

prints one JSON line: rows, payment events from the payer, payees paid exactly / more / less than owed,
``reconcile``'s exit code, and every disburse run's exit code and last output line.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address
from ops_env import MINTER, NETWORK_TOML, acct, addr, deploy

from pkr_pilot.chain import free_port, web3_for_url
from pkr_pilot.tx import Sender, TxPolicy

ROOT = Path(__file__).resolve().parents[2]

PAYER = 10
_TRANSFER = "0x" + "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"


def _env(root: Path) -> dict[str, str]:
    env = {**os.environ, "PKR_PILOT_ROOT": str(root), "PKR_PILOT_PASSWORD": ""}
    src = os.environ.get("PKR_DRILL_SRC", str(ROOT / "src"))  # another copy of the code under test
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return env


class ManagedNode:
    """``pkr-pilot node`` as a real process on a free port, with its state file."""

    def __init__(self, root: Path, port: int, state: Path) -> None:
        self.root, self.port, self.state = root, port, state
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        log = (self.root / "node.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pkr_pilot", "node", "--port", str(self.port), "--state", str(self.state)],
            cwd=self.root, env={**_env(self.root), "PYTHONFAULTHANDLER": "1"}, stdout=log, stderr=subprocess.STDOUT,
        )
        w3 = web3_for_url(self.url, 5)
        deadline = time.monotonic() + 30
        while True:
            try:
                w3.eth.block_number  # noqa: B018 - a probe
                return
            except Exception:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pkr-pilot node did not start: {(self.root / 'node.log').read_text()[-2000:]}") from None
                time.sleep(0.1)

    def interrupt(self) -> int:
        """Ctrl-C: SIGINT, then wait for the node to save its state and exit (it stops mining, waits for
        the head to be still, then anvil dumps the chain: seconds at rest, over a minute seen in make
        test with every lane busy on two cores)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=180)
        except subprocess.TimeoutExpired:
            # Where it hangs: faulthandler (PYTHONFAULTHANDLER, see start()) prints every thread's
            # stack into node.log on SIGABRT; anvil's own log is in .pkr-pilot/logs of the project.
            self.proc.send_signal(signal.SIGABRT)
            self.proc.wait(timeout=30)
            tails = [(self.root / "node.log").read_text(errors="replace")[-6000:]]
            tails += [p.read_text(errors="replace")[-1500:] for p in sorted((self.root / ".pkr-pilot" / "logs").glob("anvil-*.log"))[-2:]]
            raise AssertionError("pkr-pilot node did not exit within 180 s of SIGINT:\n" + "\n----\n".join(tails)) from None

    def lose_last_blocks(self, count: int) -> list[str]:
        """Edit the saved state as anvil's dump race does: the last ``count`` blocks, their transactions
        and receipts are gone while the accounts (balances, nonces) keep their effects. Returns the
        hashes of the transactions lost. Only while the node is stopped."""
        assert self.proc is None or self.proc.poll() is not None
        state = json.loads(self.state.read_text())
        best = int(state["best_block_number"]) if not isinstance(state["best_block_number"], str) else int(state["best_block_number"], 16)
        keep = best - count
        state["blocks"] = [b for b in state["blocks"] if int(b["header"]["number"], 16) <= keep]
        lost = [t for t in state["transactions"] if int(t["block_number"]) > keep]
        state["transactions"] = [t for t in state["transactions"] if int(t["block_number"]) <= keep]
        state["best_block_number"] = keep if not isinstance(state["best_block_number"], str) else hex(keep)
        state["block"]["number"] = keep if not isinstance(state["block"]["number"], str) else hex(keep)
        self.state.write_text(json.dumps(state))
        return [str(t["info"]["transaction_hash"]) for t in lost]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.interrupt()


@dataclass
class Outcome:
    rows: int
    payment_events: int = 0
    exact: int = 0
    overpaid: int = 0
    underpaid: int = 0
    extra_paid: int = 0
    reconcile_code: int | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Drill:
    root: Path
    node: ManagedNode
    path: Path
    owed: dict[str, int]
    token: str


@contextmanager
def drill_project(rows: int, *, keep: Path | None = None) -> Iterator[Drill]:
    """A project folder with a deployed stack on a running ``pkr-pilot node``, the payer funded, a CSV."""
    from pkr_pilot.compile import compile_project
    from pkr_pilot.config import load_project
    from pkr_pilot.deploy import dev_default_config

    root = keep or Path(tempfile.mkdtemp(prefix="pkr-restart-"))
    node = ManagedNode(root, free_port(), root / "node-state.json")
    try:
        real = load_project(ROOT, env={})
        compiled = compile_project(real)
        (root / "pkr-pilot.toml").write_text(
            NETWORK_TOML.format(url=node.url, runs=real.compiler.optimizer_runs)
        )
        (root / "contracts").symlink_to(ROOT / "contracts")
        (root / "node_modules").symlink_to(ROOT / "node_modules")
        node.start()
        w3 = web3_for_url(node.url)
        stack = deploy(types.SimpleNamespace(w3=w3), root, real, compiled, "opsnet", dev_default_config())  # type: ignore[arg-type]
        payees = [str(to_checksum_address(f"0x{0xCAFE0000 + i:040x}")) for i in range(rows)]
        owed = {to: 100 * (1 + i % 7) + i % 100 for i, to in enumerate(payees)}
        w3.provider.make_request("anvil_setBalance", [addr(PAYER), hex(10**21)])  # type: ignore[arg-type]
        minter = Sender(w3, acct(MINTER), decoder=stack.decoder, policy=TxPolicy(timeout=30))
        minter.transact(stack.token.mint(addr(PAYER), 2 * sum(owed.values()), b"restart-drill".ljust(32, b"\0")).tx())
        path = root / "payments.csv"
        with path.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["address", "amount", "ref"])
            for i, to in enumerate(payees):
                writer.writerow([to, f"{owed[to] // 100}.{owed[to] % 100:02d}", f"PAY-{i:05d}"])
        yield Drill(root, node, path, owed, stack.token.address)
    finally:
        node.stop()
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)


def _disburse(root: Path, path: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pkr_pilot", "disburse", str(path), "--network", "opsnet", "--account", f"dev:{PAYER}",
         "--yes", *extra],
        cwd=root, env=_env(root), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _finish(proc: subprocess.Popen[str], timeout: float = 300) -> dict[str, Any]:
    out, _ = proc.communicate(timeout=timeout)
    lines = [line for line in out.splitlines() if line.strip()]
    return {"code": proc.returncode, "last": lines[-1] if lines else "", "output": out}


def _nonce(url: str) -> int:
    w3 = web3_for_url(url, 5)
    try:
        return int(w3.eth.get_transaction_count(addr(PAYER), "latest"))  # type: ignore[arg-type]
    except Exception:
        return -1


def run_drill(rows: int, restarts: int, *extra: str, keep: Path | None = None, max_runs: int = 4) -> Outcome:
    """Run the drill; the node is stopped with SIGINT each time the payer's nonce passes a fraction of the rows."""
    started = time.monotonic()
    with drill_project(rows, keep=keep) as drill:
        root, node, path, owed = drill.root, drill.node, drill.path, drill.owed
        outcome = Outcome(rows)
        first_nonce = _nonce(node.url)
        per_tx = 1 if "--multicall" not in extra else 50
        for k in range(1, restarts + 1):
            proc = _disburse(root, path, *extra)
            target = first_nonce + (rows // per_tx) * k // (restarts + 1)
            while _nonce(node.url) < target and proc.poll() is None:
                time.sleep(0.05)
            node.interrupt()
            node.start()
            outcome.runs.append(_finish(proc))
        for _ in range(max_runs):
            run = _finish(_disburse(root, path, *extra))
            outcome.runs.append(run)
            if run["code"] == 0:
                break
        _count(node.url, drill.token, owed, outcome)
        reconcile = subprocess.run(
            [sys.executable, "-m", "pkr_pilot", "reconcile", "--network", "opsnet"],
            cwd=root, env=_env(root), capture_output=True, text=True, timeout=300,
        )
        outcome.reconcile_code = reconcile.returncode
        outcome.runs.append({"reconcile": reconcile.stdout[-600:] + reconcile.stderr[-600:]})
    outcome.seconds = round(time.monotonic() - started, 1)
    return outcome


def _count(url: str, token: str, owed: dict[str, int], outcome: Outcome) -> None:
    """Transfers from the payer (logs, block range chunked) and every payee's balance."""
    w3 = web3_for_url(url, 60)
    payer_topic = "0x" + bytes(12).hex() + addr(PAYER)[2:].lower()
    head = int(w3.eth.block_number)
    received: Counter[str] = Counter()
    for start in range(0, head + 1, 2000):
        logs = w3.eth.get_logs({"fromBlock": start, "toBlock": min(head, start + 1999), "topics": [_TRANSFER, payer_topic]})  # type: ignore[typeddict-item]
        for log in logs:
            received[str(to_checksum_address("0x" + bytes(log["topics"][2])[12:].hex()))] += 1
    outcome.payment_events = sum(received.values())
    selector = bytes.fromhex("70a08231")  # balanceOf(address)
    for to, amount in owed.items():
        data = "0x" + (selector + bytes(12) + bytes.fromhex(to[2:])).hex()
        balance = int(w3.eth.call({"to": token, "data": data}).hex(), 16)  # type: ignore[typeddict-item]
        if balance == amount:
            outcome.exact += 1
        elif balance > amount:
            outcome.overpaid += 1
            outcome.extra_paid += balance - amount
        else:
            outcome.underpaid += 1


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=6000)
    p.add_argument("--restarts", type=int, default=2)
    p.add_argument("--multicall", action="store_true")
    a = p.parse_args()
    outcome = run_drill(a.rows, a.restarts, *(["--multicall"] if a.multicall else []))
    data = outcome.to_json()
    for run in data["runs"]:
        run.pop("output", None)
    print(json.dumps(data))


if __name__ == "__main__":
    main()
