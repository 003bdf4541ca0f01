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
    from test_token_state_machine import Stats

    if Stats.examples:
        rate = Stats.steps / Stats.seconds if Stats.seconds else 0.0
        terminalreporter.write_line(
            f"stateful property test ({Stats.profile} profile, {Stats.backend}): {Stats.examples} sequences, "
            f"{Stats.steps} steps ({Stats.reverted} reverted as the model predicted) in {Stats.seconds:.1f} s "
            f"= {rate:.0f} steps/s"
        )
