"""The examples in src/'s docstrings are run: a docstring that shows a result shows the one the code gives.

(`derive_ref` showed a ref the function never returned, and nothing ran it.)
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


def _modules_with_examples() -> list[str]:
    names = []
    for path in sorted((SRC / "pkr_pilot").rglob("*.py")):
        if ">>> " in path.read_text(encoding="utf-8"):
            parts = list(path.relative_to(SRC).with_suffix("").parts)
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_the_modules_with_examples_are_found() -> None:
    assert {"pkr_pilot.disburse", "pkr_pilot.contracts._abi", "pkr_pilot.amounts"} <= set(_modules_with_examples())


@pytest.mark.parametrize("name", _modules_with_examples())
def test_docstring_examples_give_what_they_show(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False, report=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} docstring examples differ (python -m doctest -v)"
