"""``compile_project``: contracts/ -> build/, skipped when nothing changed."""

from __future__ import annotations

import fcntl
import hashlib
import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from .._files import atomic_write_bytes
from ..config import Project
from ..errors import CompileError, ToolchainError
from ._artifacts import (
    Artifact,
    Artifacts,
    Manifest,
    file_sha256,
    read_build_info_file,
    read_manifest,
    write_manifest,
)
from ._imports import close_sources
from ._input import (
    REMAPPINGS,
    SourceFile,
    build_input,
    compiler_settings_json,
    format_diagnostic,
    scan_sources,
    source_reader,
)
from ._solc import SolcCandidate, SolcIdentity, SolcKind, SolcResolver, SolcRunner

__all__ = ["BUILD_INFO_FORMAT", "BUILD_SCHEMA_VERSION", "CompileResult", "compile_project"]

#: Bump when the builder's output changes shape; part of the cache key.
BUILD_SCHEMA_VERSION = 1
BUILD_INFO_FORMAT = "hh-sol-build-info-1"


@dataclass(frozen=True)
class CompileResult:
    """What :func:`compile_project` did and where the results are."""

    artifacts: Artifacts
    build_info: Path
    build_info_id: str
    #: True when nothing changed and solc did not run.
    cached: bool
    #: Why solc ran (``"no previous build"``, ``"contracts/X.sol changed"`` …) or ``"up to date"``.
    reason: str
    #: solc warnings as ``file:line:col: warning: Type: message``.
    warnings: tuple[str, ...]
    solc: SolcIdentity
    #: Every source unit solc read, project and imported.
    sources: tuple[str, ...]
    seconds: float
    #: Build-info files read through :meth:`read_build_info`, by id.
    _read: dict[str, Mapping[str, Any]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def read_build_info(self, build_info_id: str) -> Mapping[str, Any]:
        """A build-info file of this build (``build/build-info/<id>.json``, 7.8 MB of JSON for the
        pilot's contracts), read once for this result: the deploys and upgrades made with one compile
        result share it. Read-only."""
        data = self._read.get(build_info_id)
        if data is None:
            data = self._read[build_info_id] = read_build_info_file(self.build_info.parent / f"{build_info_id}.json")
        return data


def compile_project(
    project: Project,
    *,
    force: bool = False,
    runner: SolcRunner | None = None,
    resolver: SolcResolver | None = None,
) -> CompileResult:
    """Compile ``contracts/**/*.sol`` into ``build/``; a no-op when nothing changed.

    The cache key covers the bytes of every source solc read (imports from
    ``node_modules`` included), the compiler settings, solc's long version and
    :data:`BUILD_SCHEMA_VERSION`. On a hit no process is started: solc's
    identity is recognised by the size and mtime of its files.

    ``runner`` (or a whole ``resolver``) replaces how solc is run, for tests.

    Raises :class:`~pkr_pilot.errors.CompileError` with ``file:line:col``
    diagnostics when solc reports errors, and
    :class:`~pkr_pilot.errors.ToolchainError` when no usable solc is found.

    >>> result = compile_project(load_project())          # doctest: +SKIP
    >>> result.artifacts["PilotRupee"].abi                # doctest: +SKIP
    """
    started = time.perf_counter()
    paths = project.paths
    if resolver is None:
        resolver = SolcResolver(project.compiler, paths, runner=runner)
    sources = scan_sources(paths)
    if not sources:
        raise CompileError(
            [
                f"{paths.contracts.relative_to(paths.root)}/: error: no Solidity sources (*.sol) found"
            ]
        )
    settings = compiler_settings_json(project.compiler)

    with _locked(paths.build):
        previous = read_manifest(paths.build)
        candidate = resolver.candidate()
        known = _known_identities(previous)
        reason = "forced" if force else "no previous build"
        if previous is not None and not force:
            hit = _cache_hit(project, resolver, candidate, known, previous, sources, settings)
            if isinstance(hit, CompileResult):
                return _timed(hit, started)
            reason = hit
        identity = resolver.identify(candidate, known)
        result = _compile(project, resolver, candidate, identity, sources, previous, reason)
        return _timed(result, started)


def _cache_hit(
    project: Project,
    resolver: SolcResolver,
    candidate: SolcCandidate,
    known: Mapping[str, SolcIdentity],
    previous: Manifest,
    sources: list[SourceFile],
    settings: Mapping[str, Any],
) -> CompileResult | str:
    """The cached result, or the reason why it cannot be used."""
    root = project.paths.root
    hashes: dict[str, str | None] = {s.unit: s.sha256 for s in sources}
    project_units = set(hashes)
    changed = sorted(project_units ^ set(previous.project_sources))
    changed += [
        u for u in previous.project_sources if u in hashes and hashes[u] != previous.sources.get(u)
    ]
    for unit in previous.dependencies:
        if unit not in hashes:
            hashes[unit] = file_sha256(root / unit)
            if hashes[unit] != previous.sources[unit]:
                changed.append(unit)
    if changed:
        more = f" (+{len(changed) - 1} more)" if len(changed) > 1 else ""
        return f"{changed[0]} changed{more}"

    identity = resolver.identify(candidate, known)
    key = _cache_key(identity, settings, {u: h for u, h in hashes.items() if h is not None})
    if key != previous.cache_key:
        return "compiler or settings changed"
    build = project.paths.build
    if not (build / previous.build_info).is_file() or not all(
        (build / rel).is_file() for rel in previous.artifacts.values()
    ):
        return "build/ files missing"
    if previous.solc.get("fingerprint") != candidate.fingerprint:
        # Same compiler, different files on disk (e.g. npm reinstalled it): remember the new look.
        write_manifest(build, _replace_solc(previous, identity, candidate))
    return CompileResult(
        artifacts=Artifacts(build, previous.artifacts, build_info_id=previous.build_info_id),
        build_info=build / previous.build_info,
        build_info_id=previous.build_info_id,
        cached=True,
        reason="up to date",
        warnings=previous.warnings,
        solc=identity,
        sources=tuple(previous.sources),
        seconds=0.0,
    )


def _compile(
    project: Project,
    resolver: SolcResolver,
    candidate: SolcCandidate,
    identity: SolcIdentity,
    sources: list[SourceFile],
    previous: Manifest | None,
    reason: str,
) -> CompileResult:
    paths = project.paths
    root = paths.root
    allow = [root, paths.node_modules]
    if paths.node_modules.is_symlink():
        allow.append(paths.node_modules.resolve())
    # Every imported file goes into the input with its content, so the stored
    # build-info reproduces this output exactly (what verifiers need). Should
    # solc still read a file we did not foresee, compile again with it included.
    closed = close_sources(root, sources, REMAPPINGS)
    for _attempt in range(3):
        input_json = build_input(closed, project.compiler)
        output = resolver.runner.compile_standard(
            identity.path, input_json, base_path=root, allow_paths=allow
        )
        read = source_reader(root, {s.unit: s.content for s in closed})
        problems = [e for e in output.get("errors", []) if isinstance(e, Mapping)]
        errors = [format_diagnostic(e, read) for e in problems if e.get("severity") == "error"]
        if errors:
            raise CompileError(errors)
        if not isinstance(output.get("sources"), Mapping) or not output["sources"]:
            raise ToolchainError(f"{identity.path} returned no sources in its standard-JSON output")
        unforeseen = sorted(set(output["sources"]) - {s.unit for s in closed})
        if not unforeseen:
            break
        closed = sorted(
            [*closed, *(_read_source(root, u) for u in unforeseen)], key=lambda s: s.unit
        )
    else:
        raise ToolchainError("solc kept reading files outside the compiler input")
    warnings = tuple(format_diagnostic(e, read) for e in problems if e.get("severity") != "error")
    hashes = {s.unit: s.sha256 for s in closed}
    key = _cache_key(identity, input_json["settings"], hashes)
    build_info_id = _build_info_id(identity, input_json)
    build = paths.build
    build_info_rel = f"build-info/{build_info_id}.json"
    build_info = {
        "id": build_info_id,
        "_format": BUILD_INFO_FORMAT,
        "solcVersion": identity.version,
        "solcLongVersion": identity.long_version,
        "input": input_json,
        "output": output,
    }
    atomic_write_bytes(build / build_info_rel, json.dumps(build_info, separators=(",", ":")).encode())

    artifacts = _artifacts(output, build_info_id)
    files = _artifact_files(artifacts)
    for fqn, rel in files.items():
        atomic_write_bytes(build / rel, (json.dumps(artifacts[fqn].to_json(), indent=2) + "\n").encode())
    _remove_stale(build, previous, keep=set(files.values()), build_info_rel=build_info_rel)

    manifest = Manifest(
        cache_key=key,
        sources=hashes,
        project_sources=tuple(s.unit for s in sources),
        solc={**identity.to_json(), "fingerprint": candidate.fingerprint},
        build_info_id=build_info_id,
        artifacts=files,
        warnings=warnings,
    )
    write_manifest(build, manifest)
    return CompileResult(
        artifacts=Artifacts(build, files, artifacts, build_info_id=build_info_id),
        build_info=build / build_info_rel,
        build_info_id=build_info_id,
        cached=False,
        reason=reason,
        warnings=warnings,
        solc=identity,
        sources=tuple(hashes),
        seconds=0.0,
    )


def _read_source(root: Path, unit: str) -> SourceFile:
    try:
        return SourceFile(unit, (root / unit).read_bytes())
    except OSError as exc:
        raise ToolchainError(
            f"solc read {unit} but it cannot be read back: {exc.strerror}"
        ) from None


def _artifacts(output: Mapping[str, Any], build_info_id: str) -> dict[str, Artifact]:
    out: dict[str, Artifact] = {}
    for unit in sorted(output.get("contracts", {})):
        for name, data in sorted(output["contracts"][unit].items()):
            out[f"{unit}:{name}"] = Artifact.from_solc(unit, name, data, build_info_id)
    return out


def _artifact_files(artifacts: Mapping[str, Artifact]) -> dict[str, str]:
    """``contracts/<Name>.json``, or ``contracts/<source>/<Name>.json`` for shared names."""
    count: dict[str, int] = {}
    for artifact in artifacts.values():
        count[artifact.name] = count.get(artifact.name, 0) + 1
    files: dict[str, str] = {}
    for fqn, artifact in artifacts.items():
        if count[artifact.name] == 1:
            files[fqn] = f"contracts/{artifact.name}.json"
        else:
            files[fqn] = f"contracts/{artifact.source_name}/{artifact.name}.json"
    return files


def _remove_stale(
    build: Path, previous: Manifest | None, *, keep: set[str], build_info_rel: str
) -> None:
    """Delete artifacts the new build no longer has, and every other build-info.

    Analysers (crytic-compile) read every file in build-info/, so only the
    current one may stay.
    """
    if previous is not None:
        for rel in previous.artifacts.values():
            if rel not in keep:
                (build / rel).unlink(missing_ok=True)
    current = (build / build_info_rel).name
    for stale in (build / "build-info").glob("*.json"):
        if stale.name != current:
            stale.unlink(missing_ok=True)


def _cache_key(
    identity: SolcIdentity, settings: Mapping[str, Any], hashes: Mapping[str, str]
) -> str:
    material = {
        "schema": BUILD_SCHEMA_VERSION,
        "solc": identity.long_version,
        "settings": settings,
        "sources": sorted(hashes.items()),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def _build_info_id(identity: SolcIdentity, closed_input: Mapping[str, Any]) -> str:
    """Like Hardhat: a hash of the format, solc long version and input (32 hex digits)."""
    material = {
        "_format": BUILD_INFO_FORMAT,
        "solcVersion": identity.version,
        "solcLongVersion": identity.long_version,
        "input": closed_input,
    }
    return hashlib.sha256(json.dumps(material, separators=(",", ":")).encode()).hexdigest()[:32]


def _known_identities(manifest: Manifest | None) -> dict[str, SolcIdentity]:
    if manifest is None:
        return {}
    solc = manifest.solc
    try:
        kind = solc["kind"]
        if kind not in ("explicit", "native", "node"):
            return {}
        identity = SolcIdentity(
            Path(solc["path"]), solc["version"], solc["longVersion"], cast(SolcKind, kind)
        )
        return {solc["fingerprint"]: identity}
    except KeyError:
        return {}


def _replace_solc(manifest: Manifest, identity: SolcIdentity, candidate: SolcCandidate) -> Manifest:
    from dataclasses import replace

    return replace(manifest, solc={**identity.to_json(), "fingerprint": candidate.fingerprint})


def _timed(result: CompileResult, started: float) -> CompileResult:
    from dataclasses import replace

    return replace(result, seconds=time.perf_counter() - started)


@contextmanager
def _locked(build: Path) -> Iterator[None]:
    """One compile at a time per build/ (other processes wait)."""
    build.mkdir(parents=True, exist_ok=True)
    with (build / ".lock").open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
