"""The import layers of docs/architecture.md hold: a package imports only its own layer and the ones below.

Every import counts, also the ones inside functions (a lazy import is still a dependency). The
invariants the layers encode: the library never imports the CLI; compile never imports chain;
chain never imports the token layer (contracts, tx, journal, evidence and everything above).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

#: Layer of each top-level module or package of pkr_pilot (docs/architecture.md, "Layers").
LAYERS: dict[str, int] = {
    # 0 foundation: no chain, no token
    "errors": 0, "human": 0, "amounts": 0, "config": 0, "_files": 0, "sending": 0, "_eip1559": 0, "progress": 0,
    # 1 building blocks
    "decode": 1, "transport": 1, "compile": 1, "accounts": 1, "journal": 1,
    # 2 the chain, and the token layer's base
    "chain": 2, "contracts": 2, "tx": 2, "evidence": 2,
    # 3 engines and workflows
    "bulk": 3, "ops": 3, "disburse": 3, "deploy": 3, "reports": 3, "ape_bridge": 3,
    # 4 whole runs
    "sim": 4, "bench": 4, "testing": 4,
    # 5 the command line
    "cli": 5, "__main__": 5,
}
#: Same-layer imports that would break an invariant.
FORBIDDEN = {("chain", "contracts"), ("chain", "tx"), ("chain", "evidence"), ("compile", "accounts")}


def _module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, src: Path = SRC) -> set[str]:
    """Every pkr_pilot module ``path`` imports, absolute (relative imports resolved)."""
    name = _module_name(path, src)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                if node.module:
                    out.add(".".join([*base, node.module]))
                else:
                    out.update(".".join([*base, alias.name]) for alias in node.names)
            elif node.module and node.module.split(".")[0] == "pkr_pilot":
                out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "pkr_pilot")
    return out


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "pkr_pilot"


def _edges() -> set[tuple[str, str]]:
    edges: set[tuple[str, str]] = set()
    for path in (SRC / "pkr_pilot").rglob("*.py"):
        source = _top(_module_name(path))
        for target in _imports(path):
            if _top(target) not in (source, "pkr_pilot"):
                edges.add((source, _top(target)))
    return edges


def test_every_package_has_a_layer() -> None:
    packages = {_top(_module_name(p)) for p in (SRC / "pkr_pilot").rglob("*.py")} - {"pkr_pilot"}
    assert packages - set(LAYERS) == set(), "add the new module to LAYERS and to docs/architecture.md"


@pytest.mark.parametrize("edge", sorted(_edges()), ids=lambda e: f"{e[0]}->{e[1]}")
def test_imports_go_down_the_layers(edge: tuple[str, str]) -> None:
    source, target = edge
    assert LAYERS[target] <= LAYERS[source], f"{source} (layer {LAYERS[source]}) imports {target} (layer {LAYERS[target]})"
    assert edge not in FORBIDDEN


def test_the_invariants_are_what_the_layers_say() -> None:
    edges = _edges()
    assert not [e for e in edges if e[1] == "cli" and e[0] != "__main__"]  # the library never imports the CLI
    assert ("compile", "chain") not in edges
    token_layer = {"contracts", "tx", "journal", "evidence", "bulk", "ops", "disburse", "deploy", "reports", "sim", "bench"}
    assert not [e for e in edges if e[0] == "chain" and e[1] in token_layer]


def test_the_scan_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    # A function-local or relative import is found, so neither can hide a layering break.
    probe = tmp_path / "pkr_pilot" / "chain" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text("def f():\n    from ..cli import main\n    from pkr_pilot.tx import Sender\n", encoding="utf-8")
    assert _imports(probe, tmp_path) == {"pkr_pilot.cli", "pkr_pilot.tx"}


def _class_names(src: Path = SRC) -> dict[str, list[str]]:
    where: dict[str, list[str]] = {}
    for path in sorted((src / "pkr_pilot").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                where.setdefault(node.name, []).append(_module_name(path, src))
    return where


def test_one_name_one_thing_no_two_classes_share_a_name() -> None:
    # docs/architecture.md, "One name, one thing": a second `Check` or `Payment` is a second meaning.
    shared = {name: modules for name, modules in _class_names().items() if len(modules) > 1}
    assert shared == {}, f"classes of the same name in several modules (rename one): {shared}"


def test_the_name_scan_sees_a_class_defined_twice(tmp_path: Path) -> None:
    for module in ("a", "b"):
        path = tmp_path / "pkr_pilot" / f"{module}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("class Check:\n    pass\n", encoding="utf-8")
    assert _class_names(tmp_path)["Check"] == ["pkr_pilot.a", "pkr_pilot.b"]
