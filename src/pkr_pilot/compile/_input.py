"""Standard-JSON input from ``contracts/``, and solc diagnostics as ``file:line:col``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import CompilerSettings, ProjectPaths
from ..errors import CompileError

__all__ = [
    "OUTPUT_SELECTION",
    "REMAPPINGS",
    "SourceFile",
    "build_input",
    "compiler_settings_json",
    "format_diagnostic",
    "keccak_hex",
    "line_col",
    "scan_sources",
    "source_reader",
]

REMAPPINGS: tuple[str, ...] = ("@openzeppelin/=node_modules/@openzeppelin/",)

#: What we ask solc for, per contract; ``""`` is per source file.
OUTPUT_SELECTION: dict[str, dict[str, list[str]]] = {
    "*": {
        "*": [
            "abi",
            "evm.bytecode.object",
            "evm.bytecode.linkReferences",
            "evm.bytecode.sourceMap",
            "evm.deployedBytecode.object",
            "evm.deployedBytecode.immutableReferences",
            "evm.deployedBytecode.linkReferences",
            "evm.deployedBytecode.sourceMap",
            "evm.methodIdentifiers",
            "storageLayout",
            "metadata",
            "userdoc",
            "devdoc",
        ],
        "": ["ast"],
    }
}


@dataclass(frozen=True)
class SourceFile:
    """One Solidity file: its source unit name (``contracts/X.sol``) and bytes."""

    unit: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def scan_sources(paths: ProjectPaths) -> list[SourceFile]:
    """Every ``contracts/**/*.sol``, sorted by source unit name."""
    root = paths.root
    if not paths.contracts.is_dir():
        return []
    # Hidden folders are tools' scratch space (e.g. `ape compile` copies OpenZeppelin into
    # contracts/.cache/ while it runs): never part of the project's sources.
    files = [
        p
        for p in paths.contracts.rglob("*.sol")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(paths.contracts).parts)
    ]
    units = sorted((p.relative_to(root).as_posix(), p) for p in files)
    return [SourceFile(unit, p.read_bytes()) for unit, p in units]


def compiler_settings_json(settings: CompilerSettings) -> dict[str, Any]:
    """The ``settings`` object of the standard-JSON input (EVM version explicit)."""
    return {
        "remappings": list(REMAPPINGS),
        "optimizer": {"enabled": settings.optimizer, "runs": settings.optimizer_runs},
        "evmVersion": settings.evm_version,
        "viaIR": settings.via_ir,
        "metadata": {"bytecodeHash": "ipfs"},
        "outputSelection": OUTPUT_SELECTION,
    }


def keccak_hex(data: bytes) -> str:
    from eth_hash.auto import keccak

    return "0x" + keccak(data).hex()


def build_input(sources: Iterable[SourceFile], settings: CompilerSettings) -> dict[str, Any]:
    """Standard-JSON input with every source's content embedded (keys sorted)."""
    return {
        "language": "Solidity",
        "sources": {
            s.unit: {"content": _text(s), "keccak256": keccak_hex(s.content)}
            for s in sorted(sources, key=lambda s: s.unit)
        },
        "settings": compiler_settings_json(settings),
    }


def _text(source: SourceFile) -> str:
    try:
        return source.content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CompileError(
            [f"{source.unit}: error: not valid UTF-8 (byte {exc.start}); save the file as UTF-8"]
        ) from None


def format_diagnostic(error: Mapping[str, Any], read_source: Callable[[str], bytes | None]) -> str:
    """``path:line:col: severity: Type: message`` for one entry of solc's ``errors``.

    solc gives byte offsets; lines and columns (1-based, columns in characters)
    are computed from the file's content, read through ``read_source``.
    """
    severity = str(error.get("severity", "error")).lower()
    kind = str(error.get("type", "Error"))
    message = (
        str(error.get("message", "")).strip() or str(error.get("formattedMessage", "")).strip()
    )
    same = kind.lower() == severity
    label = f"{severity}: {message}" if same else f"{severity}: {kind}: {message}"
    location = error.get("sourceLocation")
    if not isinstance(location, Mapping) or not location.get("file"):
        return f"<solc>: {label}"
    unit = str(location["file"])
    start = location.get("start", -1)
    content = read_source(unit)
    if content is None or not isinstance(start, int) or start < 0:
        return f"{unit}: {label}"
    line, col = line_col(content, start)
    return f"{unit}:{line}:{col}: {label}"


def line_col(content: bytes, offset: int) -> tuple[int, int]:
    """1-based line and character column of a byte ``offset`` in ``content``."""
    offset = min(offset, len(content))
    line_start = content.rfind(b"\n", 0, offset) + 1
    line = content.count(b"\n", 0, offset) + 1
    col = len(content[line_start:offset].decode("utf-8", "replace")) + 1
    return line, col


def source_reader(root: Path, embedded: Mapping[str, bytes]) -> Callable[[str], bytes | None]:
    """Read a source unit: from ``embedded`` if present, else from disk below ``root``."""

    def read(unit: str) -> bytes | None:
        if unit in embedded:
            return embedded[unit]
        try:
            return (root / unit).read_bytes()
        except OSError:
            return None

    return read
