"""Hypothesis profiles for the stateful property test, and its throughput in the pytest summary.

``default`` (``make test``): at least 100 sequences of 30 steps (the test raises lower settings).
``deep`` (``make fuzz``): 1,000 sequences of 50 steps.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "deep",
    max_examples=1_000,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per run of the stateful test, from the test's report (so also under xdist workers)."""
    for report in terminalreporter.stats.get("passed", []):
        stats = dict(getattr(report, "user_properties", ())).get("stateful_stats")
        if stats and stats["examples"]:
            rate = stats["steps"] / stats["seconds"] if stats["seconds"] else 0.0
            terminalreporter.write_line(
                f"stateful property test ({stats['profile']} profile, {stats['backend']}): {stats['examples']} sequences, "
                f"{stats['steps']} steps ({stats['reverted']} reverted as the model predicted) in {stats['seconds']:.1f} s "
                f"= {rate:.0f} steps/s"
            )
