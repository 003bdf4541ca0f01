"""The README's "Deploy and operate" walkthrough runs as printed, in order, on a fresh node.

Every ``sh`` block of that section is read from README.md: an edit that breaks a command (a
renamed option, a wrong account, a step out of order) fails this test. ``text`` blocks are
reference snippets (a real network, the timelock) and are not run.

The commands run through the real entry point (``pkr_pilot.cli.main``) in a temporary copy of the
project. The lines are interpreted like a shell would for the small subset the README uses:
``NAME=value`` assignments, ``$NAME`` expansion with word splitting, ``;`` between commands and
``#`` comments; any other shell syntax, or a command that is not ``pkr-pilot``, fails the test. The
one mapping: ``pkr-pilot node`` starts in the background on a free port (not 8545, which another
node may hold), and the copy's ``localhost`` network points at that port.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import stop_process
from pkr_pilot.cli import main

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Deploy and operate, step by step"
#: The keystore password (the README: from PKR_PILOT_PASSWORD for automation); confirmations are answered "y".
PASSWORD = "walkthrough-password"  # noqa: S105 - a throw-away keystore in a temporary folder
AUDITOR_KEY = "0x" + "5a" * 32


@dataclass(frozen=True)
class Step:
    line: str
    argv: list[str]


def walkthrough(readme: str) -> list[Step]:
    """The commands of the section's ``sh`` blocks, variables expanded, in order."""
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    section = readme[start : end if end != -1 else len(readme)]
    variables: dict[str, str] = {}
    steps: list[Step] = []
    for block in re.findall(r"^```sh\n(.*?)^```", section, flags=re.S | re.M):
        for raw in block.splitlines():
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            unknown = re.findall(r"[|&<>`]|\$\(", raw.split("#", 1)[0])
            assert not unknown, f"README line uses shell syntax this test does not run: {raw!r}"
            expanded = re.sub(r"\$(\w+)", lambda m: variables[m.group(1)], raw)
            words = shlex.split(expanded, comments=True)
            for command in _split_on(words, ";"):
                if len(command) == 1 and re.fullmatch(r"[A-Z_]+=.*", command[0]):
                    name, value = command[0].split("=", 1)
                    variables[name] = value
                    continue
                assert command[0] == "pkr-pilot", f"README runs something other than pkr-pilot: {raw!r}"
                steps.append(Step(raw.strip(), command[1:]))
    return steps


def _split_on(words: list[str], separator: str) -> Iterator[list[str]]:
    current: list[str] = []
    for word in words:
        if word == separator:
            if current:
                yield current
            current = []
        else:
            current.append(word)
    if current:
        yield current


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _copy_project(dest: Path, port: int) -> None:
    dest.mkdir()
    toml = (ROOT / "pkr-pilot.toml").read_text()
    mapped = toml.replace('url = "http://127.0.0.1:8545"', f'url = "http://127.0.0.1:{port}"')
    assert mapped != toml, "pkr-pilot.toml no longer has the localhost network at 127.0.0.1:8545"
    (dest / "pkr-pilot.toml").write_text(mapped)
    for name in ("contracts", "node_modules", "package.json", "package-lock.json", "deploy", "bin", "tools"):
        (dest / name).symlink_to(ROOT / name)
    shutil.copytree(ROOT / "build", dest / "build")  # compile's cache: the walkthrough's compile starts no solc


@pytest.fixture
def node_process(tmp_path: Path, compiled: object) -> Iterator[tuple[Path, int, list[subprocess.Popen[bytes]]]]:
    port = _free_port()
    project = tmp_path / "project"
    _copy_project(project, port)
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield project, port, started
    finally:
        for proc in started:
            stop_process(proc, interrupt=True, timeout=15)  # what Ctrl-C does: the node saves its state and stops


def _start_node(project: Path, port: int, argv: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PKR_PILOT_ROOT": str(project), "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "pkr_pilot", *argv, "--port", str(port)], cwd=project, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        assert proc.poll() is None, "pkr-pilot node exited at start"
        time.sleep(0.2)
    raise AssertionError("pkr-pilot node did not start listening")


def test_the_readme_walkthrough_runs_as_printed(node_process, monkeypatch: pytest.MonkeyPatch) -> None:
    project, port, started = node_process
    steps = walkthrough((ROOT / "README.md").read_text())
    assert len(steps) >= 30, "the walkthrough lost its commands"
    monkeypatch.chdir(project)
    outputs: dict[str, str] = {}
    for step in steps:
        if step.argv[:1] == ["node"]:
            started.append(_start_node(project, port, step.argv))
            continue
        runner = CliRunner(mix_stderr=False)
        env = {"PKR_PILOT_ROOT": str(project), "PKR_PILOT_PASSWORD": PASSWORD, "PKR_PILOT_NETWORK": None,
               "PKR_PILOT_NETWORKS": None}
        # What the operator types at the prompts: the private key for `accounts import`, "y" to "Send?".
        answer = AUDITOR_KEY if step.argv[:2] == ["accounts", "import"] else "y"
        with runner.isolation(input=answer + "\n", env=env) as (out, err):
            code = main(step.argv)
            text, error = out.getvalue().decode(), err.getvalue().decode()
        assert code == 0, f"README step failed with exit {code}: {step.line}\n{text}\n{error}"
        outputs[step.line] = outputs.get(step.line, "") + text

    assert started, "the walkthrough no longer starts a node"
    deployed = json.loads(next(v for k, v in outputs.items() if "--json" in k and "deploy" in k))
    assert deployed["chainId"] == 31337
    desk = next(v for k, v in outputs.items() if k.startswith("pkr-pilot mint-approve"))
    assert "now: request #1 approvals 1/2, pending" in desk and "now: request #1 approvals 2/2, pending" in desk
    status = next(v for k, v in outputs.items() if k.startswith("pkr-pilot status"))
    assert re.search(r"collateralisation [\d,]+\.\d\d % \(reserves / supply\)", status)
    assert (project / "events.csv").is_file()


def test_the_walkthrough_parser_refuses_what_it_cannot_run() -> None:
    readme = f"{SECTION}\n\n```sh\nN=\"--network localhost\"\npkr-pilot status $N ;  pkr-pilot roles list $N\n```\n"
    assert [s.argv for s in walkthrough(readme)] == [["status", "--network", "localhost"],
                                                      ["roles", "list", "--network", "localhost"]]
    with pytest.raises(AssertionError, match="other than pkr-pilot"):
        walkthrough(f"{SECTION}\n\n```sh\nrm -rf build\n```\n")
    with pytest.raises(AssertionError, match="shell syntax"):
        walkthrough(f"{SECTION}\n\n```sh\npkr-pilot status | tee out\n```\n")
