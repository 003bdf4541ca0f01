# ruff: noqa: F811 - the shared fixtures are imported by name and then requested as parameters
"""Ctrl-C (SIGINT) or SIGTERM after a transaction was sent: a real ``pkr-pilot`` process says the
transaction is live (``sent, not yet confirmed: <hash>; run the same command again to follow it``),
exits 10, never says ``aborted``; running the same command again follows it and sends nothing new."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ops_env import ALICE, BOB, MINTER, StackEnv, acct, addr
from ops_fixtures import (  # noqa: F401 - fixtures are found by name
    _no_password_env,
    compiled,
    env,
    node,
    ops_root,
    real_project,
    stack_env,
)

from pkr_pilot.tx import Sender, TxPolicy

SENT_NOT_CONFIRMED = 10


def _start(env: StackEnv, *argv: str) -> subprocess.Popen[str]:
    environment = {**os.environ, "PKR_PILOT_ROOT": str(env.root), "PKR_PILOT_PASSWORD": ""}
    return subprocess.Popen(
        [sys.executable, "-m", "pkr_pilot", *argv, "--network", "opsnet", "--yes"],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A terminal's Ctrl-C reaches a command whose SIGINT is at its default; a test run started in
        # the background (`make test &`, CI wrappers) inherits SIGINT ignored, and Python then installs
        # no KeyboardInterrupt handler: restore the default so the command sees what an operator's does.
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_in_pool(env: StackEnv, count: int, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while int(env.node.rpc("txpool_status")["pending"], 16) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "nothing reached the node's pool"
        time.sleep(0.05)
    time.sleep(0.3)  # the command is now waiting for its receipt(s)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_transfer_reports_its_live_transaction_and_a_rerun_follows_it(env: StackEnv, signum: int) -> None:
    minter = Sender(env.w3, acct(MINTER), decoder=env.stack.decoder, policy=TxPolicy(timeout=20))
    minter.transact(env.token.mint(addr(ALICE), 500, b"interrupt".ljust(32, b"\0")).tx())
    env.node.rpc("evm_setAutomine", False)
    argv = ("transfer", "--to", addr(BOB), "--amount", "2", "--ref", f"PAY-INT-{signum}", "--account", f"dev:{ALICE}")
    proc = _start(env, *argv)
    _wait_in_pool(env, 1, proc)

    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)

    assert proc.returncode == SENT_NOT_CONFIRMED, (out, err)
    assert "sent, not yet confirmed: 0x" in err and "run the same command again to follow it" in err
    assert "aborted" not in err + out and "Traceback" not in err
    tx_hash = err.split("sent, not yet confirmed: ")[1].split(";")[0].split()[0]
    env.node.rpc("evm_mine")
    env.node.rpc("evm_setAutomine", True)
    nonce = env.nonce(ALICE)

    again = _start(env, *argv)
    out, err = again.communicate(timeout=60)

    assert again.returncode == 0, err
    assert tx_hash in out + err
    assert env.token.balance_of(addr(BOB)) == 200
    assert env.nonce(ALICE) == nonce  # followed, not sent again


def test_an_interrupted_disbursement_reports_its_live_transactions_and_a_rerun_pays_each_row_once(
    env: StackEnv, tmp_path: Path
) -> None:
    from eth_utils.address import to_checksum_address

    minter = Sender(env.w3, acct(MINTER), decoder=env.stack.decoder, policy=TxPolicy(timeout=20))
    minter.transact(env.token.mint(addr(ALICE), 10_000, b"interrupt-d".ljust(32, b"\0")).tx())
    payees = [str(to_checksum_address(f"0x{0xD1_0000 + i:040x}")) for i in range(6)]
    path = tmp_path / "pay.csv"
    path.write_text("address,amount\n" + "".join(f"{to},1.50\n" for to in payees))
    env.node.rpc("evm_setAutomine", False)
    proc = _start(env, "disburse", str(path), "--account", f"dev:{ALICE}")
    _wait_in_pool(env, 6, proc)

    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)

    assert proc.returncode == SENT_NOT_CONFIRMED, (out, err)
    assert "sent, not yet confirmed: 0x" in err and "(+5 more); run the same command again to follow it" in err
    assert "aborted" not in err + out and "Traceback" not in err
    env.node.rpc("evm_mine")
    env.node.rpc("evm_setAutomine", True)
    nonce = env.nonce(ALICE)

    again = _start(env, "disburse", str(path), "--account", f"dev:{ALICE}")
    out, err = again.communicate(timeout=60)

    assert again.returncode == 0, err
    assert [env.token.balance_of(to) for to in payees] == [150] * 6
    assert env.nonce(ALICE) == nonce
