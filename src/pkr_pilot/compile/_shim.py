"""Install the Node-backed solc where py-solc-x (and so ape-solidity) looks for compilers."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .._files import atomic_write_bytes
from ..config import Project
from ..errors import ToolchainError
from ._solc import (
    SHIM_MARKER,
    SolcRunner,
    SolcxRunner,
    parse_version_output,
    shim_target,
    solcx_install_folder,
)

__all__ = ["ShimResult", "install_solcx_shim"]


@dataclass(frozen=True)
class ShimResult:
    path: Path
    #: ``installed`` (new), ``updated`` (our wrapper rewritten), ``unchanged``,
    #: or ``native-present`` (a real solc of that version is there; left alone).
    status: Literal["installed", "updated", "unchanged", "native-present"]
    long_version: str | None


def install_solcx_shim(
    project: Project,
    *,
    folder: Path | None = None,
    env: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
    runner: SolcRunner | None = None,
) -> ShimResult:
    """Write ``solc-v<pinned>`` into py-solc-x's folder, running ``tools/solc/solc.cjs``.

    ``folder`` defaults to ``$SOLCX_BINARY_PATH`` or, when that is unset, the
    project-local ``.pkr-pilot/solcx`` (never the user-wide ``~/.solcx``: a
    wrapper there would point every py-solc-x project at this checkout). Ape
    finds it with ``SOLCX_BINARY_PATH=<root>/.pkr-pilot/solcx``. A real
    (native) binary already there is never replaced. The wrapper runs the
    absolute paths of ``node`` and of this checkout's ``solc.cjs``, carries
    :data:`SHIM_MARKER` so the resolver reports it as ``node``, and is checked
    by asking it ``--version`` (it is removed again if the answer is wrong).
    """
    version = project.compiler.solc_version
    if folder is not None:
        target_dir = folder
    else:
        target_dir = (
            solcx_install_folder(env)
            if (os.environ if env is None else env).get("SOLCX_BINARY_PATH")
            else project.paths.solcx
        )
    path = target_dir / f"solc-v{version}"
    entry = (project.paths.root / "tools" / "solc" / "solc.cjs").resolve()
    if not entry.is_file():
        raise ToolchainError(f"{entry} is missing", hint="restore tools/solc/solc.cjs from git")
    if path.exists() and shim_target(path) is None:
        return ShimResult(path, "native-present", None)
    node = which("node")
    if node is None:
        raise ToolchainError(
            "Node.js (`node`) is not on PATH", hint="install Node.js 20, then run `make setup`"
        )
    if not (project.paths.node_modules / "solc" / "soljson.js").is_file():
        raise ToolchainError(
            f"solc-js is not installed in {project.paths.node_modules}",
            hint="run `make setup` (or `npm ci`)",
        )
    node_path = Path(node).resolve()
    text = (
        "#!/bin/sh\n"
        f"{SHIM_MARKER} (solc {version} = solc-js via Node.js; written by pkr-pilot) target={entry}\n"
        "# Re-create with `pkr-pilot compile --install-for-solcx`; delete to uninstall.\n"
        f'exec {_sh_quote(str(node_path))} {_sh_quote(str(entry))} "$@"\n'
    ).encode()
    previous = path.read_bytes() if path.exists() else None
    if previous == text:
        status: Literal["installed", "updated", "unchanged"] = "unchanged"
    else:
        status = "installed" if previous is None else "updated"
        atomic_write_bytes(path, text, mode=0o755)
    try:
        found, long_version = parse_version_output((runner or SolcxRunner()).version(path))
    except ToolchainError:
        if previous is None:
            path.unlink(missing_ok=True)
        raise
    if found != version:
        if previous is None:
            path.unlink(missing_ok=True)
        raise ToolchainError(
            f"the wrapper answers solc {long_version}, but pkr-pilot.toml pins {version}",
            hint="run `make setup` (or `npm ci`) so node_modules holds the pinned solc",
        )
    return ShimResult(path, status, long_version)


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"
