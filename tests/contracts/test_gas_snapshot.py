"""The committed gas snapshot (``.gas-snapshot``): no operation may cost more than its figure.

The stack is deployed on a fresh anvil and every operation is measured as its own transaction
(pkr_pilot.bench.snapshot). When an operation gets cheaper the test still passes and the message
suggests rewriting the snapshot; when one gets dearer, or the set of operations changes, it fails.
Rewrite on purpose with ``pkr-pilot bench gas --write-snapshot`` (or ``make gas-snapshot``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pkr_pilot.bench.gas import EXTRA_SCENARIOS, GAS_BUDGETS
from pkr_pilot.bench.snapshot import (
    SNAPSHOT_FILE,
    SNAPSHOT_OPERATIONS,
    compare_gas,
    format_snapshot,
    measure_gas,
    parse_snapshot,
    read_snapshot,
    write_snapshot,
)
from pkr_pilot.errors import ConfigError

REWRITE = "rewrite on purpose with `pkr-pilot bench gas --write-snapshot`"


@pytest.fixture(scope="module")
def measured(project: Any, compiled: Any) -> dict[str, int]:
    return measure_gas(project)


@pytest.fixture(scope="module")
def snapshot(project: Any) -> dict[str, int]:
    return read_snapshot(project.paths.root / SNAPSHOT_FILE)


def test_snapshot_covers_budgets_extras_and_every_other_operation(snapshot: dict[str, int]) -> None:
    assert set(snapshot) == {*GAS_BUDGETS, *EXTRA_SCENARIOS, *SNAPSHOT_OPERATIONS}


def test_measured_operations_are_the_snapshot_operations(measured: dict[str, int], snapshot: dict[str, int]) -> None:
    diff = compare_gas(measured, snapshot)
    assert not diff.added and not diff.missing, f"operations changed: {diff}; {REWRITE}"


@pytest.mark.parametrize("operation", sorted({*GAS_BUDGETS, *EXTRA_SCENARIOS, *SNAPSHOT_OPERATIONS}))
def test_operation_costs_no_more_than_its_snapshot(measured: dict[str, int], snapshot: dict[str, int],
                                                    operation: str) -> None:
    used, recorded = measured[operation], snapshot[operation]
    assert used <= recorded, f"{operation} costs {used} gas, {used - recorded} more than its snapshot {recorded}; {REWRITE}"


def test_snapshot_figures_are_within_the_issue_budgets(snapshot: dict[str, int]) -> None:
    assert {op: snapshot[op] for op in GAS_BUDGETS if snapshot[op] > GAS_BUDGETS[op]} == {}


def test_cli_measures_the_same_figures_on_a_second_fresh_chain_and_writes_the_snapshot(
    measured: dict[str, int], tmp_path: Path
) -> None:
    """Determinism (two fresh chains, byte-identical calldata) and the rewrite command."""
    import json

    from pkr_pilot.cli import cli

    target = tmp_path / "snap"
    result = CliRunner().invoke(cli, ["bench", "gas", "--json", "--write-snapshot", "--snapshot", str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == measured
    assert target.read_text() == format_snapshot(measured)
    assert list(json.loads(result.stdout))[: len(GAS_BUDGETS)] == list(GAS_BUDGETS)


def test_cli_check_fails_when_an_operation_got_dearer(
    measured: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The human table and --check, on the figures measured above (no third chain)."""
    import pkr_pilot.bench.snapshot as gs
    from pkr_pilot.cli import cli

    monkeypatch.setattr(gs, "measure_gas", lambda project, progress=None: dict(measured))
    cheaper = dict(measured)
    cheaper["transfer"] -= 1
    target = tmp_path / "snap"
    write_snapshot(target, cheaper)
    result = CliRunner().invoke(cli, ["bench", "gas", "--check", "--snapshot", str(target)])
    assert result.exit_code == 1
    line = next(row for row in result.stdout.splitlines() if row.startswith("transfer "))
    assert "42,000" in line and "+1 vs snapshot" in line
    write_snapshot(target, measured)
    assert CliRunner().invoke(cli, ["bench", "gas", "--check", "--snapshot", str(target)]).exit_code == 0


# ------------------------------------------------------------------------------ the file format


def test_snapshot_round_trips_sorted_with_a_schema_line() -> None:
    text = format_snapshot({"mint": 5, "approve": 7})
    assert text.splitlines()[0].startswith("# pkr-pilot gas snapshot v1")
    assert text.splitlines()[1:] == ["PilotRupee:approve (gas: 7)", "PilotRupee:mint (gas: 5)"]
    assert parse_snapshot(text) == {"approve": 7, "mint": 5}


def test_unknown_schema_and_malformed_lines_are_refused() -> None:
    with pytest.raises(ConfigError, match="schema v9"):
        parse_snapshot("# pkr-pilot gas snapshot v9: x\n")
    with pytest.raises(ConfigError, match="not a pkr-pilot gas snapshot"):
        parse_snapshot("PilotRupee:mint (gas: 5)\n")
    with pytest.raises(ConfigError, match=":2: cannot read"):
        parse_snapshot(format_snapshot({}) + "mint 5\n")


def test_missing_snapshot_file_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no gas snapshot"):
        read_snapshot(tmp_path / "none")


def test_compare_sorts_changes_into_dearer_cheaper_new_and_gone() -> None:
    diff = compare_gas({"a": 10, "b": 5, "c": 1}, {"a": 9, "b": 6, "d": 2})
    assert diff.increased == {"a": (9, 10)}
    assert diff.decreased == {"b": (6, 5)}
    assert diff.added == {"c": 1}
    assert diff.missing == {"d": 2}
    assert not diff.ok
    assert compare_gas({"a": 1}, {"a": 2}).ok
