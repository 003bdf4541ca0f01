"""Which pkr-pilot checkout the plugin deploys, and the toolkit's compiler for a project's own contracts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from ..compile import Artifacts, compile_project
from ..config import CONFIG_FILE, Project, load_project
from ..errors import ConfigError

__all__ = ["compile_contracts", "toolkit_project"]


def toolkit_project(root: str | Path | None = None, env: Mapping[str, str] | None = None) -> Project:
    """The pkr-pilot project whose contracts the plugin deploys.

    ``root`` (the ``pkrp_root`` ini value), else ``$PKR_PILOT_ROOT``, else the checkout this
    package is installed from (an editable install: ``pip install -e /path/to/pkr-pilot``).
    """
    env = os.environ if env is None else env
    chosen = root or env.get("PKR_PILOT_ROOT")
    if chosen:
        return load_project(Path(chosen).expanduser().resolve())
    source = Path(__file__).resolve().parents[3]
    if (source / CONFIG_FILE).is_file() and (source / "contracts").is_dir():
        return load_project(source)
    raise ConfigError(
        "pkr-pilot's contracts were not found next to the installed package",
        hint="set pkrp_root in your pytest config, or PKR_PILOT_ROOT, to a pkr-pilot checkout",
    )


def compile_contracts(root: str | Path, *, toolkit: Project | None = None) -> Artifacts:
    """Compile the project at ``root`` (its ``pkr-pilot.toml`` and ``contracts/``) with the toolkit's
    compiler: the same pinned solc (the checkout's Node-backed ``bin/solc`` unless
    ``$PKR_PILOT_SOLC`` names another), cached in ``root/build``."""
    own_env = {k: v for k, v in os.environ.items() if k != "PKR_PILOT_ROOT"}  # root, not the toolkit
    project = load_project(Path(root).resolve(), env=own_env)
    if project.compiler.solc_path is None:
        kit = toolkit or toolkit_project()
        solc = kit.paths.root / "bin" / "solc"
        project = replace(project, compiler=replace(project.compiler, solc_path=solc))
    return compile_project(project).artifacts
