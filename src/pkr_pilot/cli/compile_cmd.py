"""``pkr-pilot compile``: contracts/ -> build/ (parsing and rendering only)."""

from __future__ import annotations

import json
import shlex
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import CompileError

if TYPE_CHECKING:
    from ..compile import CompileResult, ShimResult
    from ..config import Project

__all__ = ["compile_command"]

#: Version of the ``--json`` document.
JSON_SCHEMA_VERSION = 1


@click.command("compile")
@click.option(
    "--solc",
    "solc_path",
    metavar="PATH",
    help="Use this solc binary (overrides the global --solc and PKR_PILOT_SOLC).",
)
@click.option("--force", is_flag=True, help="Compile even if nothing changed.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option(
    "--install-for-solcx",
    is_flag=True,
    help="Install the Node-backed solc for py-solc-x and Ape in $SOLCX_BINARY_PATH, or "
    "else in the project's .pkr-pilot/solcx (never ~/.solcx; never replacing a native "
    "solc), then exit. Point Ape at it with SOLCX_BINARY_PATH.",
)
@click.pass_context
def compile_command(
    ctx: click.Context, solc_path: str | None, force: bool, as_json: bool, install_for_solcx: bool
) -> None:
    """Compile contracts/ into build/: artifacts plus Hardhat build-info.

    Nothing runs when no source, setting or compiler changed. Errors are
    printed as file:line:col and the exit status is non-zero.
    """
    from ..compile import compile_project, install_solcx_shim

    project = _project(ctx, solc_path)
    if install_for_solcx:
        _render_shim(install_solcx_shim(project), as_json)
        return
    try:
        result = compile_project(project, force=force)
    except CompileError as exc:
        for line in exc.diagnostics:
            click.echo(line, err=True)
        raise
    _render(result, project, as_json)


def _project(ctx: click.Context, solc_path: str | None) -> Project:
    obj = ctx.obj
    if obj is not None and hasattr(obj, "project"):
        project: Project = obj.project()
        if solc_path is None:
            return project
        return replace(project, compiler=replace(project.compiler, solc_path=_abs(solc_path)))
    from ..config import load_project

    return load_project(solc=solc_path)


def _abs(path: str) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else (Path.cwd() / p).resolve()


def _render(result: CompileResult, project: Project, as_json: bool) -> None:
    build = project.paths.build
    root = project.paths.root
    if as_json:
        doc: dict[str, Any] = {
            "schemaVersion": JSON_SCHEMA_VERSION,
            "cached": result.cached,
            "reason": result.reason,
            "seconds": round(result.seconds, 3),
            "solc": result.solc.to_json(),
            "buildInfoId": result.build_info_id,
            "buildInfo": str(result.build_info),
            "sources": list(result.sources),
            "contracts": {fqn: str(result.artifacts.path(fqn)) for fqn in result.artifacts},
            "warnings": list(result.warnings),
        }
        click.echo(json.dumps(doc, indent=2))
        return
    where = _rel(build, root)
    if result.cached:
        click.echo(
            f"Nothing to compile: {where}/ is up to date "
            f"({len(result.artifacts)} contracts, {result.seconds:.2f} s)"
        )
        return
    for warning in result.warnings:
        click.echo(warning, err=True)
    solc = result.solc
    click.echo(
        f"Compiled {len(result.artifacts)} contracts from {len(result.sources)} sources "
        f"with solc {solc.long_version} ({solc.kind}: {_rel(solc.path, root)}) "
        f"in {result.seconds:.2f} s -> {where}/ ({result.reason})"
    )
    if result.warnings:
        click.echo(f"{len(result.warnings)} warning(s), shown above", err=True)


def _render_shim(result: ShimResult, as_json: bool) -> None:
    if as_json:
        doc = {
            "schemaVersion": JSON_SCHEMA_VERSION,
            "path": str(result.path),
            "status": result.status,
            "longVersion": result.long_version,
        }
        click.echo(json.dumps(doc, indent=2))
        return
    if result.status == "native-present":
        click.echo(f"A native solc is already installed at {result.path}; left it alone.")
    else:
        click.echo(f"{result.status}: {result.path} -> solc {result.long_version} (Node.js)")
        click.echo(f"For Ape: export SOLCX_BINARY_PATH={shlex.quote(str(result.path.parent))}")


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
