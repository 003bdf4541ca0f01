"""tools/solc/solc.cjs answers like native solc where our tools need it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from _compile_sandbox import Sandbox, make_sandbox


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    return make_sandbox(tmp_path / "proj", {})


def test_help_lists_combined_json_keys_like_native_solc(box: Sandbox) -> None:
    from solcx.main import _get_combined_json_outputs

    keys = _get_combined_json_outputs(box.root / "bin" / "solc").split(",")
    assert {"abi", "bin", "bin-runtime", "ast", "srcmap", "storage-layout", "hashes"} <= set(keys)


def test_unknown_option_is_reported_like_native_solc(box: Sandbox) -> None:
    from solcx.exceptions import UnknownOption
    from solcx.wrapper import solc_wrapper

    with pytest.raises(UnknownOption, match="'--bogus-flag'"):
        solc_wrapper(box.root / "bin" / "solc", bogus_flag=True)


def test_no_mode_is_a_usage_error(box: Sandbox) -> None:
    proc = subprocess.run([box.root / "bin" / "solc"], capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "--standard-json" in proc.stderr


def test_standard_json_reads_include_paths_and_nothing_outside_allowed_paths(
    box: Sandbox, tmp_path: Path
) -> None:
    outside = tmp_path / "outside" / "Secret.sol"
    outside.parent.mkdir()
    outside.write_text("pragma solidity 0.8.28; contract Secret {}\n")
    vendor = tmp_path / "vendor"
    (vendor / "lib").mkdir(parents=True)
    (vendor / "lib" / "V.sol").write_text("pragma solidity 0.8.28; contract V {}\n")
    sources = {
        "contracts/UsesVendor.sol": {"content": 'pragma solidity 0.8.28; import "lib/V.sol";\n'},
        "contracts/UsesOutside.sol": {"content": f'pragma solidity 0.8.28; import "{outside}";\n'},
    }
    input_json = {
        "language": "Solidity",
        "sources": sources,
        "settings": {"outputSelection": {"*": {"*": ["abi"]}}},
    }
    proc = subprocess.run(
        [
            box.root / "bin" / "solc",
            "--standard-json",
            "--base-path",
            box.root,
            "--include-path",
            vendor,
            "--allow-paths",
            box.root,
        ],
        input=json.dumps(input_json),
        capture_output=True,
        text=True,
        check=True,
    )
    output = json.loads(proc.stdout)
    errors = [e for e in output["errors"] if e["severity"] == "error"]
    assert len(errors) == 1  # none for UsesVendor: lib/V.sol was found through --include-path
    assert errors[0]["sourceLocation"]["file"] == "contracts/UsesOutside.sol"
    assert "File not found inside the base path or any of the include paths" in errors[0]["message"]


def test_version_answer_reads_like_native_solc_for_py_solc_x(box: Sandbox) -> None:
    from solcx.wrapper import get_version_str_from_solc_binary

    solc = box.root / "bin" / "solc"
    assert get_version_str_from_solc_binary(solc) == "0.8.28+commit.7893614a"
    out = subprocess.run([solc, "--version"], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [
        "solc, the solidity compiler commandline interface",
        "Version: 0.8.28+commit.7893614a.Emscripten.clang",
    ]


def test_version_is_answered_from_a_cache_that_a_replaced_compiler_invalidates(tmp_path: Path) -> None:
    """`--version` (asked before every compile by py-solc-x and ape-solidity) skips loading solc-js
    while soljson.js is the one that answered; a reinstalled compiler is asked again."""
    box = make_sandbox(tmp_path / "proj", {})
    package = box.root / "node_modules" / "solc"
    real = package.resolve()
    package.unlink()
    package.mkdir()
    for entry in real.iterdir():  # the package's files as links, its soljson.js a copy of its own
        if entry.name == "soljson.js":
            shutil.copy2(entry, package / entry.name)
        else:
            (package / entry.name).symlink_to(entry)
    solc = box.root / "bin" / "solc"
    cache = box.root / "node_modules" / ".cache" / "pkr-pilot-solc" / "version.json"

    def answer() -> str:
        out = subprocess.run([solc, "--version"], capture_output=True, text=True, check=True).stdout
        return out.splitlines()[1]

    real_answer = "Version: 0.8.28+commit.7893614a.Emscripten.clang"
    assert answer() == real_answer
    key = json.loads(cache.read_text())["key"]
    assert str(package / "soljson.js") in key
    cache.write_text(json.dumps({"key": key, "version": "0.0.1+planted"}))
    assert answer() == "Version: 0.0.1+planted"  # answered from the cache, solc-js not loaded
    os.utime(package / "soljson.js", (1_700_000_000, 1_700_000_000))  # another compiler file
    assert answer() == real_answer
    assert json.loads(cache.read_text())["version"] == real_answer.removeprefix("Version: ")
