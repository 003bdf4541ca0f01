"""Time N consecutive ``ops.set_tier`` / ``ops.mint`` operations (distinct accounts and refs) on a private
anvil, one Operator and one journal that grows as it would in daily use.

    .venv/bin/python tools/measure_ops.py --action set_tier --count 1000 [--cache] [--out result.json]

``--cache`` gives the stack the CLI's event cache. Prints the time of every tenth of the run (a time that
grows from one tenth to the next means a cost that grows with history) and one JSON summary line. To
measure another copy of the code, put its ``src`` first: ``PYTHONPATH=/path/to/src python tools/measure_ops.py``.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "ops"))

from eth_utils.address import to_checksum_address  # noqa: E402
from eth_utils.crypto import keccak  # noqa: E402
from ops_env import KYC, MINTER, NETWORK_TOML, acct, deploy, start_anvil  # noqa: E402

import pkr_pilot  # noqa: E402
from pkr_pilot import ops  # noqa: E402
from pkr_pilot.config import load_project  # noqa: E402
from pkr_pilot.contracts import EventCache, Stack  # noqa: E402
from pkr_pilot.ops import Journal, Operator, RunOptions  # noqa: E402
from pkr_pilot.tx import Sender, TxPolicy  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--action", choices=("set_tier", "mint"), default="set_tier")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--cache", action="store_true", help="use the CLI's EventCache")
    p.add_argument("--out")
    a = p.parse_args()
    print("pkr_pilot from", pkr_pilot.__file__, flush=True)
    from pkr_pilot.compile import compile_project
    from pkr_pilot.deploy import dev_default_config

    real = load_project(ROOT, env={})
    compiled = compile_project(real)
    node = start_anvil()
    tmp = Path(tempfile.mkdtemp(prefix="ops-measure-"))
    try:
        (tmp / "pkr-pilot.toml").write_text(NETWORK_TOML.format(url=node.url, runs=real.compiler.optimizer_runs))
        (tmp / "contracts").symlink_to(ROOT / "contracts")
        (tmp / "node_modules").symlink_to(ROOT / "node_modules")
        stack = deploy(node, tmp, real, compiled, "opsnet", dev_default_config())
        if a.cache:
            t, d = stack.token, stack.desk
            assert d is not None
            stack = Stack.build(node.w3, token=(t.address, t.abi, t.from_block),
                                desk=(d.address, d.abi, d.from_block),
                                cache=EventCache(tmp / "deployments/opsnet/.cache/events"))
        who = KYC if a.action == "set_tier" else MINTER
        sender = Sender(node.w3, acct(who), decoder=stack.decoder, policy=TxPolicy(timeout=20, poll_interval=0.02))
        journal = Journal.in_folder(tmp / "deployments" / "opsnet")
        op = Operator(stack, sender, journal, network="opsnet")
        yes = RunOptions(yes=True)
        chunk = max(1, a.count // 10)
        chunks: list[float] = []
        start = time.perf_counter()
        last = start
        for i in range(a.count):
            account = to_checksum_address(keccak(text=f"measure-{i}")[:20])
            if a.action == "set_tier":
                r = ops.set_tier(op, account, 1, ref=f"KYC-M{i:05d}", options=yes)
            else:
                r = ops.mint(op, account, 1, ref=f"BANK-M{i:05d}", options=yes)
            assert r.status == "confirmed", r
            if (i + 1) % chunk == 0:
                now = time.perf_counter()
                chunks.append(round(now - last, 2))
                print(f"{i + 1:5d} ops  {now - start:8.1f} s  (last {chunk}: {now - last:6.2f} s)", flush=True)
                last = now
        total = time.perf_counter() - start
        lines = sum(1 for _ in journal.path.open("rb"))
        result = {"action": a.action, "count": a.count, "cache": a.cache, "total_s": round(total, 1),
                  "ops_per_s": round(a.count / total, 2), "chunk": chunk, "chunks_s": chunks,
                  "journal_lines": lines, "blocks": int(node.w3.eth.block_number)}
        print(json.dumps(result), flush=True)
        if a.out:
            Path(a.out).write_text(json.dumps(result, indent=1) + "\n")
    finally:
        node.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
