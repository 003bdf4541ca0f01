"""Storage-layout extraction (ERC-7201 namespaces from the AST) and the compatibility rules."""

from __future__ import annotations

from typing import Any

import pytest

from pkr_pilot.compile import load_build_info
from pkr_pilot.deploy.layout import check_compatible, erc7201_slot, extract_layout, layout_clashes
from pkr_pilot.errors import StorageLayoutError

PILOT_NS = "erc7201:pkrpilot.storage.PilotRupee"


def _layout(project: Any, compiled: Any, name: str) -> dict[str, Any]:
    artifact = compiled.artifacts[name]
    return extract_layout(
        artifact.storage_layout, load_build_info(project.paths, artifact.build_info_id), artifact.source_name, artifact.name
    )


def test_erc7201_root_matches_the_constant_in_the_token() -> None:
    assert erc7201_slot("pkrpilot.storage.PilotRupee") == 0x9FDFE9D5F4ED7EE0FDE9AA4F4454B07CDBF4E77D7F78D69B61AF7D30576E3500
    # OpenZeppelin's documented root for AccessControl
    assert erc7201_slot("openzeppelin.storage.AccessControl") == 0x02DD7BC7DEC4DCEEDDA775E58DD541E08A116C6C53815C0BD028192F7B626800


def test_token_namespaces_are_laid_out_as_the_contract_documents(project: Any, compiled: Any) -> None:
    layout = _layout(project, compiled, "PilotRupee")
    assert layout["storage"] == []  # every variable lives in a namespace
    namespaces = layout["namespaces"]
    for ns in ("openzeppelin.storage.AccessControl", "openzeppelin.storage.AccessControlDefaultAdminRules",
               "openzeppelin.storage.EIP712", "openzeppelin.storage.Nonces", "openzeppelin.storage.Initializable"):
        assert f"erc7201:{ns}" in namespaces, ns
    members = {m["label"]: (int(m["slot"]), m["offset"]) for m in namespaces[PILOT_NS]["storage"]}
    # contracts/PilotRupee.sol: slot +4 accounts, +5 allowances, +10/+11/+12 name, symbol, decimals, +13 usedReferences
    assert members["global"] == (0, 0)
    assert members["attestedAt"] == (3, 0)
    assert members["accounts"] == (4, 0)
    assert members["allowances"] == (5, 0)
    assert members["name"] == (10, 0)
    assert members["decimals"] == (12, 0)
    assert members["usedReferences"] == (13, 0)  # appended by issue 10 (strict-mode payment references)


def test_initializable_packs_two_fields_into_one_slot(project: Any, compiled: Any) -> None:
    ns = _layout(project, compiled, "PilotRupee")["namespaces"]["erc7201:openzeppelin.storage.Initializable"]
    placed = {m["label"]: (int(m["slot"]), m["offset"]) for m in ns["storage"]}
    assert placed == {"_initialized": (0, 0), "_initializing": (0, 8)}


def test_v2_with_its_own_namespace_is_compatible(project: Any, compiled: Any) -> None:
    old = _layout(project, compiled, "PilotRupee")
    new = _layout(project, compiled, "PilotRupeeV2")
    assert "erc7201:pkrpilot.storage.PilotRupeeV2" in new["namespaces"]
    check_compatible(old, new)


def test_inserted_member_is_refused_at_the_slot_it_takes(project: Any, compiled: Any) -> None:
    old = _layout(project, compiled, "PilotRupee")
    new = _layout(project, compiled, "PilotRupeeBadLayout")
    clashes = layout_clashes(old, new)
    first = clashes[0]
    assert first.where == f"namespace {PILOT_NS}"
    assert first.label == "accounts"
    assert first.slot.endswith("(+4)") and first.offset == 0
    assert "feeBps" in first.problem
    assert len(clashes) == 10  # accounts .. usedReferences (+4 .. +13) all shifted by one slot
    with pytest.raises(StorageLayoutError, match=r"\(\+9 more\)"):
        check_compatible(old, new, contract="PilotRupeeBadLayout")


# -- rules on small hand-written layouts ---------------------------------------------------------

_T = {
    "t_uint256": {"encoding": "inplace", "label": "uint256", "numberOfBytes": "32"},
    "t_uint128": {"encoding": "inplace", "label": "uint128", "numberOfBytes": "16"},
    "t_address": {"encoding": "inplace", "label": "address", "numberOfBytes": "20"},
    "t_map": {"encoding": "mapping", "label": "mapping(address => uint256)", "numberOfBytes": "32",
              "key": "t_address", "value": "t_uint256"},
    "t_map128": {"encoding": "mapping", "label": "mapping(address => uint128)", "numberOfBytes": "32",
                 "key": "t_address", "value": "t_uint128"},
}


def _ns(*members: tuple[str, int, int, str]) -> dict[str, Any]:
    return {
        "storage": [],
        "types": {},
        "namespaces": {
            "erc7201:test.ns": {
                "struct": "S",
                "storage": [{"label": name, "slot": str(s), "offset": o, "type": t} for name, s, o, t in members],
                "types": _T,
            }
        },
    }


def test_appending_a_member_is_compatible() -> None:
    old = _ns(("a", 0, 0, "t_uint256"), ("m", 1, 0, "t_map"))
    new = _ns(("a", 0, 0, "t_uint256"), ("m", 1, 0, "t_map"), ("b", 2, 0, "t_uint256"))
    assert layout_clashes(old, new) == []


def test_changing_a_mapping_value_type_is_refused() -> None:
    old = _ns(("a", 0, 0, "t_uint256"), ("m", 1, 0, "t_map"))
    new = _ns(("a", 0, 0, "t_uint256"), ("m", 1, 0, "t_map128"))
    (clash,) = layout_clashes(old, new)
    assert clash.label == "m" and "mapping value" in clash.problem


def test_renaming_a_member_is_refused() -> None:
    old = _ns(("a", 0, 0, "t_uint256"))
    new = _ns(("renamed", 0, 0, "t_uint256"))
    (clash,) = layout_clashes(old, new)
    assert clash.problem == "now holds `renamed`"


def test_removing_a_namespace_is_refused() -> None:
    old = _ns(("a", 0, 0, "t_uint256"))
    new = {"storage": [], "types": {}, "namespaces": {}}
    (clash,) = layout_clashes(old, new)
    assert clash.problem == "namespace removed"
    assert clash.slot == hex(erc7201_slot("test.ns"))


def test_filling_a_hole_between_members_is_refused() -> None:
    old = _ns(("a", 0, 0, "t_uint128"), ("b", 1, 0, "t_uint256"))
    new = _ns(("a", 0, 0, "t_uint128"), ("x", 0, 16, "t_uint128"), ("b", 1, 0, "t_uint256"))
    (clash,) = layout_clashes(old, new)
    assert clash.label == "x" and clash.problem == "inserted among existing variables"
