"""Compile ``contracts/`` with solc into ``build/`` (artifacts + Hardhat build-info).

Knows nothing about chains. Importing this package is cheap: py-solc-x and
the hashing libraries are imported only when solc actually runs.

::

    from pkr_pilot.config import load_project
    from pkr_pilot.compile import compile_project

    result = compile_project(load_project())       # cached: no solc run if nothing changed
    token = result.artifacts["PilotRupee"]         # Artifact: abi, bytecode, storage_layout ...

Public API:

- :func:`compile_project` -> :class:`CompileResult`
- :func:`load_artifacts` -> :class:`Artifacts` (read build/ without compiling)
- :class:`Artifact`, :class:`Artifacts`, :func:`load_build_info`
- :class:`SolcResolver`, :class:`SolcIdentity`, :class:`SolcRunner` (seam), :class:`SolcxRunner`
- :func:`install_solcx_shim` (lets py-solc-x / ape-solidity find the Node-backed solc)
"""

from __future__ import annotations

from ._artifacts import Artifact, Artifacts, load_artifacts, load_build_info
from ._build import BUILD_INFO_FORMAT, BUILD_SCHEMA_VERSION, CompileResult, compile_project
from ._shim import ShimResult, install_solcx_shim
from ._solc import SHIM_MARKER, SolcCandidate, SolcIdentity, SolcResolver, SolcRunner, SolcxRunner

__all__ = [
    "BUILD_INFO_FORMAT",
    "BUILD_SCHEMA_VERSION",
    "SHIM_MARKER",
    "Artifact",
    "Artifacts",
    "CompileResult",
    "ShimResult",
    "SolcCandidate",
    "SolcIdentity",
    "SolcResolver",
    "SolcRunner",
    "SolcxRunner",
    "compile_project",
    "install_solcx_shim",
    "load_artifacts",
    "load_build_info",
]
