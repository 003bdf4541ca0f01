"""Scenario files: the shipped scenarios parse, and mistakes are refused with the key that is wrong."""

from __future__ import annotations

import random
import tomllib
from pathlib import Path
from typing import Any

import pytest

from pkr_pilot.errors import UserInputError
from pkr_pilot.sim.scenario import UNLIMITED, AmountRange, load_scenario, parse_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scripts" / "scenarios"


def _small() -> dict[str, Any]:
    return tomllib.loads((SCENARIOS / "small.toml").read_text())


def test_the_shipped_scenarios_parse() -> None:
    small = load_scenario(SCENARIOS / "small.toml")
    assert (small.participants.banks, small.participants.merchants, small.participants.citizens) == (2, 5, 20)
    assert small.sha256 and small.source.endswith("small.toml")
    medium = load_scenario(SCENARIOS / "medium.toml")
    assert medium.wallets == 1_000
    per_step = medium.flows.p2p + medium.flows.merchant_payments + medium.flows.redemptions
    assert per_step * medium.steps >= 11_000  # about 10,000 succeed: some draws find no funds, two steps are paused


def test_amounts_are_exact_base_units_and_unlimited_is_accepted() -> None:
    data = _small()
    data["participants"]["tiers"][0]["max_daily_outflow"] = "unlimited"
    scenario = parse_scenario(data)
    assert scenario.opening.citizen_deposit == AmountRange(100_000, 2_500_000)
    assert scenario.participants.tiers[0].max_daily_outflow == UNLIMITED
    assert scenario.participants.gas_wei == 10**18


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["flows"].update(p2p_amont=["1", "2"]), r"unknown key\(s\) p2p_amont in \[flows\]"),
        (lambda d: d["flows"].update(p2p_amount=["1.001", "2"]), r"flows\.p2p_amount: .*more than 2 decimal places"),
        (lambda d: d["flows"].update(p2p_amount=["5", "2"]), r"flows\.p2p_amount: low is above high"),
        (lambda d: d.update(step_seconds=7_000), r"step_seconds: 7000 does not divide a day"),
        (lambda d: d["flows"].update(attestation_every=48), r"flows\.attestation_every: .*stale"),
        (lambda d: d["token"].update(limits=False), r"compliance\.limit_attempts: needs \[token\] limits"),
        (lambda d: d["compliance"].update(seize_after=40), r"compliance\.seize_after: .*after the last step"),
        (lambda d: d.update(name="small run"), r"name: 'small run' may hold"),
        (lambda d: d["participants"].update(citizens=1), r"participants\.citizens: 1 must be an integer"),
        (lambda d: d.update(start_time="2030-01-01T00:00:00"), r"start_time: needs a time zone"),
        (lambda d: d.update(schema=2), r"schema: 2 is not a scenario schema"),
    ],
)
def test_mistakes_are_refused_naming_the_key(edit: Any, message: str) -> None:
    data = _small()
    edit(data)
    with pytest.raises(UserInputError, match=message):
        parse_scenario(data, source="small.toml")


def test_a_missing_or_broken_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="does not exist"):
        load_scenario(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("name = [unclosed\n")
    with pytest.raises(UserInputError, match="not valid TOML"):
        load_scenario(tmp_path / "bad.toml")


def test_amount_ranges_draw_inside_their_bounds() -> None:
    rng = random.Random(1)  # noqa: S311
    draws = {AmountRange(5, 7).draw(rng) for _ in range(200)}
    assert draws == {5, 6, 7}
