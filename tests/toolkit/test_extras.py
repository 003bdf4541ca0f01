"""Optional features name the package extra that installs them when their dependency is missing."""

from __future__ import annotations

import sys

import pytest

from pkr_pilot.errors import ToolchainError, require_extra
from pkr_pilot.reports import charts


def test_a_missing_optional_dependency_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError

    with pytest.raises(ToolchainError, match=r"report charts need matplotlib") as caught:
        charts.transactions_per_day_chart([(1, 2)], title="t")

    assert caught.value.hint is not None and "pip install 'pkr-pilot[charts]'" in caught.value.hint


def test_an_installed_optional_dependency_passes() -> None:
    require_extra("json", extra="none", feature="nothing")
