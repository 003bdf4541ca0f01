"""PilotRupee upgrades (UUPS behind ERC1967): storage layout, state, authorization, initializers.

The layout comparison uses the *compiler's* ``storageLayout``. All of the token's state lives in
ERC-7201 namespaced structs, which solc does not lay out for the implementation itself (its
``storage`` is empty), so a probe contract declaring one state variable per namespaced struct of
each implementation (``PilotRupeeV2.PilotRupeeStorage``, ``PilotRupeeV2.AccessControlStorage`` …,
discovered from the build's AST) is compiled with the project's solc and settings; its layout gives
every struct member's slot, offset and type. The namespace roots follow the ERC-7201 formula.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from _stack import HOLDER_FUNDING, REF, PilotStack
from helpers import ZERO_ADDRESS, expect_revert, random_nonce, ref, role
from pkr_pilot.compile import load_build_info

pytestmark = pytest.mark.behaviour

IMPLEMENTATION_SLOT = int.from_bytes(keccak(text="eip1967.proxy.implementation"), "big") - 1
NAMESPACE_TAG = "@custom:storage-location erc7201:"


def erc7201_root(namespace: str) -> int:
    """keccak256(abi.encode(uint256(keccak256(id)) - 1)) & ~0xff."""
    inner = int.from_bytes(keccak(text=namespace), "big") - 1
    return int.from_bytes(keccak(inner.to_bytes(32, "big")), "big") & ~0xFF


# ------------------------------------------------------------------------ compiler layouts


def _namespaced_structs(build_info: Mapping[str, Any], contract: str) -> dict[str, str]:
    """``{namespace id: struct name}`` for every ERC-7201 struct among ``contract``'s bases."""
    nodes: dict[int, Mapping[str, Any]] = {}

    def index(node: Any) -> None:
        if isinstance(node, Mapping):
            if isinstance(node.get("id"), int):
                nodes[int(node["id"])] = node
            for value in node.values():
                index(value)
        elif isinstance(node, list):
            for value in node:
                index(value)

    for source in build_info["output"]["sources"].values():
        index(source["ast"])
    target = next(
        n for n in nodes.values() if n.get("nodeType") == "ContractDefinition" and n.get("name") == contract
    )
    found: dict[str, str] = {}
    for base_id in target["linearizedBaseContracts"]:
        for member in nodes[base_id].get("nodes", []):
            doc = (member.get("documentation") or {}).get("text", "") if member.get("nodeType") == "StructDefinition" else ""
            if NAMESPACE_TAG in doc:
                namespace = doc.split(NAMESPACE_TAG, 1)[1].split()[0]
                found[namespace] = str(member["name"])
    return found


def _probe_layouts(project: Any, compiled: Any, contracts: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``{contract: {namespace: (struct storage layout, types)}}`` from solc, through one probe compile."""
    import solcx

    build_info = load_build_info(project.paths, compiled.build_info_id)
    plan: dict[str, dict[str, str]] = {c: _namespaced_structs(build_info, c) for c in contracts}
    lines = ["// SPDX-License-Identifier: MIT", "pragma solidity 0.8.28;"]
    for c in plan:
        lines.append(f'import {{{c}}} from "{compiled.artifacts[c].source_name}";')
    variables: dict[str, tuple[str, str]] = {}
    body = []
    for c, structs in plan.items():
        for namespace, struct in structs.items():
            var = f"v{len(variables)}"
            variables[var] = (c, namespace)
            body.append(f"    {c}.{struct} internal {var};")
    lines += ["contract StorageLayoutProbe {", *body, "}"]
    settings = json.loads(json.dumps(build_info["input"]["settings"]))
    settings["outputSelection"] = {"probe.sol": {"StorageLayoutProbe": ["storageLayout"]}}
    sources = {"probe.sol": {"content": "\n".join(lines)}}
    out = solcx.compile_standard(
        {"language": "Solidity", "sources": sources, "settings": settings},
        solc_binary=str(compiled.solc.path), base_path=str(project.paths.root), allow_paths=[str(project.paths.root)],
    )
    layout = out["contracts"]["probe.sol"]["StorageLayoutProbe"]["storageLayout"]
    types = layout["types"]
    result: dict[str, dict[str, Any]] = {c: {} for c in plan}
    for entry in layout["storage"]:
        c, namespace = variables[entry["label"]]
        result[c][namespace] = (types[entry["type"]]["members"], types)
    return result


def _member_table(members: list[Mapping[str, Any]], types: Mapping[str, Any]) -> list[tuple[str, int, int, str]]:
    return [(m["label"], int(m["slot"]), int(m["offset"]), types[m["type"]]["label"]) for m in members]


def layout_clashes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Every namespace of ``old`` must exist in ``new`` with each member at the same slot, offset and type."""
    problems = []
    for namespace, (members, types) in old.items():
        if namespace not in new:
            problems.append(f"{namespace}: missing")
            continue
        new_table = {m[0]: m for m in _member_table(*new[namespace])}
        for label, slot, offset, typ in _member_table(members, types):
            got = new_table.get(label)
            if got != (label, slot, offset, typ):
                problems.append(f"{namespace}.{label}: slot {slot} offset {offset} {typ} -> {got}")
    return problems


PROBE_CACHE_SCHEMA = 1


@pytest.fixture(scope="module")
def layouts(project: Any, compiled: Any) -> dict[str, dict[str, Any]]:
    """The probe's layouts, cached in build/ per build (solc-js takes seconds; the build id pins the sources)."""
    import os
    import tempfile

    names = ["PilotRupee", "PilotRupeeV2", "PilotRupeeBadLayout"]
    cache = project.paths.build / "test-cache" / f"storage-layouts-{compiled.build_info_id}.json"
    try:
        data = json.loads(cache.read_text())
        if data.get("schemaVersion") == PROBE_CACHE_SCHEMA and data.get("contracts") == names:
            return {c: {ns: tuple(v) for ns, v in per.items()} for c, per in data["layouts"].items()}
    except (OSError, ValueError):
        pass
    result = _probe_layouts(project, compiled, names)
    cache.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump({"schemaVersion": PROBE_CACHE_SCHEMA, "contracts": names, "layouts": result}, fh)
    os.replace(tmp, cache)
    return result


# ------------------------------------------------------------------------------ layout tests


def test_implementation_declares_no_unstructured_state(compiled: Any) -> None:
    for name in ("PilotRupee", "PilotRupeeV2"):
        assert compiled.artifacts[name].storage_layout.get("storage", []) == [], name


def test_every_namespace_of_v1_keeps_its_slots_in_v2(layouts: dict[str, dict[str, Any]]) -> None:
    v1, v2 = layouts["PilotRupee"], layouts["PilotRupeeV2"]
    assert set(v1) == {
        "pkrpilot.storage.PilotRupee", "openzeppelin.storage.AccessControl",
        "openzeppelin.storage.AccessControlDefaultAdminRules", "openzeppelin.storage.EIP712",
        "openzeppelin.storage.Nonces", "openzeppelin.storage.Initializable",
    }
    assert layout_clashes(v1, v2) == []
    assert set(v2) - set(v1) == {"pkrpilot.storage.PilotRupeeV2"}


def test_token_namespace_members_match_the_documented_layout(layouts: dict[str, dict[str, Any]]) -> None:
    members, types = layouts["PilotRupee"]["pkrpilot.storage.PilotRupee"]
    table = [(label, slot) for label, slot, _offset, _type in _member_table(members, types)]
    assert table[:10] == [
        ("global", 0), ("reserves", 1), ("reportHash", 2), ("attestedAt", 3), ("accounts", 4),
        ("allowances", 5), ("minters", 6), ("tierLimitWords", 7), ("outflows", 8), ("authorizationStates", 9),
    ]


def test_the_layout_check_catches_a_shifted_member(layouts: dict[str, dict[str, Any]]) -> None:
    """PilotRupeeBadLayout inserts a field before `accounts`: the comparison must say so."""
    problems = layout_clashes(layouts["PilotRupee"], layouts["PilotRupeeBadLayout"])
    assert any(p.startswith("pkrpilot.storage.PilotRupee.accounts: slot 4") for p in problems), problems


def test_the_deploy_tools_layout_agrees_with_the_compiler(layouts: dict[str, dict[str, Any]], compiled: Any,
                                                          project: Any) -> None:
    from pkr_pilot.deploy import extract_layout

    artifact = compiled.artifacts["PilotRupee"]
    build_info = load_build_info(project.paths, compiled.build_info_id)
    tool = extract_layout(artifact.storage_layout, build_info, artifact.source_name, "PilotRupee")
    for namespace, (members, types) in layouts["PilotRupee"].items():
        ours = [(label, slot, offset) for label, slot, offset, _t in _member_table(members, types)]
        theirs = [(e["label"], int(e["slot"]), int(e["offset"])) for e in tool["namespaces"][f"erc7201:{namespace}"]["storage"]]
        assert theirs == ours, namespace


# ------------------------------------------------------------------------- slot enumeration


def _encode_key(key_type: str, key: Any) -> bytes:
    if key_type == "t_address":
        return encode(["address"], [key])
    if key_type == "t_bytes32":
        return bytes(key)
    if key_type.startswith("t_uint"):
        return int(key).to_bytes(32, "big")
    raise AssertionError(f"no key encoding for {key_type}")


def enumerate_slots(type_id: str, base: int, types: Mapping[str, Any], keys: Mapping[str, list[Any]],
                    path: str) -> dict[str, int]:
    """Every storage slot (by path) of a value of ``type_id`` at ``base``, for the given mapping keys."""
    t = types[type_id]
    if t["encoding"] == "mapping":
        out: dict[str, int] = {}
        for key in keys.get(t["key"], []):
            slot = int.from_bytes(keccak(_encode_key(t["key"], key) + base.to_bytes(32, "big")), "big")
            label = key.hex() if isinstance(key, bytes) else str(key)
            out.update(enumerate_slots(t["value"], slot, types, keys, f"{path}[{label}]"))
        return out
    if "members" in t:
        out = {}
        for m in t["members"]:
            out.update(enumerate_slots(m["type"], base + int(m["slot"]), types, keys, f"{path}.{m['label']}"))
        return out
    if t["encoding"] == "bytes":  # short strings live in the slot itself; long ones also at keccak(slot)
        data = int.from_bytes(keccak(base.to_bytes(32, "big")), "big")
        return {path: base, f"{path}#data0": data, f"{path}#data1": data + 1}
    size = int(t["numberOfBytes"])
    return {f"{path}#{i}": base + i for i in range((size + 31) // 32)}


def all_slots(layout: Mapping[str, Any], keys: Mapping[str, list[Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for namespace, (members, types) in layout.items():
        root = erc7201_root(namespace)
        for m in members:
            out.update(enumerate_slots(m["type"], root + int(m["slot"]), types, keys, f"{namespace}.{m['label']}"))
    return out


def read_slots(stack: PilotStack, slots: Mapping[str, int]) -> dict[str, int]:
    """Raw words of ``slots`` in the token proxy (one JSON-RPC batch on a node: anvil, Ape's)."""
    w3, address = stack.w3, stack.token.address
    paths = list(slots)
    if stack.chain.tester is None:
        with w3.batch_requests() as batch:
            for path in paths:
                batch.add(w3.eth.get_storage_at(address, slots[path]))
            words = batch.execute()
        return {p: int.from_bytes(bytes(w), "big") for p, w in zip(paths, words, strict=True)}
    tester = stack.chain.tester  # in-process py-evm: ask eth-tester directly, no JSON-RPC layers
    assert tester is not None
    return {p: _as_int(tester.get_storage_at(address, hex(slots[p]))) for p in paths}


def _as_int(value: Any) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value, 16)
    return int.from_bytes(bytes(value), "big")


# --------------------------------------------------------------------------------- upgrades


def rich_state(stack: PilotStack) -> list[bytes]:
    """Put something in every kind of slot; returns the EIP-3009 nonces used."""
    a = stack.actors
    t = stack.token
    t.as_(a.freezer).freeze(a.dave, REF).send()
    t.as_(a.freezer).freezeAmount(a.carol, 1_234, REF).send()
    t.as_(a.alice).approve(a.spender, 777).send()
    stack.permit(a.bob, a.spender, 888).send()
    nonce = random_nonce()
    stack.authorization(a.alice, a.carol, 55, nonce=nonce).send()
    t.as_(a.minter_admin).configureMinter(a.stranger, 4_321, REF).send()
    t.as_(a.kyc).setTier(a.alice, 2, REF).send()
    t.as_(a.kyc).setTier(a.carol, 3, REF).send()
    t.as_(a.kyc).setTier(a.alice, 3, REF).send()
    t.as_(a.admin).setExempt(a.bob, True, REF).send()
    t.as_(a.admin).setTierLimits(4, 10**9, 10**7, REF).send()
    t.as_(a.admin).setLimitsMode(True, REF).send()
    t.as_(a.alice).transfer(a.carol, 66).send()  # writes alice's outflow word
    t.as_(a.attestor).attestReserves(10**14, stack.now(), ref("pre-upgrade report")).send()
    t.as_(a.admin).beginDefaultAdminTransfer(a.bob).send()
    t.as_(a.pauser).pause().send()
    return [nonce]


def views(stack: PilotStack) -> dict[str, bytes]:
    """Every view of the token for every actor, read in one eth_call of its multicall (raw answers)."""
    a = stack.actors
    t = stack.token
    names = [(n, ()) for n in (
        "name", "symbol", "decimals", "totalSupply", "paused", "supplyCap", "reserves", "maxAttestationAge",
        "limitsEnabled", "allowlistEnabled", "defaultAdmin", "pendingDefaultAdmin", "defaultAdminDelay",
        "DOMAIN_SEPARATOR",
    )]
    for who in a.by_name.values():
        names += [(v, (who,)) for v in (
            "balanceOf", "frozenBalanceOf", "isFrozen", "availableBalanceOf", "minterAllowance", "isMinter",
            "tierOf", "isExempt", "nonces", "outflowToday",
        )]
        names.append(("allowance", (who, a.spender)))
    calls = [t.encode(n, *args) for n, args in names]
    answers = t.as_(a.stranger).multicall(calls).call()
    return {f"{n}{tuple(getattr(x, 'name', x) for x in args)}": bytes(r) for (n, args), r in zip(names, answers, strict=True)}


@pytest.mark.both_backends
def test_upgrade_to_v2_keeps_every_slot_and_all_state(stack: PilotStack, layouts: dict[str, dict[str, Any]]) -> None:
    a = stack.actors
    nonces = rich_state(stack)
    role_ids = [role(r) for r in (
        "DEFAULT_ADMIN_ROLE", "MINTER_ADMIN_ROLE", "PAUSER_ROLE", "UNPAUSER_ROLE", "FREEZER_ROLE", "SEIZER_ROLE",
        "ATTESTOR_ROLE", "BURNER_ROLE", "RESCUER_ROLE", "UPGRADER_ROLE", "KYC_ROLE",
    )]
    people = ("admin", "minter", "stranger", "spender", "alice", "bob", "carol", "dave", "freezer", "upgrader")
    keys = {
        "t_address": [a[p].address for p in people] + [stack.token.address, ZERO_ADDRESS],
        "t_bytes32": role_ids + nonces,
        "t_uint8": list(range(8)),
    }
    v1_layout = dict(layouts["PilotRupee"])
    initializable = v1_layout.pop("openzeppelin.storage.Initializable")
    slots = all_slots(v1_layout, keys)
    assert all_slots(v1_layout, keys) == all_slots({k: layouts["PilotRupeeV2"][k] for k in v1_layout}, keys)
    before_raw = read_slots(stack, slots)
    assert sum(1 for v in before_raw.values() if v) >= 30, "the state should fill many slots"
    before_views = views(stack)

    v2 = stack.deploy("PilotRupeeV2")
    init = stack.client("PilotRupeeV2", stack.token.address).encode("initializeV2", 4242)
    receipt = stack.token.as_(a.upgrader).upgradeToAndCall(v2.address, init).send()
    receipt.expect_event("Upgraded", implementation=v2.address)

    assert read_slots(stack, slots) == before_raw
    token_v2 = stack.client("PilotRupeeV2", stack.token.address)
    assert token_v2.view("version") == 2
    assert token_v2.view("upgradeMarker") == 4242
    after_views = views(stack)
    assert after_views == before_views
    impl = stack.w3.eth.get_storage_at(stack.token.address, IMPLEMENTATION_SLOT)
    assert int.from_bytes(impl, "big") == int(v2.address, 16)
    init_slot = all_slots({"openzeppelin.storage.Initializable": initializable}, keys)
    (initialized_word,) = set(read_slots(stack, init_slot).values())  # _initialized and _initializing share it
    assert initialized_word & (2**64 - 1) == 2  # reinitializer(2) ran, nothing else in the word changed

    # The upgraded token still works with the state it kept.
    stack.token.as_(a.unpauser).unpause().send()
    stack.token.as_(a.spender).transferFrom(a.alice, a.carol, 700).send()
    assert stack.balance(a.alice) == HOLDER_FUNDING - 55 - 66 - 700
    expect_revert(stack.token.as_(a.dave).transfer(a.alice, 1), "FrozenAccount", account=a.dave)


@pytest.mark.both_backends
@pytest.mark.parametrize("who", ["admin", "stranger", "pauser", "minter"])
def test_upgrade_by_anyone_but_the_upgrader_reverts(stack: PilotStack, who: str) -> None:
    a = stack.actors
    v2 = stack.deploy("PilotRupeeV2")
    expect_revert(
        stack.token.as_(a[who]).upgradeToAndCall(v2.address, b""),
        "AccessControlUnauthorizedAccount", account=a[who], neededRole=role("UPGRADER_ROLE"),
    )
    assert stack.token.view("version") == 1


@pytest.mark.both_backends
def test_upgrade_to_a_non_uups_contract_reverts(stack: PilotStack) -> None:
    a = stack.actors
    not_uups = stack.deploy("MockERC20", "x", "x")
    expect_revert(
        stack.token.as_(a.upgrader).upgradeToAndCall(not_uups.address, b""),
        "ERC1967InvalidImplementation", implementation=not_uups.address,
    )


@pytest.mark.both_backends
def test_implementation_cannot_be_initialized(stack: PilotStack) -> None:
    a = stack.actors
    impl = stack.client("PilotRupee", stack.deployment.token.implementation or "")
    expect_revert(impl.as_(a.stranger).initialize("X", "X", 2, a.stranger, 0), "InvalidInitialization")
    v2 = stack.deploy("PilotRupeeV2")
    expect_revert(v2.as_(a.stranger).initialize("X", "X", 2, a.stranger, 0), "InvalidInitialization")
    expect_revert(v2.as_(a.stranger).initializeV2(1), "InvalidInitialization")


@pytest.mark.both_backends
def test_proxy_cannot_be_initialized_twice(stack: PilotStack) -> None:
    a = stack.actors
    expect_revert(stack.token.as_(a.stranger).initialize("X", "X", 2, a.stranger, 0), "InvalidInitialization")


@pytest.mark.both_backends
def test_v2_initializer_runs_once(stack: PilotStack) -> None:
    a = stack.actors
    v2 = stack.deploy("PilotRupeeV2")
    init = v2.encode("initializeV2", 1)
    stack.token.as_(a.upgrader).upgradeToAndCall(v2.address, init).send()
    token_v2 = stack.client("PilotRupeeV2", stack.token.address)
    expect_revert(token_v2.as_(a.upgrader).initializeV2(2), "InvalidInitialization")


@pytest.mark.both_backends
def test_upgrade_function_on_the_implementation_itself_is_refused(stack: PilotStack) -> None:
    a = stack.actors
    impl = stack.client("PilotRupee", stack.deployment.token.implementation or "")
    v2 = stack.deploy("PilotRupeeV2")
    expect_revert(impl.as_(a.upgrader).upgradeToAndCall(v2.address, b""), "UUPSUnauthorizedCallContext")
