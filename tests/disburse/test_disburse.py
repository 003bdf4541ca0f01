# ruff: noqa: F811 - the shared fixtures are imported by name and then requested as parameters
"""``pkr-pilot disburse`` end to end: refused files send nothing, payments land exactly once,
and a disbursement killed at several points and run again ends with exact balances."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from faultproxy import FaultProxy, Kill
from ops_env import ALICE, FREEZER, MINTER, StackEnv, acct, addr
from ops_fixtures import (  # noqa: F401 - fixtures are found by name
    _no_password_env,
    compiled,
    env,
    node,
    ops_root,
    real_project,
    stack_env,
)

from pkr_pilot.cli import main
from pkr_pilot.disburse import DisbursementJournal
from pkr_pilot.tx import Sender, TxPolicy

PAYER = ALICE  # dev:10, a plain holder in the ops stack
FUNDING = 1_000_000_00  # 1,000,000.00 PKRP
INCOMPLETE = 9


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def funded(env: StackEnv) -> Iterator[StackEnv]:
    """The ops stack with the payer funded and no disbursement journals."""
    folder = env.root / "deployments" / "opsnet" / "disbursements"
    _clear(folder)
    minter = Sender(env.w3, acct(MINTER), decoder=env.stack.decoder, policy=TxPolicy(timeout=20))
    minter.transact(env.token.mint(addr(PAYER), FUNDING, b"disburse-test".ljust(32, b"\0")).tx())
    try:
        yield env
    finally:
        _clear(folder)


def _clear(folder: Path) -> None:
    if folder.is_dir():
        for item in folder.iterdir():
            item.unlink()


@pytest.fixture
def pkr(funded: StackEnv):
    """Run the CLI in-process against the test project (``--network opsnet`` added)."""

    def run(*argv: str) -> Run:
        args = [*argv, "--network", "opsnet"]
        runner = CliRunner(mix_stderr=False)
        environment = {"PKR_PILOT_ROOT": str(funded.root), "PKR_PILOT_PASSWORD": ""}
        with runner.isolation(env=environment) as (out, err):
            code = main(args)
            return Run(code, out.getvalue().decode(), err.getvalue().decode())

    return run


def _recipients(n: int, base: int) -> list[str]:
    from eth_utils.address import to_checksum_address

    return [str(to_checksum_address(f"0x{base + i:040x}")) for i in range(n)]


def _csv(tmp_path: Path, rows: list[tuple[str, str, str]], name: str = "payments.csv") -> Path:
    import csv

    path = tmp_path / name
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["address", "amount", "ref"])
        writer.writerows(rows)
    return path


def _payroll(tmp_path: Path, n: int, base: int, name: str = "payments.csv") -> tuple[Path, dict[str, int]]:
    """``n`` rows with distinct amounts (i + 1).25 PKRP; the expected balance per recipient."""
    recipients = _recipients(n, base)
    rows = [(to, f"{i + 1}.25", f"SAL-{i:04d}") for i, to in enumerate(recipients)]
    expected = {to: (i + 1) * 100 + 25 for i, to in enumerate(recipients)}
    return _csv(tmp_path, rows, name), expected


def _balances(env: StackEnv, accounts: list[str]) -> dict[str, int]:
    return {a: env.token.balance_of(a) for a in accounts}


def _journal(env: StackEnv, csv_path: Path) -> list[dict[str, Any]]:
    import hashlib

    digest = hashlib.sha256(csv_path.read_bytes()).hexdigest()
    return DisbursementJournal(env.root / "deployments" / "opsnet" / "disbursements" / f"{digest}.jsonl").lines()


# --------------------------------------------------------------------------- refused input


def test_bad_rows_are_listed_with_line_numbers_and_nothing_is_sent(funded: StackEnv, pkr, tmp_path: Path) -> None:
    good = _recipients(2, 0xA1_0000)
    path = _csv(
        tmp_path,
        [(good[0], "10", "R1"), (good[1].lower()[:-1], "10", "R2"), (good[1], "1.001", "R3"), (good[0], "5", "R1")],
    )
    nonce = funded.nonce(PAYER)

    run = pkr("disburse", str(path), "--account", f"dev:{PAYER}", "--yes")

    assert run.code == 2
    assert "3 bad row(s), nothing sent" in run.err
    assert "line 3:" in run.err and "line 4:" in run.err and "line 5: ref 'R1' is already used on line 2" in run.err
    assert funded.nonce(PAYER) == nonce
    assert _balances(funded, good) == {good[0]: 0, good[1]: 0}

    as_json = pkr("disburse", str(path), "--account", f"dev:{PAYER}", "--yes", "--json")
    assert as_json.code == 2
    assert [p.split(":")[0] for p in as_json.json()["problems"]] == ["line 3", "line 4", "line 5"]


def test_a_balance_short_of_the_total_is_refused_before_sending(funded: StackEnv, pkr, tmp_path: Path) -> None:
    to = _recipients(2, 0xA2_0000)
    path = _csv(tmp_path, [(to[0], "600,000", "BIG-1"), (to[1], "500,000", "BIG-2")])
    nonce = funded.nonce(PAYER)

    run = pkr("disburse", str(path), "--account", f"dev:{PAYER}", "--yes")

    assert run.code == 2
    assert "can pay 1,000,000.00 but 2 unpaid rows need 1,100,000.00" in run.err
    assert funded.nonce(PAYER) == nonce


# --------------------------------------------------------------------------- paying


@pytest.mark.parametrize("mode", ["bulk", "multicall"])
def test_disbursement_pays_every_row_once_and_a_rerun_pays_nothing(funded: StackEnv, pkr, tmp_path: Path, mode: str) -> None:
    path, expected = _payroll(tmp_path, 25, 0xA3_0000 if mode == "bulk" else 0xA4_0000)
    flags = ["--multicall"] if mode == "multicall" else []
    before = funded.token.balance_of(addr(PAYER))

    run = pkr("disburse", str(path), "--account", f"dev:{PAYER}", "--yes", "--json", "--batch-size", "7", *flags)

    assert run.code == 0, run.err
    report = run.json()
    assert report["complete"] and report["counts"] == {"paid": 25} and report["mode"] == mode
    assert _balances(funded, list(expected)) == expected
    assert funded.token.balance_of(addr(PAYER)) == before - sum(expected.values())
    lines = _journal(funded, path)
    assert {line["schema"] for line in lines} == {"pkr-pilot.disbursement"} and {line["v"] for line in lines} == {2}
    assert lines[0]["event"] == "started" and lines[-1]["event"] == "finished"
    signed = [line for line in lines if line["event"] == "signed"]
    assert sorted(ref for line in signed for ref in line["refs"]) == sorted(
        "0x" + f"SAL-{i:04d}".encode().ljust(32, b"\0").hex() for i in range(25)
    )

    nonce = funded.nonce(PAYER)
    again = pkr("disburse", str(path), "--account", f"dev:{PAYER}", "--yes", "--json", *flags)

    assert again.code == 0
    assert again.json()["counts"] == {"already_paid": 25} and again.json()["transactions"] == 0
    assert funded.nonce(PAYER) == nonce
    assert _balances(funded, list(expected)) == expected


def test_a_frozen_recipient_is_left_out_then_paid_alone_after_unfreezing(funded: StackEnv, pkr, tmp_path: Path) -> None:
    path, expected = _payroll(tmp_path, 6, 0xA5_0000)
    frozen = list(expected)[2]
    freezer = Sender(funded.w3, acct(FREEZER), decoder=funded.stack.decoder, policy=TxPolicy(timeout=20))
    freezer.transact(funded.token.freeze(frozen, b"case-1".ljust(32, b"\0")).tx())

    dry = pkr("disburse", str(path), "--account", f"dev:{PAYER}", "--dry-run", "--json")
    assert dry.code == 0
    assert dry.json()["counts"] == {"planned": 5, "skipped": 1}
    assert _balances(funded, list(expected)) == dict.fromkeys(expected, 0)

    first = pkr("disburse", str(path), "--account", f"dev:{PAYER}", "--yes", "--json")

    assert first.code == INCOMPLETE
    (failure,) = first.json()["failures"]
    assert failure["line"] == 4 and failure["status"] == "skipped"
    assert failure["error"] == f"FrozenAccount(account={frozen})"
    assert _balances(funded, list(expected)) == {to: (0 if to == frozen else v) for to, v in expected.items()}

    freezer.transact(funded.token.unfreeze(frozen, b"case-1".ljust(32, b"\0")).tx())
    second = pkr("disburse", str(path), "--account", f"dev:{PAYER}", "--yes", "--json")

    assert second.code == 0
    assert second.json()["counts"] == {"already_paid": 5, "paid": 1}
    assert _balances(funded, list(expected)) == expected


def test_an_edited_copy_cannot_pay_a_ref_again(funded: StackEnv, pkr, tmp_path: Path) -> None:
    path, expected = _payroll(tmp_path, 3, 0xA6_0000)
    assert pkr("disburse", str(path), "--account", f"dev:{PAYER}", "--yes").code == 0
    edited = tmp_path / "edited.csv"
    edited.write_text(path.read_text().replace("1.25", "1.35"))
    nonce = funded.nonce(PAYER)

    run = pkr("disburse", str(edited), "--account", f"dev:{PAYER}", "--yes")

    assert run.code == 8  # the chain shows SAL-0000 paid with another amount: stop, name the row
    assert "line 2 (ref SAL-0000): the chain shows this ref paid 125 base units to" in run.err
    assert "but the row says 135 to" in run.err
    assert funded.nonce(PAYER) == nonce
    assert _balances(funded, list(expected)) == expected


def test_another_payer_cannot_take_over_a_started_disbursement(funded: StackEnv, pkr, tmp_path: Path) -> None:
    path, _ = _payroll(tmp_path, 2, 0xA7_0000)
    assert pkr("disburse", str(path), "--account", f"dev:{PAYER}", "--yes").code == 0

    run = pkr("disburse", str(path), "--account", "dev:11", "--yes")

    assert run.code == 2 and "was started with payer" in run.err


# --------------------------------------------------------------------------- killed and resumed


def _cli(env: StackEnv, *argv: str, kill: str | None = None) -> subprocess.CompletedProcess[str]:
    """``pkr-pilot disburse`` in a child process; ``kill="signed:K"`` (``sent:K``, ``confirmed:K``) SIGKILLs it,
    through the fault proxy it talks to the node by, once this run has journaled K rows signed (at its next
    submission: never sent), sent or confirmed (at its next call). Production code carries no kill hook."""
    environment = {**os.environ, "PKR_PILOT_ROOT": str(env.root), "PKR_PILOT_PASSWORD": ""}
    args = [sys.executable, "-m", "pkr_pilot", "disburse", *argv, "--network", "opsnet", "--yes", "--json"]
    if kill is None:
        return subprocess.run(args, env=environment, capture_output=True, text=True, timeout=120, check=False)
    stage, _, rows = kill.partition(":")
    csv = Path(argv[0])
    fault = Kill(methods=("eth_sendRawTransaction",) if stage == "signed" else (),
                 when=_rows_journaled(_journal_path(env, csv), stage, int(rows)))
    with FaultProxy(env.node.url) as proxy:
        proxy.add(fault)
        networks = csv.parent / "proxied-networks.toml"
        networks.write_text(f'[networks.opsnet]\nurl = "{proxy.url}"\nchain_id = 31337\ntimeout = 20\n')
        child = subprocess.Popen(args, env={**environment, "PKR_PILOT_NETWORKS": str(networks)},
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        fault.pid = child.pid
        out, err = child.communicate(timeout=120)
    return subprocess.CompletedProcess(args, child.returncode, out, err)


def _rows_journaled(path: Path, stage: str, rows: int) -> Callable[[], bool]:
    """Whether the run started now has journaled ``rows`` rows of its own ``signed`` / ``sent`` / ``confirmed``."""
    start = len(path.read_text().splitlines()) if path.exists() else 0

    def reached() -> bool:
        try:
            lines = [json.loads(text) for text in path.read_text().splitlines()[start:] if text.strip()]
        except (OSError, ValueError):  # not there yet, or a line half written
            return False
        signed = {ln["hash"]: len(ln.get("refs") or []) for ln in lines if ln.get("event") == "signed"}
        if stage == "signed":
            done = sum(signed.values())
        elif stage == "sent":
            done = sum(signed.get(h, 0) for ln in lines if ln.get("event") == "sent" for h in ln["hashes"])
        else:
            done = sum(signed.get(ln["hash"], 0) for ln in lines if ln.get("event") == "settled")
        return done >= rows

    return reached


@pytest.mark.parametrize(
    ("mode", "kills"),
    [
        # 40 rows, 5 per batch, at most 5 in flight: killed with a batch journaled but never
        # sent, then right after the node accepted a batch, then right after confirmations.
        ("bulk", ["signed:5", "sent:10", "confirmed:10"]),
        # 45 rows in multicall transactions of ~3 transfers (150,000 gas each).
        ("multicall", ["signed:1", "sent:3", "confirmed:3"]),
    ],
)
def test_killed_at_several_points_and_resumed_pays_everyone_exactly_once(
    funded: StackEnv, tmp_path: Path, mode: str, kills: list[str]
) -> None:
    n = 40 if mode == "bulk" else 45
    path, expected = _payroll(tmp_path, n, 0xB1_0000 if mode == "bulk" else 0xB2_0000)
    flags = ["--account", f"dev:{PAYER}", "--batch-size", "5", "--window", "5"]
    if mode == "multicall":
        flags += ["--multicall", "--multicall-gas", "150000"]
    payer_before = funded.token.balance_of(addr(PAYER))

    for kill in kills:
        killed = _cli(funded, str(path), *flags, kill=kill)
        assert killed.returncode == -signal.SIGKILL, (kill, killed.stdout, killed.stderr)
        paid = _balances(funded, list(expected))
        # Whatever landed so far landed exactly once, never partly.
        assert all(paid[to] in (0, expected[to]) for to in expected)
    final = _cli(funded, str(path), *flags)

    assert final.returncode == 0, final.stderr
    report = json.loads(final.stdout)
    assert report["complete"] and set(report["counts"]) <= {"paid", "already_paid"}
    assert _balances(funded, list(expected)) == expected
    assert funded.token.balance_of(addr(PAYER)) == payer_before - sum(expected.values())
    assert funded.w3.eth.get_transaction_count(addr(PAYER)) == funded.nonce(PAYER)  # nothing left in the pool
    lines = _journal(funded, path)
    events = [line["event"] for line in lines]
    assert events.count("started") == 1 and events.count("resumed") >= 1
    assert events.count("finished") <= 1  # only a run that got to the end of its sending writes it


def test_journaled_transactions_whose_nonces_went_elsewhere_stay_undecided_until_the_operator_decides(
    funded: StackEnv, tmp_path: Path
) -> None:
    path, expected = _payroll(tmp_path, 12, 0xB3_0000)
    flags = ["--account", f"dev:{PAYER}", "--batch-size", "4", "--window", "4"]
    start = funded.nonce(PAYER)
    killed = _cli(funded, str(path), *flags, kill="signed:4")  # 4 signed and journaled, never sent
    assert killed.returncode == -signal.SIGKILL
    # Another operator of the same account uses those four nonces first: no receipt of ours, no event,
    # nonce used. The chain cannot say whether our transactions paid: nothing is paid again by itself.
    other = Sender(funded.w3, acct(PAYER), decoder=funded.stack.decoder, policy=TxPolicy(timeout=20))
    for _ in range(4):
        other.transact({"to": addr(PAYER), "value": 0, "data": b""})
    assert funded.nonce(PAYER) == start + 4

    stopped = _cli(funded, str(path), *flags)

    report = json.loads(stopped.stdout)
    assert stopped.returncode == INCOMPLETE
    assert report["counts"] == {"undecided": 4, "not_sent": 8}
    undecided = [row for row in report["failures"] if row["status"] == "undecided"]
    assert [row["ref"] for row in undecided] == [f"SAL-{i:04d}" for i in range(4)]
    assert all("--settle-void REF" in row["error"] and "its nonce is used" in row["error"] for row in undecided)
    assert funded.nonce(PAYER) == start + 4  # nothing sent

    decided = _cli(funded, str(path), *flags, *(a for i in range(4) for a in ("--settle-void", f"SAL-{i:04d}")))

    assert decided.returncode == 0, decided.stderr
    assert json.loads(decided.stdout)["counts"] == {"paid": 12}
    assert _balances(funded, list(expected)) == expected
    decisions = [line for line in _journal(funded, path) if line["event"] == "decided"]
    assert [(d["decision"], len(d["refs"])) for d in decisions] == [("void", 4)]
    assert _cli(funded, str(path), *flags).returncode == 0  # decided once, remembered


# --------------------------------------------------------------------------- the journal is only a cache


def _journal_path(env: StackEnv, csv_path: Path) -> Path:
    import hashlib

    digest = hashlib.sha256(csv_path.read_bytes()).hexdigest()
    return env.root / "deployments" / "opsnet" / "disbursements" / f"{digest}.jsonl"


@pytest.mark.parametrize("damage", ["lost", "truncated", "old copy restored"])
def test_a_lost_truncated_or_restored_journal_never_pays_a_row_twice(
    funded: StackEnv, tmp_path: Path, damage: str
) -> None:
    base = {"lost": 0xC1_0000, "truncated": 0xC2_0000, "old copy restored": 0xC3_0000}[damage]
    path, expected = _payroll(tmp_path, 12, base)
    flags = ["--account", f"dev:{PAYER}", "--batch-size", "4", "--window", "4"]
    journal = _journal_path(funded, path)
    killed = _cli(funded, str(path), *flags, kill="confirmed:4")  # 4 paid, then the process dies
    assert killed.returncode == -signal.SIGKILL
    old_copy = journal.read_bytes()
    assert _cli(funded, str(path), *flags).returncode == 0
    assert _balances(funded, list(expected)) == expected
    payer_before = funded.token.balance_of(addr(PAYER))
    nonce = funded.nonce(PAYER)

    if damage == "lost":
        journal.unlink()
    elif damage == "truncated":
        data = journal.read_bytes()
        journal.write_bytes(data[: len(data) // 3])  # cut mid-line: a torn tail too
    else:
        journal.write_bytes(old_copy)
    again = _cli(funded, str(path), *flags)

    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["counts"] == {"already_paid": 12}
    assert funded.nonce(PAYER) == nonce and funded.token.balance_of(addr(PAYER)) == payer_before
    assert _balances(funded, list(expected)) == expected
    if damage == "truncated":
        assert f"warning: {journal}: the last line (byte offset" in again.stderr


def test_strict_refs_pay_with_the_unique_reference_and_a_rerun_without_the_journal_pays_nothing(
    funded: StackEnv, tmp_path: Path
) -> None:
    path, expected = _payroll(tmp_path, 6, 0xC4_0000)
    flags = ["--account", f"dev:{PAYER}", "--strict-refs"]

    first = _cli(funded, str(path), *flags)

    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["mode"] == "bulk strict"
    assert _balances(funded, list(expected)) == expected
    assert all(funded.token.view("referenceUsed", addr(PAYER), f"SAL-{i:04d}".encode().ljust(32, b"\0")) for i in range(6))
    _journal_path(funded, path).unlink()
    nonce = funded.nonce(PAYER)

    again = _cli(funded, str(path), *flags)

    assert again.returncode == 0 and json.loads(again.stdout)["counts"] == {"already_paid": 6}
    assert funded.nonce(PAYER) == nonce


def test_each_long_phase_shows_its_progress_and_json_stays_quiet(funded: StackEnv, pkr, tmp_path: Path) -> None:
    path, expected = _payroll(tmp_path, 9, 0xA9_0000)

    run = pkr("disburse", str(path), "--account", f"dev:{PAYER}", "--yes", "--batch-size", "4")

    assert run.code == 0, run.err
    shown = run.err
    search, send, confirm = (shown.index(text) for text in ("searching for paid refs: blocks", "sending: rows 9/9 (100 %)",
                                                          "confirming: rows 9/9 (100 %)"))
    assert shown.index("... looking for this file's 9 refs") < search < shown.index("... paying 9 row(s)") < send < confirm
    assert shown.count("done in") == 3  # each phase ends with its count, rate and time taken
    assert _balances(funded, list(expected)) == expected

    again = pkr("disburse", str(path), "--account", f"dev:{PAYER}", "--yes", "--json")

    assert again.code == 0 and again.err == "" and again.json()["counts"] == {"already_paid": 9}
