"""The one renderer: amounts, times, durations, roles and percentages, and the error-argument table."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils.crypto import keccak

from pkr_pilot.errors import ContractRevert
from pkr_pilot.human import (
    ERROR_ARGUMENT_KINDS,
    PLAIN_ARGUMENTS,
    Units,
    duration,
    percent,
    role_names_from_abis,
    timestamp,
)

STACK_CONTRACTS = ("PilotRupee", "MintDesk", "PilotTimelock", "PilotRupeeProxy")
PKRP = Units(decimals=2, symbol="PKRP", roles={bytes(32): "DEFAULT_ADMIN_ROLE", keccak(text="FREEZER_ROLE"): "FREEZER_ROLE"})


def test_every_numeric_error_argument_of_the_stack_is_classified(compiled: Any) -> None:
    """A new custom error with an amount, a time or a role cannot slip through unrendered."""
    unclassified = []
    for name in STACK_CONTRACTS:
        for item in compiled.artifacts[name].abi:
            if item["type"] != "error":
                continue
            for param in item["inputs"]:
                if not param["type"].startswith(("uint", "int", "bytes32")):
                    continue
                if param["name"] not in ERROR_ARGUMENT_KINDS.get(item["name"], {}) and param["name"] not in PLAIN_ARGUMENTS.get(
                    item["name"], frozenset()
                ):
                    unclassified.append(f"{name}: {item['name']}.{param['name']} ({param['type']})")
    assert unclassified == []


def test_the_kind_table_names_parameters_the_errors_really_have(compiled: Any) -> None:
    declared: dict[str, set[str]] = {}
    for name in STACK_CONTRACTS:
        for item in compiled.artifacts[name].abi:
            if item["type"] == "error":
                declared.setdefault(item["name"], set()).update(p["name"] for p in item["inputs"])
    stale = [
        f"{error}.{param}"
        for error, params in ERROR_ARGUMENT_KINDS.items()
        if error in declared
        for param in params
        if param not in declared[error]
    ]
    assert stale == []


@pytest.mark.parametrize(
    ("name", "args", "text"),
    [
        ("ERC20InsufficientBalance", {"sender": "0xA", "balance": 4000, "needed": 5000},
         "ERC20InsufficientBalance(sender=0xA, balance=40.00 PKRP, needed=50.00 PKRP)"),
        ("MinterAllowanceExceeded", {"minter": "0xB", "allowance": 99900, "needed": 100000},
         "MinterAllowanceExceeded(minter=0xB, allowance=999.00 PKRP, needed=1,000.00 PKRP)"),
        ("AccessControlUnauthorizedAccount", {"account": "0xC", "neededRole": keccak(text="FREEZER_ROLE")},
         "AccessControlUnauthorizedAccount(account=0xC, neededRole=FREEZER_ROLE)"),
        ("AttestationInFuture", {"asOf": 1796408743, "blockTime": 1796408738},
         "AttestationInFuture(asOf=2026-12-04 18:25:43 UTC (1796408743), blockTime=2026-12-04 18:25:38 UTC (1796408738))"),
        ("StaleAttestation", {"asOf": 0, "maxAge": 8 * 86_400},
         "StaleAttestation(asOf=never (0), maxAge=8 d (691200 s))"),
        ("RequestNotFound", {"id": 7}, "RequestNotFound(id=7)"),
        ("RefAlreadyUsed", {"ref": b"\x01" * 32}, "RefAlreadyUsed(ref=0x" + "01" * 32 + ")"),
    ],
)
def test_error_arguments_render_in_their_units(name: str, args: dict[str, Any], text: str) -> None:
    assert PKRP.error_text(name, args) == text


def test_a_revert_keeps_exact_values_for_json_and_journals() -> None:
    err = ContractRevert("ERC20InsufficientBalance", {"sender": "0xA", "balance": 4000, "needed": 5000},
                         action="transfer", units=PKRP)
    assert str(err) == "transfer reverted: ERC20InsufficientBalance(sender=0xA, balance=40.00 PKRP, needed=50.00 PKRP)"
    assert err.signature_text == "ERC20InsufficientBalance(sender=0xA, balance=4000, needed=5000)"
    assert err.to_json() == {"name": "ERC20InsufficientBalance", "args": {"sender": "0xA", "balance": 4000, "needed": 5000}}


def test_unknown_role_is_hex_and_unknown_token_is_base_units() -> None:
    assert Units().role(b"\x07" * 32) == "0x" + "07" * 32
    assert Units().amount(123456) == "123,456 base units"


def test_role_names_come_from_the_abis_constants() -> None:
    abi = [{"type": "function", "name": "SEIZER_ROLE", "inputs": [], "outputs": [{"type": "bytes32"}]},
           {"type": "function", "name": "hasRole", "inputs": [{"type": "bytes32"}, {"type": "address"}]}]
    assert role_names_from_abis([abi]) == {bytes(32): "DEFAULT_ADMIN_ROLE", keccak(text="SEIZER_ROLE"): "SEIZER_ROLE"}


def test_times_durations_and_percentages() -> None:
    assert timestamp(1796408713, with_unix=False) == "2026-12-04 18:25:13 UTC"
    assert timestamp(10**30) == str(10**30)
    assert duration(45) == "45 s" and duration(7_500) == "2 h 5 min (7500 s)" and duration(3_600, with_seconds=False) == "1 h"
    assert percent(1_094_200, 1_000_000) == "109.42 %"
    assert percent(31_670_379_800, 1_000_000) == "3,167,037.98 %"
    assert percent(1, 0) == "n/a"
