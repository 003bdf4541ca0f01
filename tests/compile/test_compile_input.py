"""Standard-JSON input pieces that need no solc: import discovery, diagnostics, scanning."""

from __future__ import annotations

from pathlib import Path

from _compile_sandbox import OZ_CONTEXT, Sandbox, make_sandbox

from pkr_pilot.compile._imports import close_sources, find_imports, resolve_import
from pkr_pilot.compile._input import REMAPPINGS, format_diagnostic, line_col, scan_sources


def test_find_imports_reads_all_four_forms_and_ignores_comments_and_strings() -> None:
    source = """
    import "./a.sol";
    import './b.sol' as B;
    import * as C from "@openzeppelin/c.sol";
    import {D, E as F} from
        "../d.sol";
    // import "./commented.sol";
    /* import "./block.sol"; */
    string constant S = "import './in-a-string.sol';";
    function importer() {}
    """
    assert find_imports(source) == ["./a.sol", "./b.sol", "@openzeppelin/c.sol", "../d.sol"]


def test_resolve_import_handles_relative_paths_and_remappings() -> None:
    remap = list(REMAPPINGS)
    assert resolve_import("contracts/x/A.sol", "./B.sol", remap) == "contracts/x/B.sol"
    assert resolve_import("contracts/x/A.sol", "../lib/M.sol", remap) == "contracts/lib/M.sol"
    assert resolve_import("contracts/A.sol", "@openzeppelin/contracts/X.sol", remap) == (
        "node_modules/@openzeppelin/contracts/X.sol"
    )
    oz = "node_modules/@openzeppelin/contracts/token/ERC20/ERC20.sol"
    assert resolve_import(oz, "./IERC20.sol", remap) == (
        "node_modules/@openzeppelin/contracts/token/ERC20/IERC20.sol"
    )
    assert resolve_import("contracts/A.sol", "other/X.sol", remap) == "other/X.sol"


def test_resolve_import_prefers_longest_prefix_and_honours_context() -> None:
    remap = ["@oz/=a/", "@oz/special/=b/", "contracts/legacy:@oz/=old/"]
    assert resolve_import("contracts/A.sol", "@oz/special/X.sol", remap) == "b/X.sol"
    assert resolve_import("contracts/A.sol", "@oz/X.sol", remap) == "a/X.sol"
    assert resolve_import("contracts/legacy/A.sol", "@oz/X.sol", remap) == "old/X.sol"


def test_close_sources_adds_every_imported_file_once(tmp_path: Path) -> None:
    box: Sandbox = make_sandbox(
        tmp_path / "p",
        {
            "contracts/A.sol": 'import "./lib/M.sol";\nimport "@openzeppelin/contracts/utils/Context.sol";\n',
            "contracts/lib/M.sol": 'import "../A.sol";\nimport "./Missing.sol";\n',
        },
    )
    sources = scan_sources(box.project().paths)
    closed = close_sources(box.root, sources, REMAPPINGS)
    assert [s.unit for s in closed] == [
        "contracts/A.sol",
        "contracts/lib/M.sol",
        f"node_modules/{OZ_CONTEXT}",
    ]


def test_scan_sources_is_sorted_and_only_solidity(tmp_path: Path) -> None:
    box = make_sandbox(
        tmp_path / "p",
        {
            "contracts/z/Z.sol": "",
            "contracts/A.sol": "",
            "contracts/notes.md": "",
            "contracts/B.sol": "",
        },
    )
    assert [s.unit for s in scan_sources(box.project().paths)] == [
        "contracts/A.sol",
        "contracts/B.sol",
        "contracts/z/Z.sol",
    ]


def test_line_col_counts_characters_not_bytes() -> None:
    content = "first\nsé cond\nthird".encode()
    offset = content.index(b"cond")
    assert line_col(content, offset) == (2, 4)
    assert line_col(content, 0) == (1, 1)


def test_format_diagnostic_shapes() -> None:
    content = b"pragma solidity 0.8.28;\ncontract X { uint x = ; }\n"
    error = {
        "severity": "error",
        "type": "ParserError",
        "message": "Expected primary expression.",
        "sourceLocation": {"file": "contracts/X.sol", "start": content.index(b";", 30), "end": 0},
    }
    read = {"contracts/X.sol": content}.get
    assert format_diagnostic(error, read) == (
        "contracts/X.sol:2:23: error: ParserError: Expected primary expression."
    )
    warning = {"severity": "warning", "type": "Warning", "message": "Be careful."}
    assert format_diagnostic(warning, read) == "<solc>: warning: Be careful."
    unknown_file = {**error, "sourceLocation": {"file": "gone.sol", "start": 3}}
    assert format_diagnostic(unknown_file, read) == (
        "gone.sol: error: ParserError: Expected primary expression."
    )


def test_scan_sources_skips_hidden_folders_such_as_apes_cache(tmp_path: Path) -> None:
    box = make_sandbox(
        tmp_path / "p",
        {
            "contracts/A.sol": "",
            "contracts/.cache/openzeppelin/ERC20.sol": "",
        },
    )
    assert [s.unit for s in scan_sources(box.project().paths)] == ["contracts/A.sol"]
