"""Storage-layout compatibility for upgrades, ERC-7201 namespaces included.

solc's ``storageLayout`` lists only plain state variables. Upgradeable contracts
(ours and OpenZeppelin 5's) keep their state in ERC-7201 namespaced structs
(``/// @custom:storage-location erc7201:<id>``), which solc does not lay out. So
:func:`extract_layout` also reads the struct definitions of the contract and its
bases from the AST in the build-info and lays out their members with Solidity's
packing rules (value types packed into 32-byte slots in declaration order;
structs, arrays, mappings, ``bytes`` and ``string`` start a new slot and the next
member starts after them). The result is kept in the implementation's deployment
record and compared with the new build by :func:`check_compatible`:

* every old variable (plain, or a member of a namespace) must still sit at the
  same slot and byte offset, with the same name and a compatible type (same
  label and size; mappings compare key and value; structs compare their members;
  arrays their base and length);
* new variables and namespace members may be appended after the old ones;
* a namespace may not disappear.

An incompatible layout raises :class:`~pkr_pilot.errors.StorageLayoutError`
naming the namespace, slot, offset and label of the first clash (and how many
more there are).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak

from ..errors import StorageLayoutError

__all__ = [
    "LayoutClash",
    "check_compatible",
    "erc7201_slot",
    "extract_layout",
    "layout_clashes",
]

_ANNOTATION = "@custom:storage-location"


def erc7201_slot(namespace_id: str) -> int:
    """ERC-7201 root: ``keccak256(abi.encode(uint256(keccak256(id)) - 1)) & ~0xff``."""
    inner = int.from_bytes(keccak(text=namespace_id), "big") - 1
    return int.from_bytes(keccak(inner.to_bytes(32, "big")), "big") & ~0xFF


# ---------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------


def extract_layout(
    storage_layout: Mapping[str, Any],
    build_info: Mapping[str, Any] | None,
    source_name: str,
    contract_name: str,
) -> dict[str, Any]:
    """solc's layout plus ``namespaces``: ``{"erc7201:<id>": {"storage": [...], "types": {...}}}``."""
    out: dict[str, Any] = {
        "storage": list(storage_layout.get("storage", [])),
        "types": dict(storage_layout.get("types") or {}),
        "namespaces": {},
    }
    if build_info is None:
        return out
    sources = (build_info.get("output") or {}).get("sources") or {}
    nodes: dict[int, Mapping[str, Any]] = {}
    for src in sources.values():
        ast = src.get("ast")
        if isinstance(ast, Mapping):
            _index(ast, nodes)
    contract = _find_contract(sources.get(source_name, {}).get("ast"), contract_name)
    if contract is None:
        return out
    namespaces: dict[str, Any] = {}
    for base_id in reversed(contract.get("linearizedBaseContracts", [])):
        base = nodes.get(base_id)
        if base is None:
            continue
        for node in base.get("nodes", []):
            if node.get("nodeType") != "StructDefinition":
                continue
            ns = _namespace_of(node)
            if ns is None:
                continue
            types: dict[str, Any] = {}
            storage, _slots = _lay_out(node.get("members", []), nodes, types, str(node.get("canonicalName", "")))
            namespaces[ns] = {"struct": node.get("canonicalName"), "storage": storage, "types": types}
    out["namespaces"] = namespaces
    return out


def _index(source_unit: Mapping[str, Any], nodes: dict[int, Mapping[str, Any]]) -> None:
    """The declarations a layout refers to, by AST id: contracts (the bases), structs, enums and
    user-defined value types. Solidity declares them at file level or inside a contract, so the
    source unit's nodes and its contracts' members are all there is to index (walking every
    expression of every source instead took a third of a second per deploy)."""
    for node in source_unit.get("nodes", []):
        if not isinstance(node, Mapping) or not isinstance(node.get("id"), int):
            continue
        nodes[node["id"]] = node
        if node.get("nodeType") == "ContractDefinition":
            for member in node.get("nodes", []):
                if isinstance(member, Mapping) and isinstance(member.get("id"), int):
                    nodes[member["id"]] = member


def _find_contract(ast: Any, name: str) -> Mapping[str, Any] | None:
    if not isinstance(ast, Mapping):
        return None
    for node in ast.get("nodes", []):
        if node.get("nodeType") == "ContractDefinition" and node.get("name") == name:
            return node  # type: ignore[no-any-return]
    return None


def _namespace_of(struct: Mapping[str, Any]) -> str | None:
    doc = struct.get("documentation")
    text = doc.get("text", "") if isinstance(doc, Mapping) else (doc or "")
    for line in str(text).splitlines():
        line = line.strip().lstrip("/*").strip()
        if line.startswith(_ANNOTATION):
            value = line[len(_ANNOTATION):].strip()
            if value:
                return value.split()[0]
    return None


@dataclass(frozen=True)
class _TypeInfo:
    type_id: str
    label: str
    #: Bytes for value types; 32 * slots for the others.
    size: int
    value_type: bool


def _type_of(type_name: Mapping[str, Any], nodes: Mapping[int, Mapping[str, Any]], types: dict[str, Any]) -> _TypeInfo:
    """Describe an AST TypeName and register it (solc's ``types`` format) in ``types``."""
    kind = type_name.get("nodeType")
    desc = type_name.get("typeDescriptions") or {}
    label = _clean_label(str(desc.get("typeString", "?")))
    type_id = str(desc.get("typeIdentifier", label))
    if kind == "ElementaryTypeName":
        name = str(type_name.get("name", label))
        if name in ("string", "bytes"):
            types[type_id] = {"encoding": "bytes", "label": name, "numberOfBytes": "32"}
            return _TypeInfo(type_id, name, 32, False)
        size = _elementary_size(name)
        types[type_id] = {"encoding": "inplace", "label": name, "numberOfBytes": str(size)}
        return _TypeInfo(type_id, name, size, True)
    if kind == "Mapping":
        key = _type_of(type_name["keyType"], nodes, types)
        value = _type_of(type_name["valueType"], nodes, types)
        types[type_id] = {"encoding": "mapping", "label": label, "numberOfBytes": "32", "key": key.type_id, "value": value.type_id}
        return _TypeInfo(type_id, label, 32, False)
    if kind == "ArrayTypeName":
        base = _type_of(type_name["baseType"], nodes, types)
        length_node = type_name.get("length")
        if length_node is None:
            types[type_id] = {"encoding": "dynamic_array", "label": label, "numberOfBytes": "32", "base": base.type_id}
            return _TypeInfo(type_id, label, 32, False)
        length = _array_length(length_node, label)
        if base.value_type:
            per_slot = 32 // base.size
            slots = -(-length // per_slot)
        else:
            slots = length * (base.size // 32)
        types[type_id] = {"encoding": "inplace", "label": label, "numberOfBytes": str(32 * slots), "base": base.type_id, "length": length}
        return _TypeInfo(type_id, label, 32 * slots, False)
    if kind in ("UserDefinedTypeName", "IdentifierPath") or "referencedDeclaration" in type_name:
        ref = nodes.get(int(type_name.get("referencedDeclaration", -1)))
        ref_kind = ref.get("nodeType") if ref else None
        if ref is not None and ref_kind == "StructDefinition":
            members: dict[str, Any] = {}
            storage, slots = _lay_out(ref.get("members", []), nodes, types, str(ref.get("canonicalName", "")))
            members_list = storage
            types[type_id] = {"encoding": "inplace", "label": label, "numberOfBytes": str(32 * slots), "members": members_list}
            del members
            return _TypeInfo(type_id, label, 32 * slots, False)
        if ref is not None and ref_kind == "EnumDefinition":
            types[type_id] = {"encoding": "inplace", "label": label, "numberOfBytes": "1"}
            return _TypeInfo(type_id, label, 1, True)
        if ref is not None and ref_kind == "UserDefinedValueTypeDefinition":
            under = _type_of(ref["underlyingType"], nodes, types)
            types[type_id] = {"encoding": "inplace", "label": label, "numberOfBytes": str(under.size)}
            return _TypeInfo(type_id, label, under.size, True)
        # contracts and interfaces are addresses
        types[type_id] = {"encoding": "inplace", "label": label, "numberOfBytes": "20"}
        return _TypeInfo(type_id, label, 20, True)
    if kind == "FunctionTypeName":
        size = 24 if type_name.get("visibility") == "external" else 8
        types[type_id] = {"encoding": "inplace", "label": label, "numberOfBytes": str(size)}
        return _TypeInfo(type_id, label, size, True)
    raise StorageLayoutError(f"cannot lay out type {label!r} ({kind}) of a namespaced struct")


def _lay_out(
    members: Sequence[Mapping[str, Any]], nodes: Mapping[int, Mapping[str, Any]], types: dict[str, Any], owner: str
) -> tuple[list[dict[str, Any]], int]:
    """Solidity's packing of struct members: entries like solc's ``storage`` and the slot count."""
    storage: list[dict[str, Any]] = []
    slot, offset = 0, 0
    for member in members:
        info = _type_of(member["typeName"], nodes, types)
        if info.value_type:
            if offset + info.size > 32:
                slot, offset = slot + 1, 0
            storage.append(_entry(member, owner, slot, offset, info))
            offset += info.size
        else:
            if offset > 0:
                slot, offset = slot + 1, 0
            storage.append(_entry(member, owner, slot, 0, info))
            slot += max(1, info.size // 32)
    if offset > 0:
        slot += 1
    return storage, max(slot, 1)


def _entry(member: Mapping[str, Any], owner: str, slot: int, offset: int, info: _TypeInfo) -> dict[str, Any]:
    return {"label": member.get("name", "?"), "contract": owner, "slot": str(slot), "offset": offset, "type": info.type_id}


def _elementary_size(name: str) -> int:
    if name in ("address", "address payable"):
        return 20
    if name == "bool":
        return 1
    for prefix in ("uint", "int"):
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            return int(name[len(prefix):]) // 8
        if name == prefix:
            return 32
    if name.startswith("bytes") and name[5:].isdigit():
        return int(name[5:])
    if name == "byte":
        return 1
    raise StorageLayoutError(f"unknown elementary type {name!r} in a namespaced struct")


def _array_length(node: Mapping[str, Any], label: str) -> int:
    value = node.get("value")
    if isinstance(value, str) and value.isdigit():
        return int(value)
    # fall back to the type string: "uint256[3] storage ref"
    inside = label.rsplit("[", 1)[-1].split("]", 1)[0]
    if inside.isdigit():
        return int(inside)
    raise StorageLayoutError(f"cannot read the length of array type {label!r}")


def _clean_label(type_string: str) -> str:
    for suffix in (" storage ref", " storage pointer", " memory", " calldata"):
        type_string = type_string.replace(suffix, "")
    return type_string


# ---------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LayoutClash:
    """One incompatibility: where, and what was there before and now."""

    where: str  # "state variables" or "namespace erc7201:..."
    slot: str
    offset: int
    label: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where} slot {self.slot} offset {self.offset} `{self.label}`: {self.problem}"


def layout_clashes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[LayoutClash]:
    """Every incompatibility of ``new`` with ``old`` (both from :func:`extract_layout`)."""
    clashes = _compare_vars(
        "state variables", old.get("storage", []), old.get("types") or {}, new.get("storage", []), new.get("types") or {}, base_slot=0
    )
    old_ns = old.get("namespaces") or {}
    new_ns = new.get("namespaces") or {}
    for ns_id, old_layout in old_ns.items():
        root = erc7201_slot(ns_id.split(":", 1)[1]) if ns_id.startswith("erc7201:") else None
        if ns_id not in new_ns:
            clashes.append(LayoutClash(f"namespace {ns_id}", hex(root) if root is not None else "?", 0, str(old_layout.get("struct")), "namespace removed"))
            continue
        new_layout = new_ns[ns_id]
        clashes += _compare_vars(
            f"namespace {ns_id}", old_layout.get("storage", []), old_layout.get("types") or {},
            new_layout.get("storage", []), new_layout.get("types") or {}, base_slot=root,
        )
    return clashes


def check_compatible(old: Mapping[str, Any], new: Mapping[str, Any], *, contract: str = "the new implementation") -> None:
    """Raise :class:`StorageLayoutError` naming the first clash, if any."""
    clashes = layout_clashes(old, new)
    if clashes:
        more = f" (+{len(clashes) - 1} more)" if len(clashes) > 1 else ""
        raise StorageLayoutError(
            f"storage layout of {contract} is incompatible with the deployed one: {clashes[0]}{more}",
            hint="keep existing variables in place and append new ones at the end of their namespace",
        )


def _compare_vars(
    where: str,
    old_vars: Sequence[Mapping[str, Any]],
    old_types: Mapping[str, Any],
    new_vars: Sequence[Mapping[str, Any]],
    new_types: Mapping[str, Any],
    *,
    base_slot: int | None,
) -> list[LayoutClash]:
    clashes: list[LayoutClash] = []
    new_at = {(str(v["slot"]), int(v["offset"])): v for v in new_vars}

    def slot_text(rel: str) -> str:
        if not base_slot:
            return rel
        return f"{hex(base_slot + int(rel))} (+{rel})"

    old_end = _end_position(old_vars, old_types)
    for var in old_vars:
        key = (str(var["slot"]), int(var["offset"]))
        label = str(var["label"])
        other = new_at.get(key)
        if other is None:
            moved = next((v for v in new_vars if v["label"] == label), None)
            problem = (
                f"moved to slot {moved['slot']} offset {moved['offset']}" if moved is not None else "removed or shifted"
            )
            clashes.append(LayoutClash(where, slot_text(key[0]), key[1], label, problem))
            continue
        if other["label"] != label:
            clashes.append(LayoutClash(where, slot_text(key[0]), key[1], label, f"now holds `{other['label']}`"))
            continue
        type_problem = _type_problem(str(var["type"]), old_types, str(other["type"]), new_types)
        if type_problem:
            clashes.append(LayoutClash(where, slot_text(key[0]), key[1], label, type_problem))
    # New variables must come after the old ones, not in holes between them.
    for var in new_vars:
        key = (str(var["slot"]), int(var["offset"]))
        if any((str(v["slot"]), int(v["offset"])) == key for v in old_vars):
            continue
        if (int(key[0]), key[1]) < old_end:
            clashes.append(
                LayoutClash(where, slot_text(key[0]), key[1], str(var["label"]), "inserted among existing variables")
            )
    return clashes


def _end_position(vars_: Sequence[Mapping[str, Any]], types: Mapping[str, Any]) -> tuple[int, int]:
    end = (0, 0)
    for var in vars_:
        size = int((types.get(str(var["type"])) or {}).get("numberOfBytes", 32))
        slot, offset = int(var["slot"]), int(var["offset"])
        if size >= 32:
            pos = (slot + size // 32, 0)
        else:
            pos = (slot, offset + size)
        end = max(end, pos)
    return end


def _type_problem(old_id: str, old_types: Mapping[str, Any], new_id: str, new_types: Mapping[str, Any]) -> str | None:
    old = old_types.get(old_id) or {"label": old_id}
    new = new_types.get(new_id) or {"label": new_id}
    old_label, new_label = str(old.get("label")), str(new.get("label"))
    if old.get("encoding") != new.get("encoding"):
        return f"type changed from {old_label} to {new_label}"
    if "members" in old:
        if "members" not in new:
            return f"type changed from {old_label} to {new_label}"
        inner = _compare_vars(old_label, old["members"], old_types, new["members"], new_types, base_slot=None)
        if inner:
            return f"struct member {inner[0].label} (slot {inner[0].slot} offset {inner[0].offset}): {inner[0].problem}"
        if int(new.get("numberOfBytes", 0)) != int(old.get("numberOfBytes", 0)):
            # Growing an in-place struct shifts whatever follows it; a clash there is reported too.
            return None
        return None
    if old.get("encoding") == "mapping":
        key_problem = _type_problem(str(old["key"]), old_types, str(new["key"]), new_types)
        if key_problem:
            return f"mapping key: {key_problem}"
        value_problem = _type_problem(str(old["value"]), old_types, str(new["value"]), new_types)
        return f"mapping value: {value_problem}" if value_problem else None
    if "base" in old:
        if old.get("length") != new.get("length"):
            return f"array length changed from {old_label} to {new_label}"
        base_problem = _type_problem(str(old["base"]), old_types, str(new.get("base")), new_types)
        return f"array element: {base_problem}" if base_problem else None
    if old_label != new_label or old.get("numberOfBytes") != new.get("numberOfBytes"):
        return f"type changed from {old_label} to {new_label}"
    return None

