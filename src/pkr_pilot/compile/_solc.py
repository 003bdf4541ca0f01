"""Finding the solc binary to use, and the seam through which solc is run.

Resolution order (the first that applies wins):

1. ``explicit``: :attr:`CompilerSettings.solc_path` (``--solc`` / ``PKR_PILOT_SOLC``);
2. ``native``: a ``solc-v<pinned>`` binary already installed for py-solc-x
   (never downloaded here);
3. ``node``: the pinned solc-js behind ``bin/solc`` (needs Node.js and
   ``node_modules/solc``).

A wrapper we installed into py-solc-x's folder ourselves
(:func:`install_solcx_shim`) is recognised by its marker line and reported as
``node``.

Choosing a candidate is cheap (a few stat calls and small reads); asking it for
``--version`` spawns a process (about 0.4 s for solc-js), so a
:class:`SolcResolver` remembers the answer per fingerprint for its own
lifetime, and callers may hand it answers remembered elsewhere (the build
manifest does) so a cache hit never starts Node.js.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, Protocol

from ..config import CompilerSettings, ProjectPaths
from ..errors import ToolchainError

__all__ = [
    "SHIM_MARKER",
    "SolcCandidate",
    "SolcIdentity",
    "SolcKind",
    "SolcResolver",
    "SolcRunner",
    "SolcxRunner",
    "parse_version_output",
    "solcx_install_folder",
]

SolcKind = Literal["explicit", "native", "node"]

#: First comment line of the wrapper :func:`install_solcx_shim` writes.
SHIM_MARKER = "# pkr-pilot-solc-shim"

_VERSION_RE = re.compile(r"Version:\s*(\d+\.\d+\.\d+)(\S*)")
_SETUP_HINT = "run `make setup` (or `npm ci`)"


@dataclass(frozen=True)
class SolcIdentity:
    """A solc binary whose ``--version`` answer has been checked."""

    path: Path
    #: ``0.8.28``
    version: str
    #: ``0.8.28+commit.7893614a.Emscripten.clang``
    long_version: str
    kind: SolcKind

    def to_json(self) -> dict[str, str]:
        return {
            "path": str(self.path),
            "version": self.version,
            "longVersion": self.long_version,
            "kind": self.kind,
        }


@dataclass(frozen=True)
class SolcCandidate:
    """The binary resolution picked, before asking it anything.

    ``fingerprint`` changes whenever the files that decide the compiler's
    identity change (path, size, mtime of the binary, and for the Node-backed
    solc of ``soljson.js`` too).
    """

    path: Path
    kind: SolcKind
    fingerprint: str


class SolcRunner(Protocol):
    """How solc is run; tests wrap the default one to count invocations."""

    def version(self, solc: Path) -> str:
        """The raw stdout of ``solc --version``."""
        ...

    def compile_standard(
        self,
        solc: Path,
        input_json: Mapping[str, Any],
        *,
        base_path: Path,
        allow_paths: Sequence[Path],
    ) -> dict[str, Any]:
        """The standard-JSON output, errors included (they are not raised)."""
        ...


class SolcxRunner:
    """The default runner: py-solc-x drives solc (imported on first use)."""

    def __init__(self, *, timeout: float = 600.0) -> None:
        self.timeout = timeout

    def version(self, solc: Path) -> str:
        import subprocess

        try:
            proc = subprocess.run(
                [str(solc), "--version"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except OSError as exc:
            raise ToolchainError(f"cannot run {solc}: {exc.strerror or exc}") from None
        except subprocess.TimeoutExpired:
            raise ToolchainError(f"{solc} --version did not answer within 60 s") from None
        if proc.returncode != 0:
            raise ToolchainError(
                f"{solc} --version failed: {_first_line(proc.stderr or proc.stdout)}",
                hint=_SETUP_HINT if "npm ci" in proc.stderr else None,
            )
        return proc.stdout

    def compile_standard(
        self,
        solc: Path,
        input_json: Mapping[str, Any],
        *,
        base_path: Path,
        allow_paths: Sequence[Path],
    ) -> dict[str, Any]:
        import solcx
        from solcx.exceptions import SolcError

        try:
            output: dict[str, Any] = solcx.compile_standard(
                dict(input_json),
                solc_binary=solc,
                base_path=base_path,
                allow_paths=[str(p) for p in allow_paths],
            )
        except SolcError as exc:
            if exc.error_dict is not None and exc.stdout_data:
                # solc ran and reported errors: hand the whole output back.
                full: dict[str, Any] = json.loads(exc.stdout_data)
                return full
            detail = _first_line(exc.stderr_data or exc.stdout_data or exc.message)
            raise ToolchainError(
                f"{solc} failed (exit {exc.return_code}): {detail}",
                hint=_SETUP_HINT if "npm ci" in (exc.stderr_data or "") else None,
            ) from None
        except OSError as exc:
            raise ToolchainError(f"cannot run {solc}: {exc.strerror or exc}") from None
        except json.JSONDecodeError:
            raise ToolchainError(
                f"{solc} printed something that is not standard-JSON output"
            ) from None
        return output


def parse_version_output(text: str) -> tuple[str, str]:
    """``(version, long_version)`` from ``solc --version`` output."""
    match = _VERSION_RE.search(text)
    if not match:
        raise ToolchainError(f"cannot read a solc version from {_first_line(text)!r}")
    version, rest = match.groups()
    return version, version + rest


def solcx_install_folder(env: Mapping[str, str] | None = None) -> Path:
    """py-solc-x's install folder (``$SOLCX_BINARY_PATH`` or ``~/.solcx``), not created."""
    env = os.environ if env is None else env
    custom = env.get("SOLCX_BINARY_PATH")
    return Path(custom) if custom else Path.home() / ".solcx"


class SolcResolver:
    """Picks and checks the solc binary for one :class:`CompilerSettings`.

    ``which`` finds executables on PATH (``shutil.which`` by default) and
    ``env`` supplies ``SOLCX_BINARY_PATH``; both are seams for tests.
    """

    def __init__(
        self,
        settings: CompilerSettings,
        paths: ProjectPaths,
        *,
        runner: SolcRunner | None = None,
        env: Mapping[str, str] | None = None,
        which: Callable[[str], str | None] = shutil.which,
    ) -> None:
        self.settings = settings
        self.paths = paths
        self.runner: SolcRunner = runner or SolcxRunner()
        self._env = os.environ if env is None else env
        self._which = which
        self._probed: dict[str, SolcIdentity] = {}

    # -- cheap part ---------------------------------------------------------
    def candidate(self) -> SolcCandidate:
        """The binary to use, by the resolution order; no process is started."""
        explicit = self.settings.solc_path
        if explicit is not None:
            if not explicit.is_file():
                raise ToolchainError(
                    f"solc not found at {explicit} (from --solc or PKR_PILOT_SOLC)",
                    hint=f"point it at a solc {self.settings.solc_version} binary, or unset it",
                )
            if not os.access(explicit, os.X_OK):
                raise ToolchainError(
                    f"solc at {explicit} is not executable", hint=f"chmod +x {explicit}"
                )
            return SolcCandidate(explicit, "explicit", self._fingerprint(explicit, "explicit"))

        installed = solcx_install_folder(self._env) / f"solc-v{self.settings.solc_version}"
        if installed.is_file():
            target = shim_target(installed)
            if target is None:
                return SolcCandidate(installed, "native", self._fingerprint(installed, "native"))
            if target.is_file():
                return SolcCandidate(installed, "node", self._fingerprint(installed, "node"))
            # A stale wrapper of ours (checkout moved): fall through to bin/solc.

        return self._node_candidate()

    def _node_candidate(self) -> SolcCandidate:
        root = self.paths.root
        wrapper = root / "bin" / "solc"
        entry = root / "tools" / "solc" / "solc.cjs"
        if not wrapper.is_file() or not entry.is_file():
            raise ToolchainError(
                f"the Node-backed solc ({wrapper.relative_to(root)}, "
                f"{entry.relative_to(root)}) is missing from {root}",
                hint="restore them from git, or pass --solc PATH",
            )
        if self._which("node") is None:
            raise ToolchainError(
                "Node.js (`node`) is not on PATH and no native solc "
                f"{self.settings.solc_version} is installed for py-solc-x",
                hint="install Node.js 20 then run `make setup` (or `npm ci`), or pass --solc PATH",
            )
        if not (self.paths.node_modules / "solc" / "soljson.js").is_file():
            raise ToolchainError(
                f"solc-js is not installed in {self.paths.node_modules}", hint=_SETUP_HINT
            )
        return SolcCandidate(wrapper, "node", self._fingerprint(wrapper, "node"))

    def _fingerprint(self, binary: Path, kind: SolcKind) -> str:
        """Changes whenever the compiler behind ``binary`` may have changed.

        A native binary is known by its path, size and mtime. The Node-backed
        solc is known by content (the wrapper, ``solc.cjs``, solc-js's
        ``package.json``) and ``soljson.js``'s size and mtime, wherever the
        checkout lives.
        """
        h = hashlib.sha256(f"{kind}\n".encode())
        target = shim_target(binary)
        if target is None and binary.name == "solc":
            sibling = binary.parent.parent / "tools" / "solc" / "solc.cjs"
            if sibling.is_file():
                target = sibling
        if target is None:
            h.update(_stat_line(binary, binary.resolve()))
            return h.hexdigest()
        solcjs = target.parent.parent.parent / "node_modules" / "solc"
        for part in (binary, target, solcjs / "package.json"):
            try:
                h.update(hashlib.sha256(part.read_bytes()).digest())
            except OSError:
                h.update(f"{part.name} missing\n".encode())
        # npm gives packaged files one fixed mtime: size and package.json tell versions apart.
        h.update(_stat_line(solcjs / "soljson.js", Path("soljson.js")))
        return h.hexdigest()

    # -- expensive part -----------------------------------------------------
    def identify(
        self,
        candidate: SolcCandidate,
        known: Mapping[str, SolcIdentity] | None = None,
    ) -> SolcIdentity:
        """Check ``candidate`` answers with the pinned version.

        ``known`` maps fingerprints to identities checked earlier (for example
        in a previous process); a match skips the ``--version`` probe.
        """
        remembered = self._probed.get(candidate.fingerprint)
        if remembered is None and known:
            remembered = known.get(candidate.fingerprint)
        if (
            remembered is not None
            and remembered.kind == candidate.kind
            and remembered.version == self.settings.solc_version
        ):
            identity = replace(remembered, path=candidate.path)
            self._probed[candidate.fingerprint] = identity
            return identity
        version, long_version = parse_version_output(self.runner.version(candidate.path))
        if version != self.settings.solc_version:
            where = {
                "explicit": "--solc / PKR_PILOT_SOLC",
                "native": "py-solc-x's install folder",
                "node": "node_modules (solc-js)",
            }[candidate.kind]
            raise ToolchainError(
                f"{candidate.path} is solc {long_version}, but pkr-pilot.toml pins "
                f"{self.settings.solc_version}",
                hint=f"use a solc {self.settings.solc_version} binary for {where}"
                + (" or run `make setup` (or `npm ci`)" if candidate.kind == "node" else ""),
            )
        identity = SolcIdentity(candidate.path, version, long_version, candidate.kind)
        self._probed[candidate.fingerprint] = identity
        return identity

    def resolve(self) -> SolcIdentity:
        """:meth:`candidate` then :meth:`identify`."""
        return self.identify(self.candidate())


def _stat_line(path: Path, label: Path) -> bytes:
    try:
        st = path.stat()
    except OSError:
        return f"{label}|missing\n".encode()
    return f"{label}|{st.st_size}|{st.st_mtime_ns}\n".encode()


def shim_target(path: Path) -> Path | None:
    """The ``solc.cjs`` a wrapper of ours runs, or None when ``path`` is not one."""
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError:
        return None
    if SHIM_MARKER.encode() not in head:
        return None
    for line in head.decode("utf-8", "replace").splitlines():
        if line.startswith(SHIM_MARKER) and "target=" in line:
            return Path(line.split("target=", 1)[1].strip())
    return None


def _first_line(text: str | None) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return "(no output)"
