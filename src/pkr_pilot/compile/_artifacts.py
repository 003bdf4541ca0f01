"""What ``build/`` holds and how it is read back.

::

    build/
    ├── .manifest.json              what the last compile saw (cache key, sources, solc)
    ├── build-info/<id>.json        Hardhat build-info: full standard-JSON input and output
    └── contracts/<Name>.json       one artifact per contract
        contracts/<source>/<Name>.json   the same, when two sources define the same name

Every file carries a format tag and is replaced atomically.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._files import atomic_write_bytes
from ..config import ProjectPaths
from ..errors import ConfigError, ToolchainError

__all__ = [
    "ARTIFACT_FORMAT",
    "MANIFEST_FORMAT",
    "Artifact",
    "Artifacts",
    "Manifest",
    "load_artifacts",
    "load_build_info",
    "read_manifest",
]

#: Hardhat's artifact format id: the Hardhat fields (``contractName`` … ``deployedLinkReferences``)
#: are as Hardhat writes them; the extra fields (layout, metadata, build-info id) are ignored by
#: Hardhat-aware tools.
ARTIFACT_FORMAT = "hh-sol-artifact-1"
#: -2: artifacts are tagged ``hh-sol-artifact-1`` (a build of manifest -1 is rebuilt).
MANIFEST_FORMAT = "pkr-pilot-build-manifest-2"
MANIFEST_NAME = ".manifest.json"
_COMPILE_HINT = "run `pkr-pilot compile`"


@dataclass(frozen=True)
class Artifact:
    """One compiled contract.

    ``bytecode`` and ``deployed_bytecode`` are bytes; they raise when the
    contract still has unlinked library placeholders (``needs_linking``).
    In ``deployed_bytecode`` the immutables are zero; use
    :meth:`matches_deployed` to compare with code read from a chain.
    """

    name: str
    source_name: str
    abi: list[dict[str, Any]]
    bytecode_hex: str
    deployed_bytecode_hex: str
    link_references: dict[str, Any]
    deployed_link_references: dict[str, Any]
    immutable_references: dict[str, list[dict[str, int]]]
    method_identifiers: dict[str, str]
    storage_layout: dict[str, Any]
    #: solc's metadata JSON, as the exact string whose hash ends the bytecode.
    metadata: str
    build_info_id: str

    @property
    def qualified_name(self) -> str:
        """``contracts/PilotRupee.sol:PilotRupee``"""
        return f"{self.source_name}:{self.name}"

    @property
    def needs_linking(self) -> bool:
        return bool(self.link_references or self.deployed_link_references)

    @property
    def bytecode(self) -> bytes:
        """Creation code (without constructor arguments)."""
        return self._bytes(self.bytecode_hex, self.link_references)

    @property
    def deployed_bytecode(self) -> bytes:
        """Runtime code with zeros where immutables go."""
        return self._bytes(self.deployed_bytecode_hex, self.deployed_link_references)

    @property
    def is_deployable(self) -> bool:
        """False for interfaces and abstract contracts (empty creation code)."""
        return len(self.bytecode_hex) > 2

    def selector(self, signature: str) -> bytes:
        """The 4-byte selector of ``transfer(address,uint256)``, from solc's table."""
        try:
            return bytes.fromhex(self.method_identifiers[signature])
        except KeyError:
            known = ", ".join(sorted(self.method_identifiers)) or "none"
            raise ConfigError(
                f"{self.name} has no function {signature}", hint=f"known: {known}"
            ) from None

    def matches_deployed(self, code: bytes) -> bool:
        """True when ``code`` (from ``eth_getCode``) is this contract's runtime code.

        The immutable slots, which the constructor fills, are masked before
        comparing; everything else, the metadata hash included, must be equal.
        """
        expected = self.deployed_bytecode
        if len(code) != len(expected):
            return False
        masked = bytearray(code)
        for refs in self.immutable_references.values():
            for ref in refs:
                start, length = int(ref["start"]), int(ref["length"])
                masked[start : start + length] = bytes(length)
        return bytes(masked) == expected

    def _bytes(self, hex_text: str, links: Mapping[str, Any]) -> bytes:
        if links:
            libs = sorted(f"{src}:{lib}" for src, by in links.items() for lib in by)
            raise ToolchainError(
                f"{self.name} needs library addresses linked in first: {', '.join(libs)}"
            )
        return bytes.fromhex(hex_text.removeprefix("0x"))

    # -- JSON ---------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "_format": ARTIFACT_FORMAT,
            "contractName": self.name,
            "sourceName": self.source_name,
            "abi": self.abi,
            "bytecode": self.bytecode_hex,
            "deployedBytecode": self.deployed_bytecode_hex,
            "linkReferences": self.link_references,
            "deployedLinkReferences": self.deployed_link_references,
            "immutableReferences": self.immutable_references,
            "methodIdentifiers": self.method_identifiers,
            "storageLayout": self.storage_layout,
            "metadata": self.metadata,
            "buildInfoId": self.build_info_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, where: str = "artifact") -> Artifact:
        if data.get("_format") != ARTIFACT_FORMAT:
            raise ToolchainError(
                f"{where} has format {data.get('_format')!r}, expected {ARTIFACT_FORMAT}",
                hint=_COMPILE_HINT,
            )
        try:
            return cls(
                name=data["contractName"],
                source_name=data["sourceName"],
                abi=list(data["abi"]),
                bytecode_hex=data["bytecode"],
                deployed_bytecode_hex=data["deployedBytecode"],
                link_references=dict(data["linkReferences"]),
                deployed_link_references=dict(data["deployedLinkReferences"]),
                immutable_references=dict(data["immutableReferences"]),
                method_identifiers=dict(data["methodIdentifiers"]),
                storage_layout=dict(data["storageLayout"]),
                metadata=data["metadata"],
                build_info_id=data["buildInfoId"],
            )
        except (KeyError, TypeError) as exc:
            raise ToolchainError(f"{where} is incomplete ({exc})", hint=_COMPILE_HINT) from None

    @classmethod
    def from_solc(
        cls, source_name: str, name: str, out: Mapping[str, Any], build_info_id: str
    ) -> Artifact:
        """From one ``output["contracts"][source][name]`` entry."""
        evm = out.get("evm", {})
        code = evm.get("bytecode", {})
        runtime = evm.get("deployedBytecode", {})
        return cls(
            name=name,
            source_name=source_name,
            abi=list(out.get("abi", [])),
            bytecode_hex="0x" + code.get("object", ""),
            deployed_bytecode_hex="0x" + runtime.get("object", ""),
            link_references=dict(code.get("linkReferences", {})),
            deployed_link_references=dict(runtime.get("linkReferences", {})),
            immutable_references=dict(runtime.get("immutableReferences", {})),
            method_identifiers=dict(evm.get("methodIdentifiers", {})),
            storage_layout=dict(out.get("storageLayout", {})),
            metadata=str(out.get("metadata", "")),
            build_info_id=build_info_id,
        )


class Artifacts:
    """Artifacts by contract name, read from ``build/`` on first use.

    ``artifacts["PilotRupee"]`` works while the name is unique;
    ``artifacts["contracts/a/X.sol:X"]`` always works. An unknown or ambiguous
    name raises :class:`~pkr_pilot.errors.ConfigError` naming the candidates.
    Iterating yields the fully qualified names. Files are read on first use;
    if ``build/`` was rebuilt in between, reading raises instead of mixing builds.
    """

    def __init__(
        self,
        build_dir: Path,
        files: Mapping[str, str],
        preloaded: Mapping[str, Artifact] | None = None,
        *,
        build_info_id: str | None = None,
    ) -> None:
        self._build_dir = build_dir
        self.build_info_id = build_info_id
        self._files = dict(sorted(files.items()))
        self._loaded: dict[str, Artifact] = dict(preloaded or {})
        self._by_name: dict[str, list[str]] = {}
        for fqn in self._files:
            self._by_name.setdefault(fqn.rsplit(":", 1)[1], []).append(fqn)

    def qualified_name(self, key: str) -> str:
        """The ``source:Name`` that ``key`` (a plain or qualified name) refers to."""
        if key in self._files:
            return key
        matches = self._by_name.get(key)
        if not matches:
            raise ConfigError(
                f"no compiled contract named {key!r} in {self._build_dir}",
                hint="check the name, or run `pkr-pilot compile` after adding it",
            )
        if len(matches) > 1:
            raise ConfigError(
                f"contract name {key!r} is ambiguous", hint=f"use one of: {', '.join(matches)}"
            )
        return matches[0]

    def __getitem__(self, key: str) -> Artifact:
        fqn = self.qualified_name(key)
        artifact = self._loaded.get(fqn)
        if artifact is None:
            path = self._build_dir / self._files[fqn]
            try:
                data = json.loads(path.read_bytes())
            except FileNotFoundError:
                raise ToolchainError(f"{path} is missing", hint=_COMPILE_HINT) from None
            except json.JSONDecodeError:
                raise ToolchainError(f"{path} is not valid JSON", hint=_COMPILE_HINT) from None
            artifact = Artifact.from_json(data, where=str(path))
            if self.build_info_id is not None and artifact.build_info_id != self.build_info_id:
                raise ToolchainError(
                    f"{path} belongs to build {artifact.build_info_id}, "
                    f"not {self.build_info_id}: build/ was rebuilt since these artifacts were listed",
                    hint="use the artifacts of the latest compile_project() or load_artifacts()",
                )
            self._loaded[fqn] = artifact
        return artifact

    def get(self, key: str) -> Artifact | None:
        """The artifact, or None when no contract has that name (ambiguity still raises)."""
        if key not in self._files and key not in self._by_name:
            return None
        return self[key]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (key in self._files or key in self._by_name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def names(self) -> list[str]:
        """Plain contract names, sorted (a name shared by two sources appears once)."""
        return sorted(self._by_name)

    def path(self, key: str) -> Path:
        """The artifact file of ``key``."""
        return self._build_dir / self._files[self.qualified_name(key)]

    def __repr__(self) -> str:
        return f"Artifacts({len(self)} contracts in {self._build_dir})"


@dataclass(frozen=True)
class Manifest:
    """What the last successful compile saw; written last, read first."""

    cache_key: str
    #: every source unit solc read (project and imported) -> sha256 of its bytes
    sources: Mapping[str, str]
    #: the subset of ``sources`` that came from ``contracts/``
    project_sources: tuple[str, ...]
    solc: Mapping[str, str]
    build_info_id: str
    #: fully qualified name -> artifact path relative to build/
    artifacts: Mapping[str, str]
    warnings: tuple[str, ...] = field(default=())

    @property
    def dependencies(self) -> list[str]:
        project = set(self.project_sources)
        return [unit for unit in self.sources if unit not in project]

    @property
    def build_info(self) -> str:
        return f"build-info/{self.build_info_id}.json"

    def to_json(self) -> dict[str, Any]:
        return {
            "_format": MANIFEST_FORMAT,
            "cacheKey": self.cache_key,
            "solc": dict(self.solc),
            "buildInfoId": self.build_info_id,
            "buildInfo": self.build_info,
            "projectSources": list(self.project_sources),
            "sources": dict(self.sources),
            "artifacts": dict(self.artifacts),
            "warnings": list(self.warnings),
        }


def read_manifest(build_dir: Path) -> Manifest | None:
    """The manifest, or None when absent, unreadable or of another format."""
    try:
        data = json.loads((build_dir / MANIFEST_NAME).read_bytes())
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("_format") != MANIFEST_FORMAT:
        return None
    try:
        return Manifest(
            cache_key=str(data["cacheKey"]),
            sources={str(k): str(v) for k, v in data["sources"].items()},
            project_sources=tuple(str(u) for u in data["projectSources"]),
            solc={str(k): str(v) for k, v in data["solc"].items()},
            build_info_id=str(data["buildInfoId"]),
            artifacts={str(k): str(v) for k, v in data["artifacts"].items()},
            warnings=tuple(str(w) for w in data.get("warnings", [])),
        )
    except (KeyError, TypeError, AttributeError):
        return None


def write_manifest(build_dir: Path, manifest: Manifest) -> None:
    atomic_write_bytes(build_dir / MANIFEST_NAME, _dumps(manifest.to_json(), indent=1))


def changed_sources(root: Path, manifest: Manifest, project_units: Mapping[str, str]) -> list[str]:
    """Source units whose content differs from what ``manifest`` recorded.

    ``project_units`` is the current ``contracts/`` scan (unit -> sha256);
    files added or removed count as changed.
    """
    changed = sorted(set(project_units) ^ set(manifest.project_sources))
    for unit in manifest.project_sources:
        if unit in project_units and project_units[unit] != manifest.sources.get(unit):
            changed.append(unit)
    for unit in manifest.dependencies:
        if file_sha256(root / unit) != manifest.sources[unit]:
            changed.append(unit)
    return changed


def file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def load_artifacts(paths: ProjectPaths, *, check_fresh: bool = True) -> Artifacts:
    """The artifacts of the last compile, without running solc.

    Raises :class:`~pkr_pilot.errors.ToolchainError` ("run `pkr-pilot
    compile`") when ``build/`` holds none, or, with ``check_fresh``, when a
    source file changed since (compiler settings are not checked here; call
    :func:`~pkr_pilot.compile.compile_project` for the full cache check).
    """
    from ._input import scan_sources

    manifest = read_manifest(paths.build)
    if manifest is None:
        raise ToolchainError(f"no compiled contracts in {paths.build}", hint=_COMPILE_HINT)
    if check_fresh:
        current = {s.unit: s.sha256 for s in scan_sources(paths)}
        changed = changed_sources(paths.root, manifest, current)
        if changed:
            more = f" (+{len(changed) - 1} more)" if len(changed) > 1 else ""
            raise ToolchainError(
                f"{paths.build} is stale: {changed[0]} changed since the last compile{more}",
                hint=_COMPILE_HINT,
            )
    return Artifacts(paths.build, manifest.artifacts, build_info_id=manifest.build_info_id)


def load_build_info(paths: ProjectPaths, build_info_id: str) -> dict[str, Any]:
    """A Hardhat build-info file (full standard-JSON input and output)."""
    return read_build_info_file(paths.build / "build-info" / f"{build_info_id}.json")


def read_build_info_file(path: Path) -> dict[str, Any]:
    """The build-info file at ``path`` (see :func:`load_build_info`)."""
    try:
        data: dict[str, Any] = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise ToolchainError(f"{path} is missing", hint=_COMPILE_HINT) from None
    except json.JSONDecodeError:
        raise ToolchainError(f"{path} is not valid JSON", hint=_COMPILE_HINT) from None
    return data


def _dumps(data: Any, *, indent: int | None = None) -> bytes:
    if indent is None:
        return json.dumps(data, separators=(",", ":")).encode()
    return (json.dumps(data, indent=indent) + "\n").encode()
