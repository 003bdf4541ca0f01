"""Running scenarios: deterministic for a seed, reproducible from a saved state, report files well-formed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pkr_pilot.cli import main
from pkr_pilot.reports.events import read_events
from pkr_pilot.sim import SimResult, load_scenario, simulate
from pkr_pilot.sim.report import CHARTS, SUMMARY_SCHEMA, SUMMARY_SCHEMA_VERSION

#: Every flow and every planned failure, on as few wallets and steps as possible.
TINY = """
schema = 1
name = "tiny"
description = "A tiny scenario for the tests."
seed = 3
steps = 6
step_seconds = 3600

[token]
limits = true

[participants]
banks = 1
bank_allowance = "30,000.00"
merchants = 2
citizens = 5
gas_eth = "0.1"

[[participants.tiers]]
tier = 1
share = 1
max_balance = "50,000.00"
max_daily_outflow = "3,000.00"

[opening]
citizen_deposit = ["2,000.00", "9,000.00"]
merchant_deposit = ["0.00", "500.00"]
reserve_buffer = "1,000.00"

[flows]
attestation_every = 3
deposits = 1.5
deposit_amount = ["100.00", "2,000.00"]
p2p = 4.0
p2p_amount = ["10.00", "900.00"]
merchant_payments = 3.0
payment_amount = ["10.00", "700.00"]
redemptions = 1.0
redemption_amount = ["100.00", "1,500.00"]

[compliance]
suspicious_freezes = 1.0
suspicious_percent = [20, 50]
release_after = 2
court_order_step = 1
seize_after = 2
seize_percent = 50
frozen_attempts = 2
pause_step = 4
pause_steps = 1
paused_attempts = 2
limit_attempts = 1
"""

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "tiny.toml"
    path.write_text(TINY)
    return path


@pytest.fixture(scope="module")
def first(tiny: Path, project: Any, compiled: Any, tmp_path_factory: pytest.TempPathFactory) -> SimResult:
    """The tiny scenario, seed 3, with its final state saved."""
    out = tmp_path_factory.mktemp("run-a")
    return simulate(project, load_scenario(tiny), out_dir=out, state_out=out / "state.json", compiled=compiled)


def _without_wall_clock(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k != "wall_clock"}


def test_a_run_reconciles_with_only_the_planned_failures(first: SimResult) -> None:
    figures = first.summary["figures"]
    assert first.ok, figures["failures"]
    assert figures["failures"]["unexpected_total"] == 0
    expected = figures["failures"]["expected"]
    assert {"frozen_attempt:FrozenAccount", "paused_attempt:EnforcedPause", "deposit_mint:EnforcedPause",
            "limit_attempt:TierDailyOutflowExceeded"} <= set(expected)
    kinds = figures["transactions_by_kind"]
    for kind in ("deposit_mint", "redemption_burn", "freeze", "seizure", "partial_freeze", "pause", "unpause",
                 "attestation", "kyc_tier", "p2p", "merchant_payment"):
        assert kinds.get(kind, 0) > 0, kind
    assert figures["seizures"]["count"] == 1 and figures["frozen"]["fully_frozen_accounts"] == 1
    assert first.summary["reconcile"]["ok"] and figures["model_matches_chain"]


def test_the_same_seed_gives_the_same_summary_and_events(
    first: SimResult, tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "again"
    assert main(["simulate", str(tiny), "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    printed = json.loads(captured.out)
    assert "simulating" not in captured.err and "setup:" not in captured.err  # --json: no progress
    again = json.loads((out / "summary.json").read_text())
    assert printed == again
    assert _without_wall_clock(again) == _without_wall_clock(dict(first.summary))
    for name in ("events.csv", "participants.csv", "reconcile.json"):
        assert (out / name).read_bytes() == (first.out_dir / name).read_bytes(), name


def test_another_seed_gives_another_run(first: SimResult, tiny: Path, project: Any, compiled: Any, tmp_path: Path) -> None:
    other = simulate(project, load_scenario(tiny), seed=4, out_dir=tmp_path, compiled=compiled)
    assert other.ok
    assert other.summary["scenario"]["seed"] == 4
    assert other.summary["chain"]["token"] != first.summary["chain"]["token"]  # another central bank key
    assert other.summary["figures"]["final_supply"] != first.summary["figures"]["final_supply"]
    assert (tmp_path / "events.csv").read_bytes() != (first.out_dir / "events.csv").read_bytes()


def test_a_run_from_a_saved_state_is_reproduced(
    first: SimResult, tiny: Path, project: Any, compiled: Any, tmp_path: Path
) -> None:
    state = first.out_dir / "state.json"
    before = state.read_bytes()
    one = simulate(project, load_scenario(tiny), seed=5, out_dir=tmp_path / "one", state_in=state, compiled=compiled)
    two = simulate(project, load_scenario(tiny), seed=5, out_dir=tmp_path / "two", state_in=state, compiled=compiled)
    assert state.read_bytes() == before  # the starting point is left as it was
    assert one.ok and two.ok
    assert one.summary["chain"]["first_block"] > first.summary["chain"]["last_block"]  # on top of the saved chain
    assert one.summary["chain"]["state_in_sha256"] == two.summary["chain"]["state_in_sha256"] is not None
    assert _without_wall_clock(dict(one.summary)) == _without_wall_clock(dict(two.summary))
    assert (tmp_path / "one" / "events.csv").read_bytes() == (tmp_path / "two" / "events.csv").read_bytes()


def test_the_report_files_are_well_formed(first: SimResult) -> None:
    out = first.out_dir
    summary = json.loads((out / "summary.json").read_text())
    assert summary["schema"] == SUMMARY_SCHEMA and summary["version"] == SUMMARY_SCHEMA_VERSION
    for section in ("scenario", "chain", "participants", "figures", "reconcile", "files", "wall_clock"):
        assert section in summary
    assert summary["wall_clock"]["wall_seconds"] > 0
    for name, _, _ in CHARTS:
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5_000, name
    page = (out / "index.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    targets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert {n for n, _, _ in CHARTS} | {"summary.json", "events.csv"} <= set(targets)
    for target in targets:
        assert not target.startswith(("http:", "https:", "/")), target
        assert (out / target).is_file(), target
    assert summary["figures"]["display"]["final_supply"] in page
    journal = [json.loads(line) for line in (out / "operations.jsonl").read_text().splitlines()]
    assert journal and all(line["schema"] == "pkr-pilot.operations" for line in journal)
    assert not (out / ".journal").exists()


def test_the_events_file_is_a_valid_export_of_the_whole_run(first: SimResult) -> None:
    export = read_events(first.out_dir / "events.csv", _token_abi(first))
    assert export.include_transfers and export.to_block == first.summary["chain"]["last_block"]
    minted = sum(int(r.args["amount"]) for r in export.of("Minted"))
    burned = sum(int(r.args["amount"]) for r in export.of("Burned"))
    assert str(minted) == first.summary["figures"]["minted"] and str(burned) == first.summary["figures"]["burned"]
    assert str(minted - burned) == first.summary["figures"]["final_supply"]


def _token_abi(result: SimResult) -> Any:
    record = json.loads((result.out_dir / "deployment" / "PilotRupee.json").read_text())
    return record["abi"]


def test_participant_keys_appear_nowhere_in_the_report(first: SimResult) -> None:
    from pkr_pilot.sim.participants import derive_signer

    key = derive_signer(3, "citizen", 0)._account.key.hex()
    for path in first.out_dir.rglob("*"):
        if path.is_file() and path.suffix != ".png":
            assert key not in path.read_text(errors="ignore"), path


def test_the_in_process_chain_is_refused_with_what_to_use(tiny: Path, project: Any, tmp_path: Path) -> None:
    from pkr_pilot.errors import UserInputError

    with pytest.raises(UserInputError, match="needs a JSON-RPC node"):
        simulate(project, load_scenario(tiny), network="memory", out_dir=tmp_path)


def test_state_in_needs_the_managed_node(tiny: Path, project: Any, tmp_path: Path) -> None:
    from pkr_pilot.errors import UserInputError

    state = tmp_path / "state.json"
    state.write_text("{}")
    with pytest.raises(UserInputError, match="--state-in needs the managed node"):
        simulate(project, load_scenario(tiny), network="localhost", state_in=state, out_dir=tmp_path)


def test_the_report_opens_in_a_real_browser_with_every_image_and_no_console_error(
    first: SimResult, tmp_path: Path
) -> None:
    """Headless Chromium (Debian's `chromium`) loads index.html; the screenshot is kept in test-artifacts/."""
    from _browser import check_page, find_chromium

    binary = find_chromium()
    if binary is None:
        pytest.skip("chromium is not installed (apt-get install chromium): the report's browser check did not run")
    seen = check_page(binary, first.out_dir / "index.html", tmp_path / "chromium-profile")

    assert seen.errors == []
    assert {i["src"] for i in seen.images} == {name for name, _, _ in CHARTS}
    assert all(i["complete"] and i["width"] > 0 for i in seen.images), seen.images
    assert seen.title.startswith("Pilot scenario")
    assert seen.screenshot.startswith(PNG_MAGIC)
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "report-index.png").write_bytes(seen.screenshot)


def test_the_browser_check_sees_a_broken_image_and_a_console_error(tmp_path: Path) -> None:
    from _browser import check_page, find_chromium

    binary = find_chromium()
    if binary is None:
        pytest.skip("chromium is not installed (apt-get install chromium): the report's browser check did not run")
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><title>x</title><img src="missing.png"><script>console.error("boom")</script>')
    seen = check_page(binary, page, tmp_path / "profile")
    assert any("boom" in e for e in seen.errors)
    assert seen.images == [{"src": "missing.png", "complete": True, "width": 0}]

