"""The suite's own hygiene: helpers are shared through conftest.py and the pytest ``pythonpath`` (never by
editing ``sys.path``), and anvil is started through :class:`~pkr_pilot.chain.AnvilNode`, never by hand."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
SYS_PATH_EDIT = re.compile(r"sys\.path\.(insert|append)\(")
ANVIL_BY_HAND = re.compile(r"Popen\(\s*\[\s*str\(ANVIL\)|\[str\(ANVIL\),")


def test_no_test_edits_sys_path_or_starts_anvil_by_hand() -> None:
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        if path == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8")
        if SYS_PATH_EDIT.search(text) or ANVIL_BY_HAND.search(text):
            offenders.append(str(path.relative_to(TESTS)))
    assert offenders == []
