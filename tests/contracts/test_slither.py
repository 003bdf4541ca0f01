"""Static analysis: slither on the project's own compiler output, zero High or Medium findings.

slither reads the Hardhat build-info that ``pkr_pilot.compile`` writes (no second compile, the
pinned solc and settings). Its CLI only recognises a Hardhat project by a hardhat.config file, so
the test loads the build-info with crytic-compile, exports it, and runs the ``slither`` executable
on the export as a subprocess with ``slither.config.json`` (which documents every suppression).
Low and Informational findings are counted in the test's output but do not fail the build. The
report is cached per build in build/test-cache (see _slither_run.py) and the first run starts in the
background as soon as collection ends (tests/conftest.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from _slither_bg import RUNNER, SLITHER_RUN, clean_env

FAILING_IMPACTS = ("High", "Medium")


@pytest.fixture(scope="module")
def slither_report(request: pytest.FixtureRequest, project: Any, compiled: Any) -> dict[str, Any]:
    """The report for the current build: from the cache, the background run, or a run now."""
    started = request.config.stash.get(SLITHER_RUN, None)
    if started is not None and started.build_info == compiled.build_info:
        started.process.wait(timeout=600)
    proc = subprocess.run(  # instant when the report is cached; runs slither otherwise
        [sys.executable, str(RUNNER), str(project.paths.root), str(compiled.build_info)],
        env=clean_env(), capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, f"slither could not run:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}"
    folder = Path(proc.stdout.strip().splitlines()[-1])
    report: dict[str, Any] = json.loads((folder / "slither.json").read_text())
    report["_stderr"] = (folder / "slither.stderr").read_text()
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
