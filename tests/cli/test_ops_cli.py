# ruff: noqa: F811 - the shared fixtures are imported by name and then requested as parameters
"""The operations commands end to end through ``pkr_pilot.cli.main``: output, --json, exit codes,
one-line errors (decoded custom errors), confirmation, and that refused commands send nothing."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from ops_env import (
    ALICE,
    ATTESTOR,
    BOB,
    CAROL,
    EXECUTOR,
    FREEZER,
    MINTER,
    MINTER_ADMIN,
    OUTSIDER,
    PROPOSER,
    TIMELOCK_DELAY,
    StackEnv,
    acct,
    addr,
)
from ops_fixtures import (  # noqa: F401 - fixtures are found by name
    _no_password_env,
    compiled,
    env,
    node,
    operator_for,
    ops_root,
    real_project,
    stack_env,
)
from ops_helpers import journal_lines, statuses

from pkr_pilot.amounts import parse_ref
from pkr_pilot.cli import main


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def pkr(env: StackEnv):
    """``pkr("mint", "--to", …)`` runs the CLI in-process against the test project; --network opsnet
    is added unless given."""

    def run(*argv: str, input: str | None = None, extra_env: dict[str, str] | None = None) -> Run:
        args = list(argv)
        if "--network" not in args and args[0] not in ("--help",):
            args += ["--network", "opsnet"]
        runner = CliRunner(mix_stderr=False)
        environment = {"PKR_PILOT_ROOT": str(env.root), "PKR_PILOT_PASSWORD": "", **(extra_env or {})}
        with runner.isolation(input=input, env=environment) as (out, err):
            code = main(args)
            return Run(code, out.getvalue().decode(), err.getvalue().decode())

    return run


def _journal(env: StackEnv, network: str = "opsnet") -> Path:
    return env.journal_path(network)


# --------------------------------------------------------------------------- happy paths


def test_a_torn_journal_line_is_reported_on_stderr_with_file_and_byte_offset(env: StackEnv, pkr):
    pkr("mint", "--to", addr(ALICE), "--amount", "10", "--ref", "BANK-CLI-T1", "--yes")
    offset = _journal(env).stat().st_size
    with _journal(env).open("ab") as fh:
        fh.write(b'{"schema":"pkr-pilot.operations","v":1,"status":"sen')

    run = pkr("mint", "--to", addr(ALICE), "--amount", "10", "--ref", "BANK-CLI-T2", "--yes")

    assert run.code == 0, run.err
    assert f"warning: {_journal(env)}: the last line (byte offset {offset}, 52 bytes) was cut short" in run.err
    assert "copied to operations.torn" in run.err
    assert statuses(_journal(env))[-3:] == ["sending", "sent", "confirmed"]




def test_mint_prints_a_summary_and_journals(env: StackEnv, pkr):
    run = pkr("mint", "--to", addr(ALICE), "--amount", "1,250.50", "--ref", "BANK-CLI-1", "--yes")

    assert run.code == 0, run.err
    assert f"confirmed: mint(to={addr(ALICE)}, amount=1,250.50 PKRP, ref=BANK-CLI-1)" in run.out
    assert "total supply after: 1,250.50 PKRP" in run.out
    assert env.token.balance_of(addr(ALICE)) == 125_050
    assert statuses(_journal(env)) == ["sending", "sent", "confirmed"]
    assert journal_lines(_journal(env))[-1]["op"]["who"] == addr(MINTER)  # accounts.minter of the network


def test_mint_json_has_the_result_fields(env: StackEnv, pkr):
    run = pkr("mint", "--to", addr(ALICE), "--amount", "10", "--ref", "BANK-CLI-2", "--yes", "--json")

    data = run.json()
    assert run.code == 0 and data["status"] == "confirmed" and data["network"] == "opsnet"
    assert data["args"] == {"to": addr(ALICE), "amount": "1000"}
    assert data["tx_hash"].startswith("0x") and isinstance(data["block"], int)
    assert data["supply_after"] == "1000"
    assert run.err.count("sent 0x") == 1  # progress goes to stderr, stdout stays JSON


def test_rerun_says_already_done_and_sends_nothing(env: StackEnv, pkr):
    pkr("mint", "--to", addr(ALICE), "--amount", "10", "--ref", "BANK-CLI-3", "--yes")
    nonce = env.nonce(MINTER)

    run = pkr("mint", "--to", addr(ALICE), "--amount", "10", "--ref", "BANK-CLI-3", "--yes")

    assert run.code == 0 and run.out.startswith("already done (nothing sent): mint(")
    assert env.nonce(MINTER) == nonce


def test_confirmation_prompt_shows_the_simulation_and_no_sends_nothing(env: StackEnv, pkr):
    nonce = env.nonce(MINTER)

    run = pkr("mint", "--to", addr(ALICE), "--amount", "10", "--ref", "BANK-CLI-4", input="n\n")

    assert run.code == 2 and "not confirmed: nothing was sent" in run.err
    assert "simulation: ok, gas ≈" in run.err and "amount  10.00 PKRP" in run.err
    assert env.nonce(MINTER) == nonce and not _journal(env).exists()

    accepted = pkr("mint", "--to", addr(ALICE), "--amount", "10", "--ref", "BANK-CLI-4", input="y\n")
    assert accepted.code == 0 and env.nonce(MINTER) == nonce + 1


def test_dry_run_sends_nothing(env: StackEnv, pkr):
    nonce = env.nonce(MINTER)

    run = pkr("mint", "--to", addr(ALICE), "--amount", "10", "--ref", "BANK-CLI-5", "--dry-run")

    assert run.code == 0 and run.out.startswith("dry run (nothing sent): mint(")
    assert env.nonce(MINTER) == nonce and not _journal(env).exists()


# --------------------------------------------------------------------------- errors: one line, nothing sent


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--to", "0x1234", "--amount", "1"], "is not an Ethereum address"),
        (["--to", addr(ALICE)[:-1] + ("b" if addr(ALICE)[-1] != "b" else "c"), "--amount", "1"], "bad checksum"),
        (["--to", addr(ALICE), "--amount", "1.001"], "more than 2 decimal places"),
        (["--to", addr(ALICE), "--amount", "-1"], "negative"),
        (["--to", addr(ALICE), "--amount", "0"], "is zero"),
        (["--to", addr(ALICE), "--amount", "lots"], "not a number"),
        (["--to", addr(ALICE), "--amount", "1", "--account", "dev:nine"], "bad dev account"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_sent(env: StackEnv, pkr, argv, message):
    nonce = env.nonce(MINTER)

    run = pkr("mint", *argv, "--ref", "BANK-CLI-BAD", "--yes")

    assert run.code == 2
    assert run.err.startswith("error: ") and message in run.err
    assert run.err.count("\n") == 1 and "Traceback" not in run.err
    assert env.nonce(MINTER) == nonce and not _journal(env).exists()


def test_frozen_target_shows_the_decoded_error(env: StackEnv, pkr):
    assert pkr("freeze", addr(ALICE), "--ref", "ALERT-CLI", "--yes").code == 0
    nonce, lines = env.nonce(MINTER), len(journal_lines(_journal(env)))

    run = pkr("mint", "--to", addr(ALICE), "--amount", "1", "--ref", "BANK-CLI-F", "--yes")

    assert run.code == 6
    assert run.err == f"error: mint reverted: FrozenAccount(account={addr(ALICE)})\n"
    assert env.nonce(MINTER) == nonce and len(journal_lines(_journal(env))) == lines


def test_a_repeat_under_its_own_key_is_found_on_chain_whatever_the_journal_holds(env: StackEnv, pkr):
    """--idempotency-key: the key is the ref on chain, so a lost or an old journal never pays the repeat twice."""
    pkr("mint", "--to", addr(ALICE), "--amount", "100", "--ref", "BANK-CLI-K", "--yes")
    assert pkr("transfer", "--to", addr(BOB), "--amount", "10", "--ref", "PAY-K", "--yes", "--account", f"dev:{ALICE}").code == 0
    old_journal = _journal(env).read_bytes()  # before the repeat
    bob = env.token.balance_of(addr(BOB))
    repeat = ("transfer", "--to", addr(BOB), "--amount", "10", "--ref", "PAY-K", "--idempotency-key", "PAY-K/2",
              "--yes", "--account", f"dev:{ALICE}", "--json")

    first = pkr(*repeat)
    assert first.code == 0 and first.json()["status"] == "confirmed", first.err
    _journal(env).write_bytes(old_journal)  # an old copy restored: it knows nothing of the repeat
    restored = pkr(*repeat)
    _journal(env).unlink()  # the journal lost
    lost = pkr(*repeat)

    for run in (restored, lost):
        assert run.code == 0 and run.json()["status"] == "already-done", run.err
        assert run.json()["tx_hash"] == first.json()["tx_hash"]
    assert env.token.balance_of(addr(BOB)) == bob + 1_000  # 10.00 once more, not three times
    paid = list(env.token.find_events("PaymentReference", {"from": addr(ALICE), "ref": parse_ref("PAY-K/2")}))
    assert len(paid) == 1


def test_paused_token_refuses_a_transfer_with_enforced_pause(env: StackEnv, pkr):
    pkr("mint", "--to", addr(ALICE), "--amount", "5", "--ref", "BANK-CLI-P", "--yes")
    pkr("pause", "--ref", "INC-CLI", "--yes")

    run = pkr("transfer", "--to", addr(BOB), "--amount", "1", "--ref", "PAY-CLI", "--yes", "--account", f"dev:{ALICE}")

    assert run.code == 6 and run.err == "error: transfer reverted: EnforcedPause()\n"


def test_missing_role_names_the_account_and_the_role(env: StackEnv, pkr):
    nonce = env.nonce(OUTSIDER)

    run = pkr("freeze", addr(BOB), "--ref", "ALERT-X", "--yes", "--account", f"dev:{OUTSIDER}")

    assert run.code == 6
    assert run.err == (f"error: freeze reverted: AccessControlUnauthorizedAccount(account={addr(OUTSIDER)}, "
                       "neededRole=FREEZER_ROLE)\n")
    assert env.nonce(OUTSIDER) == nonce


def test_a_refusal_speaks_in_pkrp_and_json_keeps_the_exact_integers(env: StackEnv, pkr):
    pkr("mint", "--to", addr(ALICE), "--amount", "40", "--ref", "BANK-CLI-U", "--yes")

    run = pkr("transfer", "--to", addr(BOB), "--amount", "50", "--ref", "PAY-CLI-U", "--yes", "--account", f"dev:{ALICE}")
    assert run.code == 6
    assert "balance=40.00 PKRP, needed=50.00 PKRP)" in run.err

    as_json = pkr("--json", "transfer", "--to", addr(BOB), "--amount", "50", "--ref", "PAY-CLI-U", "--yes",
                  "--account", f"dev:{ALICE}")
    data = as_json.json()
    assert as_json.code == 6 and data["exit"] == 6 and data["type"] == "ContractRevert"
    assert data["revert"] == {"name": "ERC20InsufficientBalance",
                              "args": {"sender": addr(ALICE), "balance": 4000, "needed": 5000}}


def test_with_json_every_error_is_json_and_global_options_go_anywhere(env: StackEnv, pkr):
    bad = pkr("mint", "--to", addr(ALICE), "--amount", "1_000", "--ref", "BANK-CLI-J", "--yes", "--json")
    assert bad.code == 2 and bad.err == ""
    assert bad.json() == {"error": "amount: amount '1_000' uses '_' as a separator", "exit": 2, "type": "UserInputError",
                          "hint": "group thousands with commas (1,000) or not at all (1000)"}
    usage = pkr("status", "--no-such-option", "--json")
    assert usage.code == 2 and usage.json()["exit"] == 2 and "--no-such-option" in usage.json()["error"]
    missing = pkr("status", "--json", "--network", "nowhere")
    assert missing.code == 2 and missing.json()["exit"] == 2
    # --json before the command name, --debug after it
    assert pkr("--json", "status").json()["network"] == "opsnet"
    assert pkr("status", "--debug").code == 0


def test_unknown_keystore_account_is_refused(env: StackEnv, pkr):
    run = pkr("freeze", addr(BOB), "--ref", "ALERT-K", "--yes", "--account", "keystore:nobody")

    assert run.code == 5 and run.err.startswith("error: ") and "nobody" in run.err
    assert not _journal(env).exists()


def test_wrong_keystore_password_is_refused_and_nothing_sent(env: StackEnv, pkr):
    from pkr_pilot.accounts import create_keystore

    folder = env.root / ".pkr-pilot" / "keystores"
    if not (folder / "cli-freezer.json").exists():
        create_keystore(folder, "cli-freezer", "right-password", scrypt_n=2**4)
    nonce = env.nonce(FREEZER)

    run = pkr("freeze", addr(BOB), "--ref", "ALERT-P", "--yes", "--account", "keystore:cli-freezer",
              extra_env={"PKR_PILOT_PASSWORD": "wrong-password"})

    assert run.code == 5 and "password" in run.err.lower() and "Traceback" not in run.err
    assert "wrong-password" not in run.err and "right-password" not in run.err
    assert env.nonce(FREEZER) == nonce and not _journal(env).exists()


def test_the_password_prompt_names_the_keystore_and_the_role_and_a_wrong_one_sends_nothing(env: StackEnv, pkr):
    from pkr_pilot.accounts import create_keystore

    folder = env.root / ".pkr-pilot" / "keystores"
    if not (folder / "cli-freezer.json").exists():
        create_keystore(folder, "cli-freezer", "right-password", scrypt_n=2**4)
    nonce = env.nonce(FREEZER)

    run = pkr("freeze", addr(BOB), "--ref", "ALERT-Q", "--yes", "--account", "keystore:cli-freezer", input="typed-wrong\n")

    assert "Password for keystore cli-freezer (freezer)" in run.out + run.err
    assert run.code == 5 and "typed-wrong" not in run.out + run.err and "Traceback" not in run.err
    assert env.nonce(FREEZER) == nonce and not _journal(env).exists()


def test_ephemeral_network_is_refused_with_what_to_do(env: StackEnv, pkr, tmp_path):
    networks = tmp_path / "networks.toml"
    networks.write_text('[networks.scratch]\nbackend = "anvil"\n')

    run = pkr("status", "--network", "scratch", extra_env={"PKR_PILOT_NETWORKS": str(networks)})

    assert run.code == 2 and "ephemeral" in run.err and "pkr-pilot node" in run.err


def test_network_without_a_deployment_says_deploy_first(env: StackEnv, pkr, tmp_path):
    networks = tmp_path / "networks.toml"
    networks.write_text(f'[networks.opsempty]\nurl = "{env.node.url}"\n')

    run = pkr("status", "--network", "opsempty", extra_env={"PKR_PILOT_NETWORKS": str(networks)})

    assert run.code == 7 and "nothing is deployed in deployments/opsempty" in run.err and "pkr-pilot deploy" in run.err


def test_a_url_reaching_two_recorded_stacks_is_refused_naming_both(env: StackEnv, pkr):
    """The URL's chain (chain id + genesis hash) is recorded in two folders here: which stack is meant is not guessed."""
    run = pkr("status", "--network", env.node.url)

    assert run.code == 7 and "Traceback" not in run.err
    assert "deployments/opsgov" in run.err and "deployments/opsnet" in run.err and "--network" in run.err


# --------------------------------------------------------------------------- views


def test_balance_status_and_roles_list(env: StackEnv, pkr):
    pkr("mint", "--to", addr(ALICE), "--amount", "100", "--ref", "BANK-CLI-V", "--yes")
    pkr("freeze-amount", addr(ALICE), "--amount", "40", "--ref", "CASE-CLI", "--yes")

    balance = pkr("balance", addr(ALICE))
    assert balance.code == 0 and "available  60.00 PKRP" in balance.out and "frozen     40.00 PKRP" in balance.out

    status = pkr("status", "--json").json()
    assert status["network"] == "opsnet" and status["total_supply"] == "10000"
    assert status["frozen"][addr(ALICE)] == {"fully_frozen": False, "frozen_amount": "4000"}
    human = pkr("status").out
    assert "total supply      100.00 PKRP" in human and addr(ALICE) in human
    reserves = int(status["reserves"]["amount"])
    expected = f"{(Decimal(reserves) * 100 / 10000).quantize(Decimal('0.01')):,} %"
    assert f"collateralisation {expected} (reserves / supply)" in human
    assert status["collateralisation_percent"] == expected.replace(",", "").removesuffix(" %")

    roles = pkr("roles", "list", "--json").json()
    assert roles["PilotRupee"]["FREEZER_ROLE"] == [addr(FREEZER)]


# --------------------------------------------------------------------------- regulator controls


def test_desk_flow_request_approve_execute(env: StackEnv, pkr):
    filed = pkr("mint-request", "--to", addr(ALICE), "--amount", "150,000", "--ref", "BANK-DESK-CLI", "--yes", "--json")
    rid = filed.json()["values"]["request_id"]

    listing = pkr("mint-requests")
    assert f"#{rid} mint 150,000.00 PKRP to {addr(ALICE)}" in listing.out and "0/2 approvals" in listing.out

    first = pkr("mint-approve", str(rid), "--yes")  # accounts.checker = dev:7
    assert first.code == 0 and f"now: request #{rid} approvals 1/2, pending" in first.out
    assert "status=pending" not in first.out and "approvals=0/2" not in first.out
    second = pkr("mint-approve", str(rid), "--yes", "--account", f"dev:{MINTER}")
    assert second.code == 0 and f"now: request #{rid} approvals 2/2, pending" in second.out
    assert "ready to execute" in pkr("mint-requests").out
    done = pkr("mint-execute", str(rid), "--yes")

    assert done.code == 0 and env.token.balance_of(addr(ALICE)) == 15_000_000
    assert f"now: request #{rid} approvals 2/2, executed" in done.out
    assert pkr("mint-requests").out == "no pending requests\n"


def test_a_mint_request_found_on_chain_still_gives_its_request_id(env: StackEnv, pkr):
    """The journal lost: the re-run finds the request by its ref and --json still names its id (to approve it)."""
    rid = pkr("mint-request", "--to", addr(ALICE), "--amount", "10", "--ref", "BANK-DESK-AGAIN", "--yes",
              "--json").json()["values"]["request_id"]
    _journal(env).unlink()

    again = pkr("mint-request", "--to", addr(ALICE), "--amount", "10", "--ref", "BANK-DESK-AGAIN", "--yes", "--json")

    assert again.code == 0 and again.json()["status"] == "already-done"
    assert again.json()["values"]["request_id"] == rid


def test_maker_approving_is_refused_by_role(env: StackEnv, pkr):
    rid = pkr("mint-request", "--to", addr(ALICE), "--amount", "10", "--ref", "BANK-DESK-CLI2", "--yes",
              "--json").json()["values"]["request_id"]

    run = pkr("mint-approve", str(rid), "--yes", "--account", "dev:9")

    assert run.code == 6 and "AccessControlUnauthorizedAccount(account=" in run.err


def test_tier_limits_and_allowlist(env: StackEnv, pkr):
    assert pkr("tier", "set", addr(ALICE), "2", "--ref", "KYC-CLI", "--yes").code == 0
    assert pkr("tier", "limits", "2", "--max-balance", "500", "--max-daily-outflow", "unlimited",
               "--ref", "LIM-CLI", "--yes").code == 0
    assert pkr("allowlist", "on", "--ref", "BOARD-CLI", "--yes").code == 0

    assert env.token.tier_of(addr(ALICE)) == 2 and env.token.allowlist_enabled()
    assert env.token.tier_limits(2).max_balance == 50_000
    refused = pkr("mint", "--to", addr(BOB), "--amount", "1", "--ref", "BANK-AL", "--yes")
    assert refused.code == 6 and f"NotAllowlisted(account={addr(BOB)})" in refused.err
    assert pkr("allowlist", "off", "--ref", "BOARD-CLI-2", "--yes").code == 0


def test_timelock_schedule_then_execute_unpause(env: StackEnv, pkr):
    assert pkr("pause", "--ref", "INC-GOV", "--yes", "--network", "opsgov").code == 0

    scheduled = pkr("timelock", "schedule", "unpause", "--ref", "INC-GOV-END", "--yes", "--network", "opsgov")
    assert scheduled.code == 0 and "ready at:" in scheduled.out
    early = pkr("timelock", "execute", "unpause", "--ref", "INC-GOV-END", "--yes", "--network", "opsgov")
    assert early.code == 2 and "not ready until" in early.err

    env.node.rpc("evm_increaseTime", TIMELOCK_DELAY + 1)
    env.node.rpc("evm_mine")
    done = pkr("timelock", "execute", "unpause", "--ref", "INC-GOV-END", "--yes", "--network", "opsgov")

    assert done.code == 0 and not env.gov.token.paused()
    assert journal_lines(_journal(env, "opsgov"))[-1]["op"]["who"] == addr(EXECUTOR)
    assert any(line["op"]["who"] == addr(PROPOSER) for line in journal_lines(_journal(env, "opsgov")))


# --------------------------------------------------------------------------- real-network modes


def test_timeout_message_then_replace(env: StackEnv, pkr, tmp_path):
    networks = tmp_path / "networks.toml"
    networks.write_text(
        f'[networks.opsnet]\nurl = "{env.node.url}"\nchain_id = 31337\ntimeout = 1\n'
        '[networks.opsnet.accounts]\nminter = "dev:8"\n'
    )
    quick = {"PKR_PILOT_NETWORKS": str(networks)}
    env.node.rpc("evm_setAutomine", False)

    stuck = pkr("mint", "--to", addr(ALICE), "--amount", "1", "--ref", "BANK-SLOW", "--yes", extra_env=quick)
    assert stuck.code == 4
    assert "was not mined within 1 s" in stuck.err and "re-run the same command to resume" in stuck.err

    timer = threading.Timer(0.5, lambda: env.node.rpc("evm_mine"))
    timer.start()
    replaced = pkr("mint", "--to", addr(ALICE), "--amount", "1", "--ref", "BANK-SLOW", "--yes", "--replace",
                   "--json", extra_env=quick)
    timer.join()

    assert replaced.code == 0, replaced.err
    assert "replaced 0x" in replaced.err and replaced.json()["status"] == "confirmed"
    assert sum(1 for e in env.token.events(("Minted",)) if e.args["ref"] == b"BANK-SLOW".ljust(32, b"\0")) == 1


def test_attest_defaults_to_now_and_warns_when_supply_stays_above_reserves(env: StackEnv, pkr):
    pkr("mint", "--to", addr(ALICE), "--amount", "100", "--ref", "BANK-CLI-R", "--yes")
    nonce = env.nonce(ATTESTOR)

    dry = pkr("reserves", "attest", "--amount", "1.00", "--ref", "AUDIT-LOW", "--dry-run")
    assert dry.code == 0 and "now: the latest block's time" in dry.out
    assert "WARNING: the supply 100.00 PKRP stays above these reserves 1.00 PKRP (collateralisation 1.00 %)" in dry.out
    refused = pkr("reserves", "attest", "--amount", "1.00", "--ref", "AUDIT-LOW", input="n\n")
    assert refused.code == 2 and "WARNING: the supply 100.00 PKRP" in refused.err
    assert env.nonce(ATTESTOR) == nonce

    fine = pkr("reserves", "attest", "--amount", "5,000", "--ref", "AUDIT-OK", "-y")
    assert fine.code == 0, fine.err
    assert "WARNING" not in fine.err and "collateralisation 5,000.00 %" in fine.out


def test_a_transfer_to_the_token_itself_warns(env: StackEnv, pkr):
    pkr("mint", "--to", addr(ALICE), "--amount", "5", "--ref", "BANK-CLI-T", "--yes")

    run = pkr("transfer", "--to", env.token.address, "--amount", "1", "--ref", "PAY-SELF", "--yes",
              "--account", f"dev:{ALICE}")
    assert run.code == 0 and f"WARNING: {env.token.address} is the token contract itself" in run.err
    prompt = pkr("transfer", "--to", env.token.address, "--amount", "1", "--ref", "PAY-SELF-2",
                 "--account", f"dev:{ALICE}", input="n\n")
    assert prompt.code == 2 and "WARNING:" in prompt.err and "nothing was sent" in prompt.err


# --------------------------------------------------------------------------- verify as a health check


def test_verify_after_a_normal_day_exits_0_and_lists_the_operations(env: StackEnv, pkr):
    assert pkr("mint", "--to", addr(ALICE), "--amount", "100", "--ref", "BANK-DAY-1", "--yes").code == 0
    assert pkr("minter", "configure", addr(BOB), "--allowance", "1,000", "--ref", "LICENCE-DAY", "--yes").code == 0

    run = pkr("verify")

    assert run.code == 0, run.out + run.err
    assert f"[operational] minters: minterAllowance({addr(MINTER)})" in run.out and "10000 spent by mints" in run.out
    assert f"[operational] minters: minter {addr(BOB)}" in run.out and "added by the journaled operation 0x" in run.out
    assert "verified (2 operational change(s) listed, not drift)" in run.out
    data = pkr("verify", "--json").json()
    assert data["ok"] is True and data["mismatches"] == [] and len(data["operational"]) == 2


def test_verify_still_exits_7_on_real_drift(env: StackEnv, pkr):
    from pkr_pilot.tx import Sender, TxPolicy

    # a minter configured behind the toolkit's back (no journaled operation)
    call = env.token.configure_minter(addr(CAROL), 500, b"SIDE-DOOR".ljust(32, b"\0"))
    Sender(env.w3, acct(MINTER_ADMIN), policy=TxPolicy(timeout=20)).transact(call.tx())

    run = pkr("verify")

    assert run.code == 7
    assert f"[MISMATCH] minters: minter {addr(CAROL)}: configured not a minter, on chain allowance 500" in run.out
    assert pkr("verify", "--json").json()["ok"] is False
