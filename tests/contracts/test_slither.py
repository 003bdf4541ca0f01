"""Static analysis: slither on the project's own compiler output, zero High or Medium findings.

slither reads the Hardhat build-info that ``pkr_pilot.compile`` writes (no second compile, the
pinned solc and settings). Its CLI only recognises a Hardhat project by a hardhat.config file, so
the test loads the build-info with crytic-compile, exports it, and runs the ``slither`` executable
on the export as a subprocess with ``slither.config.json`` (which documents every suppression).
Low and Informational findings are reported in the assertion message when something fails, and
counted in the test's output, but do not fail the build.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

FAILING_IMPACTS = ("High", "Medium")


@pytest.fixture(scope="module")
def slither_report(project: Any, compiled: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from crytic_compile import CryticCompile, save_to_zip

    root = project.paths.root
    work = tmp_path_factory.mktemp("slither")
    # Only the current build (a stale build-info would be analysed too).
    (work / "build" / "build-info").mkdir(parents=True)
    shutil.copy(compiled.build_info, work / "build" / "build-info" / compiled.build_info.name)
    unit = CryticCompile(
        str(root),
        compile_force_framework="hardhat",
        hardhat_ignore_compile=True,
        hardhat_artifacts_directory=str(work / "build"),
        npx_disable=True,
    )
    export = work / "pkr-pilot.zip"
    save_to_zip([unit], str(export))
    out = work / "slither.json"
    slither = Path(sys.executable).with_name("slither")
    proc = subprocess.run(
        [str(slither), str(export), "--config-file", str(root / "slither.config.json"), "--json", str(out)],
        cwd=root, capture_output=True, text=True, timeout=300, check=False,
    )
    assert out.exists(), f"slither wrote no report (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    report: dict[str, Any] = json.loads(out.read_text())
    report["_stderr"] = proc.stderr
    return report


def test_slither_ran_on_the_project_contracts(slither_report: dict[str, Any]) -> None:
    assert slither_report["success"], slither_report.get("error")
    assert "analyzed (" in slither_report["_stderr"]
    analysed = int(slither_report["_stderr"].rsplit("analyzed (", 1)[1].split()[0])
    assert analysed >= 10, slither_report["_stderr"][-2000:]


def test_no_high_or_medium_findings(slither_report: dict[str, Any]) -> None:
    findings = slither_report["results"].get("detectors", [])
    failing = [f for f in findings if f["impact"] in FAILING_IMPACTS]
    summary = Counter(f"{f['impact']}:{f['check']}" for f in findings)
    print(f"slither: {len(findings)} findings, none High/Medium: {dict(summary)}")
    assert not failing, "slither High/Medium findings (fix, or suppress with a reason):\n" + "\n".join(
        f"[{f['impact']}] {f['check']}: {f['description'].strip()}" for f in failing
    )
